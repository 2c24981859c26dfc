//! The connection test as a device would run it: a throwaway identity from the signer CA, the allow-list, the
//! endpoint and server trust, then mutual-TLS attempts with back-off (JITR turns the first one away) until one
//! publishes and receives. Every phase is reported with its timing as it happens; each attempt is one
//! `keyline_cloud::mqtt::test_connect` call.

use std::sync::Arc;
use std::time::Instant;

use keyline_cloud::mqtt::{test_connect, AttemptOutcome, ConnectReport, ConnectTest, Phase, ServerTrust};
use keyline_cloud::retry::Backoff;
use keyline_cloud::{allow_list, emulator, jitr, CloudSettings};
use serde::Serialize;

use crate::cloud::connect;
use crate::cloud_ops::normalise_settings;
use crate::{Error, Result, Station};

/// Connection attempts against the emulator before the test gives up (JITR usually needs two). Against AWS the
/// attempts span [`keyline_cloud::mqtt::JITR_WINDOW`], which covers Lambda's asynchronous retries
/// ([`default_attempts`]).
pub const DEFAULT_ATTEMPTS: u32 = 8;
/// The MQTT port devices use (443 with ALPN is the alternative).
pub const DEFAULT_PORT: u16 = 8883;

/// The attempts a test makes unless told otherwise: [`DEFAULT_ATTEMPTS`] against the emulator, enough to span
/// [`keyline_cloud::mqtt::JITR_WINDOW`] against AWS.
pub fn default_attempts(settings: &CloudSettings) -> u32 {
    if settings.emulator {
        DEFAULT_ATTEMPTS
    } else {
        keyline_cloud::mqtt::attempts_covering(keyline_cloud::mqtt::JITR_WINDOW, Backoff::CONNECT.first)
    }
}

/// Stops one connection test before its next attempt: the station's one cancellation token (each run gets its own;
/// clones share it), the same the provisioning runs take.
pub use keyline_board::CancelToken;

/// State of one phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PhaseState {
    /// Under way.
    Working,
    /// Finished well.
    Done,
    /// Turned away, as JITR does on the first connect (expected; the test retries).
    Refused,
    /// Failed.
    Failed,
}

/// One message of the test's stream; the UI reads `{event, data}`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "event", content = "data", rename_all = "camelCase")]
pub enum ConnectEvent {
    /// A phase started or ended. `key` is stable (`identity`, `allowList`, `endpoint`, `serverTrust`,
    /// `attempt`, `backoff`, `roundTrip`); `attempt` numbers the connection attempt.
    #[serde(rename_all = "camelCase")]
    Phase {
        /// Stable phase id the UI translates.
        key: &'static str,
        /// Connection attempt (1-based) for `attempt` and `backoff`, else 0.
        attempt: u32,
        /// Where it stands.
        state: PhaseState,
        /// Time spent, when it ended.
        millis: u64,
        /// The outcome in words (from the MQTT client or AWS).
        detail: String,
    },
}

/// What to test.
#[derive(Debug, Clone)]
pub struct ConnectionTestRequest {
    /// Where to connect (blank fields and the emulator's defaults are normalised here).
    pub settings: CloudSettings,
    /// The signer CA in the store that issues the throwaway device certificate.
    pub ca: String,
    /// Device serial; random when `None` or blank.
    pub serial: Option<String>,
    /// Put the serial on the allow-list first.
    pub allow_list: bool,
    /// `HOST:PORT` to dial instead of the endpoint (the emulator's MQTT listener for the emulator by default).
    pub mqtt_endpoint: Option<String>,
    /// MQTT port of the endpoint: 8883, or 443 with ALPN.
    pub port: u16,
    /// Connection attempts before giving up.
    pub attempts: u32,
    /// Server trust anchors (PEM) instead of the system roots; for the emulator its broker CA is fetched.
    pub server_ca_pem: Option<String>,
    /// Topic prefix of the device policy.
    pub topic_prefix: String,
    /// Stops the test before its next attempt.
    pub cancel: CancelToken,
}

impl ConnectionTestRequest {
    /// A request with the defaults: port 8883, [`default_attempts`], the server trust of the settings, the default
    /// topic prefix and a fresh cancel token.
    pub fn new(settings: CloudSettings, ca: impl Into<String>) -> Self {
        Self {
            attempts: default_attempts(&settings),
            settings,
            ca: ca.into(),
            serial: None,
            allow_list: false,
            mqtt_endpoint: None,
            port: DEFAULT_PORT,
            server_ca_pem: None,
            topic_prefix: jitr::policy::DEFAULT_TOPIC_PREFIX.to_string(),
            cancel: CancelToken::new(),
        }
    }
}

struct Stream<F> {
    on_event: F,
}

impl<F: FnMut(ConnectEvent)> Stream<F> {
    fn send(&mut self, key: &'static str, attempt: u32, state: PhaseState, started: Instant, detail: impl Into<String>) {
        let millis = if state == PhaseState::Working { 0 } else { started.elapsed().as_millis() as u64 };
        (self.on_event)(ConnectEvent::Phase { key, attempt, state, millis, detail: detail.into() });
    }

    /// Runs one phase: announces it, then reports how it ended.
    async fn phase<T>(
        &mut self,
        key: &'static str,
        work: impl std::future::Future<Output = Result<T>>,
        done: impl FnOnce(&T) -> String,
    ) -> Result<T> {
        let started = Instant::now();
        self.send(key, 0, PhaseState::Working, started, "");
        match work.await {
            Ok(value) => {
                self.send(key, 0, PhaseState::Done, started, done(&value));
                Ok(value)
            }
            Err(error) => {
                self.send(key, 0, PhaseState::Failed, started, error.to_string());
                Err(error)
            }
        }
    }
}

/// Whether the test failed because the server's certificate was not trusted (not because of the device).
pub fn server_untrusted(report: &ConnectReport) -> bool {
    report.attempts.iter().any(|attempt| matches!(attempt, AttemptOutcome::ServerNotTrusted(_)))
}

/// Runs the connection test and returns the whole report; phases stream on `on_event` as they happen.
/// With `allow_list` the test serial is put on the CA's allow-list first (the Lambda leaves unknown devices INACTIVE).
/// A test that never gets to publish is still `Ok`: check `connected` and `roundTrip`.
/// The request's [`CancelToken`] stops it before its next attempt.
pub async fn run_connection_test(
    station: Arc<Station>,
    request: ConnectionTestRequest,
    on_event: impl FnMut(ConnectEvent) + Send,
) -> Result<ConnectReport> {
    let ConnectionTestRequest { settings, ca, serial, allow_list, mqtt_endpoint, port, attempts: max_attempts, server_ca_pem, topic_prefix, cancel } =
        request;
    let settings = normalise_settings(settings);
    let mut stream = Stream { on_event };
    let ctx = connect(&settings).await?;
    let serial = serial.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let signer = ca.clone();
    let issuer = station.clone();
    let device = stream
        .phase(
            "identity",
            async move {
                tokio::task::spawn_blocking(move || issuer.cloud_device_identity(&signer, serial.as_deref()))
                    .await
                    .map_err(|e| Error::TaskFailed { operation: "connection test", detail: e.to_string() })?
            },
            |d| format!("serial {}, certificate {}", d.serial, &d.certificate_id[..16]),
        )
        .await?;
    if allow_list {
        let serial = device.serial.clone();
        let ca_id = station.cloud_ca_id(&ca)?;
        stream
            .phase("allowList", async { Ok(allow_list::add(&ctx, &ca_id, &serial).await?) }, |_| format!("{serial} allowed"))
            .await?;
    }
    let endpoint = stream.phase("endpoint", async { Ok(ctx.data_ats_endpoint().await?) }, |e| e.clone()).await?;
    let server_trust = stream
        .phase(
            "serverTrust",
            async {
                match (server_ca_pem, settings.emulator, settings.endpoint_url.as_deref()) {
                    (Some(pem), _, _) => Ok(ServerTrust::Pem(pem)),
                    (None, true, Some(url)) => Ok(emulator::fetch_broker_ca(url).await.map(ServerTrust::Pem)?),
                    _ => Ok(ServerTrust::System),
                }
            },
            |trust| match trust {
                ServerTrust::Pem(_) if settings.emulator => "the emulator's broker CA".to_string(),
                ServerTrust::Pem(_) => "the given server CA".to_string(),
                ServerTrust::System => "the operating system's root certificates".to_string(),
            },
        )
        .await?;
    let mqtt_endpoint = mqtt_endpoint
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .or_else(|| settings.emulator.then(emulator::default_mqtt_endpoint));
    let test = ConnectTest {
        endpoint,
        port,
        address_override: mqtt_endpoint,
        chain_pems: vec![station.cloud_ca_cert_pem(&ca)?],
        device,
        server_trust,
        max_attempts: 1,
        first_backoff: Backoff::CONNECT.first,
        topic_prefix,
    };
    let report = attempts(&mut stream, &test, max_attempts.max(1), &cancel).await?;
    tracing::info!(ca = %ca, serial = %report.serial, connected = report.connected, round_trip = report.round_trip,
        attempts = report.attempts.len(), "connection test finished");
    Ok(report)
}

/// Connects until CONNACK (then publishes and receives) or the attempts run out, streaming each attempt.
async fn attempts<F: FnMut(ConnectEvent)>(
    stream: &mut Stream<F>,
    test: &ConnectTest,
    max_attempts: u32,
    cancel: &CancelToken,
) -> Result<ConnectReport> {
    let mut total = ConnectReport {
        endpoint: test.endpoint.clone(),
        address: String::new(),
        serial: test.device.serial.clone(),
        certificate_id: test.device.certificate_id.clone(),
        attempts: Vec::new(),
        connected: false,
        round_trip: false,
        phases: Vec::new(),
    };
    let mut delays = Backoff::CONNECT.delays();
    for attempt in 1..=max_attempts {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled { operation: "connection test" });
        }
        let started = Instant::now();
        stream.send("attempt", attempt, PhaseState::Working, started, "");
        let one = test_connect(test).await?;
        total.address = one.address.clone();
        let outcome = one.attempts.first().cloned().unwrap_or(AttemptOutcome::ClosedWithoutConnack("no attempt was made".into()));
        let connect_phase = one.phases.first().cloned().unwrap_or(Phase { name: String::new(), millis: 0, detail: String::new() });
        let state = match outcome {
            AttemptOutcome::Connected => PhaseState::Done,
            AttemptOutcome::ServerNotTrusted(_) => PhaseState::Failed,
            _ => PhaseState::Refused,
        };
        let untrusted = matches!(outcome, AttemptOutcome::ServerNotTrusted(_));
        stream.send("attempt", attempt, state, started, connect_phase.detail.clone());
        total.phases.push(Phase { name: format!("connect attempt {attempt}"), ..connect_phase });
        total.attempts.push(outcome);
        if one.connected {
            total.connected = true;
            total.round_trip = one.round_trip;
            if let Some(round_trip) = one.phases.get(1) {
                let state = if one.round_trip { PhaseState::Done } else { PhaseState::Failed };
                (stream.on_event)(ConnectEvent::Phase {
                    key: "roundTrip",
                    attempt,
                    state,
                    millis: round_trip.millis as u64,
                    detail: round_trip.detail.clone(),
                });
                total.phases.push(round_trip.clone());
            }
            return Ok(total);
        }
        if untrusted {
            // Another attempt meets the same certificate: stop and let the caller say which trust to pass.
            return Ok(total);
        }
        if attempt < max_attempts {
            let backoff = delays.next().unwrap_or(Backoff::CONNECT.max);
            let waited = Instant::now();
            stream.send("backoff", attempt, PhaseState::Working, waited, format!("{} ms", backoff.as_millis()));
            tokio::time::sleep(backoff).await;
            stream.send("backoff", attempt, PhaseState::Done, waited, format!("{} ms", backoff.as_millis()));
        }
    }
    Ok(total)
}
