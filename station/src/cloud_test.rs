//! The connection test as a device would run it: a throwaway identity from the signer CA, the allow-list, the
//! endpoint and server trust, then mutual-TLS attempts with back-off (JITR turns the first one away) until one
//! publishes and receives. Every phase is reported with its timing as it happens; each attempt is one
//! `keyline_cloud::mqtt::test_connect` call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keyline_cloud::mqtt::{test_connect, AttemptOutcome, ConnectReport, ConnectTest, Phase, ServerTrust};
use keyline_cloud::{allow_list, emulator, jitr, CloudSettings};
use serde::Serialize;

use crate::cloud::{cloud_report, connect};
use crate::{ErrorReport, Station};

/// The local emulator's MQTT listener when nothing else is said.
pub const EMULATOR_MQTT_ENDPOINT: &str = "127.0.0.1:8883";
/// Connection attempts against the emulator before the test gives up (JITR usually needs two). Against AWS the
/// attempts span [`keyline_cloud::mqtt::JITR_WINDOW`], which covers Lambda's asynchronous retries.
const EMULATOR_ATTEMPTS: u32 = 8;
/// Wait after the first refused attempt; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = keyline_cloud::mqtt::MAX_BACKOFF;

/// Bumped by [`cancel_connection_tests`]; a running test stops when it sees a newer value than it started with.
static CANCEL_GENERATION: AtomicU64 = AtomicU64::new(0);

/// Stops every running connection test before its next attempt.
pub fn cancel_connection_tests() {
    CANCEL_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// State of one phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    /// Where to connect (already normalised by the caller).
    pub settings: CloudSettings,
    /// The signer CA in the store that issues the throwaway device certificate.
    pub ca: String,
    /// Device serial; random when `None` or blank.
    pub serial: Option<String>,
    /// Put the serial on the allow-list first.
    pub allow_list: bool,
    /// `HOST:PORT` to dial instead of the endpoint ([`EMULATOR_MQTT_ENDPOINT`] for the emulator by default).
    pub mqtt_endpoint: Option<String>,
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
        work: impl std::future::Future<Output = Result<T, ErrorReport>>,
        done: impl FnOnce(&T) -> String,
    ) -> Result<T, ErrorReport> {
        let started = Instant::now();
        self.send(key, 0, PhaseState::Working, started, "");
        match work.await {
            Ok(value) => {
                self.send(key, 0, PhaseState::Done, started, done(&value));
                Ok(value)
            }
            Err(report) => {
                self.send(key, 0, PhaseState::Failed, started, report.message.clone());
                Err(report)
            }
        }
    }
}

/// Runs the connection test and returns the whole report; phases stream on `on_event` as they happen.
/// With `allow_list` the test serial is put on the CA's allow-list first (the Lambda leaves unknown devices INACTIVE).
/// A test that never gets to publish is still `Ok`: check `connected` and `roundTrip`.
/// [`cancel_connection_tests`] stops it before its next attempt.
pub async fn run_connection_test(
    station: Arc<Station>,
    request: ConnectionTestRequest,
    on_event: impl FnMut(ConnectEvent) + Send,
) -> Result<ConnectReport, ErrorReport> {
    let ConnectionTestRequest { settings, ca, serial, allow_list, mqtt_endpoint } = request;
    let generation = CANCEL_GENERATION.load(Ordering::SeqCst);
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
                    .map_err(|e| task_failed(e.to_string()))?
            },
            |d| format!("serial {}, certificate {}", d.serial, &d.certificate_id[..16]),
        )
        .await?;
    if allow_list {
        let serial = device.serial.clone();
        let ca_id = station.cloud_ca_id(&ca)?;
        stream
            .phase("allowList", async { allow_list::add(&ctx, &ca_id, &serial).await.map_err(cloud_report) }, |_| format!("{serial} allowed"))
            .await?;
    }
    let endpoint = stream.phase("endpoint", async { ctx.data_ats_endpoint().await.map_err(cloud_report) }, |e| e.clone()).await?;
    let server_trust = stream
        .phase(
            "serverTrust",
            async {
                match (settings.emulator, settings.endpoint_url.as_deref()) {
                    (true, Some(url)) => emulator::fetch_broker_ca(url).await.map(ServerTrust::Pem).map_err(cloud_report),
                    _ => Ok(ServerTrust::System),
                }
            },
            |trust| match trust {
                ServerTrust::Pem(_) => "the emulator's broker CA".to_string(),
                ServerTrust::System => "the operating system's root certificates".to_string(),
            },
        )
        .await?;
    let mqtt_endpoint = mqtt_endpoint
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .or_else(|| settings.emulator.then(|| EMULATOR_MQTT_ENDPOINT.to_string()));
    let test = ConnectTest {
        endpoint,
        port: 8883,
        address_override: mqtt_endpoint,
        chain_pems: vec![station.cloud_ca_cert_pem(&ca)?],
        device,
        server_trust,
        max_attempts: 1,
        first_backoff: FIRST_BACKOFF,
        topic_prefix: jitr::policy::DEFAULT_TOPIC_PREFIX.to_string(),
    };
    let max_attempts = if settings.emulator { EMULATOR_ATTEMPTS } else { keyline_cloud::mqtt::attempts_covering(keyline_cloud::mqtt::JITR_WINDOW, FIRST_BACKOFF) };
    let report = attempts(&mut stream, &test, max_attempts, generation).await?;
    tracing::info!(ca = %ca, serial = %report.serial, connected = report.connected, round_trip = report.round_trip,
        attempts = report.attempts.len(), "connection test finished");
    Ok(report)
}

/// Connects until CONNACK (then publishes and receives) or the attempts run out, streaming each attempt.
async fn attempts<F: FnMut(ConnectEvent)>(stream: &mut Stream<F>, test: &ConnectTest, max_attempts: u32, generation: u64) -> Result<ConnectReport, ErrorReport> {
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
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=max_attempts {
        if CANCEL_GENERATION.load(Ordering::SeqCst) != generation {
            return Err(cancelled());
        }
        let started = Instant::now();
        stream.send("attempt", attempt, PhaseState::Working, started, "");
        let one = test_connect(test).await.map_err(cloud_report)?;
        total.address = one.address.clone();
        let outcome = one.attempts.first().cloned().unwrap_or(AttemptOutcome::ClosedWithoutConnack("no attempt was made".into()));
        let connect_phase = one.phases.first().cloned().unwrap_or(Phase { name: String::new(), millis: 0, detail: String::new() });
        let state = if outcome == AttemptOutcome::Connected { PhaseState::Done } else { PhaseState::Refused };
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
        if attempt < max_attempts {
            let waited = Instant::now();
            stream.send("backoff", attempt, PhaseState::Working, waited, format!("{} ms", backoff.as_millis()));
            tokio::time::sleep(backoff).await;
            stream.send("backoff", attempt, PhaseState::Done, waited, format!("{} ms", backoff.as_millis()));
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
    Ok(total)
}

fn task_failed(detail: String) -> ErrorReport {
    ErrorReport {
        code: "task_failed".into(),
        message: format!("the connection test's background task stopped unexpectedly: {detail}"),
        hint: "Try again; if it keeps failing, download the log panel's lines and report them.".into(),
    }
}

fn cancelled() -> ErrorReport {
    ErrorReport {
        code: "cancelled".into(),
        message: "the connection test was cancelled before it finished".into(),
        hint: "Run the test again when you are ready; a certificate it registered stays in AWS IoT.".into(),
    }
}
