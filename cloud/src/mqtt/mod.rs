//! The connection test: behave like a real device. Connect over MQTT with mutual TLS (device certificate plus CA
//! chain, SNI = the account's `iot:Data-ATS` endpoint), expect JITR to close the first connection, retry with
//! exponential back-off until the certificate is activated, then publish to and receive from the own topic.

mod identity;
mod relay;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::tokio_rustls::rustls;
use rumqttc::{AsyncClient, ConnectionError, Event, MqttOptions, Packet, Proxy, ProxyAuth, ProxyType, QoS, TlsConfiguration, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

pub use identity::{issue_device_identity, issue_device_identity_with, random_serial, DeviceIdentity};

use crate::error::{display_chain, CloudError, Result};
use crate::retry::Backoff;

/// Which server certificates to trust.
#[derive(Debug, Clone)]
pub enum ServerTrust {
    /// The operating system's roots (Amazon Root CA 1 for AWS IoT).
    System,
    /// These PEM roots only (e.g. ministack's Local CA from `/_ministack/iot/ca.pem`).
    Pem(String),
}

/// How to run the test.
#[derive(Debug, Clone)]
pub struct ConnectTest {
    /// The `iot:Data-ATS` endpoint host name, sent as SNI and verified in the server certificate.
    pub endpoint: String,
    /// The MQTT port: 8883, or 443 (then ALPN `x-amzn-mqtt-ca` is offered, as AWS IoT requires there).
    pub port: u16,
    /// Where to connect instead of `endpoint:port` (keeps `endpoint` as SNI), e.g. `127.0.0.1:8883`.
    pub address_override: Option<String>,
    /// The device identity.
    pub device: DeviceIdentity,
    /// CA certificates (PEM) sent after the device certificate, signer first.
    pub chain_pems: Vec<String>,
    /// Server trust anchors.
    pub server_trust: ServerTrust,
    /// Connection attempts in total.
    pub max_attempts: u32,
    /// Wait after the first refused attempt; doubles each time up to [`Backoff::CONNECT`]'s ceiling.
    pub first_backoff: Duration,
    /// Topic prefix of the device policy (`<prefix>/<serial>/test`).
    pub topic_prefix: String,
}

/// How one connection attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// CONNACK 0.
    Connected,
    /// CONNACK with a refusal code (e.g. not authorized).
    Refused(String),
    /// Closed before any CONNACK, as JITR does for a just-registered certificate.
    ClosedWithoutConnack(String),
    /// The TLS handshake refused the server's certificate: its issuer is not among the trusted roots (an emulator's
    /// broker CA checked against the system roots). Retrying does not help.
    ServerNotTrusted(String),
}

/// One timed phase of the test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Phase {
    /// What happened ("connect attempt 1", "publish and receive", …).
    pub name: String,
    /// How long it took.
    pub millis: u128,
    /// The outcome in words.
    pub detail: String,
}

/// The test's result. `connected && round_trip` means the device works end to end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ConnectReport {
    /// The SNI / endpoint name.
    pub endpoint: String,
    /// The address actually dialled.
    pub address: String,
    /// Device serial (client id, thing name).
    pub serial: String,
    /// Device certificate id.
    pub certificate_id: String,
    /// Each attempt's outcome, in order.
    pub attempts: Vec<AttemptOutcome>,
    /// Whether any attempt got CONNACK 0.
    pub connected: bool,
    /// Whether a message published to the own topic came back.
    pub round_trip: bool,
    /// Timed phases.
    pub phases: Vec<Phase>,
}

impl ConnectReport {
    /// True when the first attempt was turned away (JITR closes the first connection of a new certificate).
    pub fn first_attempt_turned_away(&self) -> bool {
        self.attempts.first().is_some_and(|a| *a != AttemptOutcome::Connected)
    }
}

/// Longest wait between attempts ([`Backoff::CONNECT`]'s ceiling).
pub const MAX_BACKOFF: Duration = Backoff::CONNECT.max;

/// How long a connection test against AWS keeps trying: Lambda retries a failed asynchronous invocation twice,
/// about one and three minutes after it (for example while a fresh role's policy propagates), so a correct deploy
/// can take that long to activate a device.
pub const JITR_WINDOW: Duration = Duration::from_secs(210);

/// The number of attempts whose back-off (from `first_backoff`, doubling up to [`MAX_BACKOFF`]) spans `window`.
pub fn attempts_covering(window: Duration, first_backoff: Duration) -> u32 {
    let mut waited = Duration::ZERO;
    let mut delays = Backoff { first: first_backoff.max(Duration::from_millis(1)), ..Backoff::CONNECT }.delays();
    let mut attempts = 1;
    while waited < window {
        waited += delays.next().unwrap_or(MAX_BACKOFF);
        attempts += 1;
    }
    attempts
}

/// Runs the connection test. Returns a report even when the device never connects; check `connected`.
pub async fn test_connect(test: &ConnectTest) -> Result<ConnectReport> {
    let tls = Arc::new(client_config(test)?);
    let relay = match &test.address_override {
        Some(target) => Some(relay::AddressRelay::start(target.clone()).await.map_err(|e| CloudError::ConnectionTest {
            phase: "starting the local address relay",
            detail: e.to_string(),
        })?),
        None => None,
    };
    let mut report = ConnectReport {
        endpoint: test.endpoint.clone(),
        address: test.address_override.clone().unwrap_or_else(|| format!("{}:{}", test.endpoint, test.port)),
        serial: test.device.serial.clone(),
        certificate_id: test.device.certificate_id.clone(),
        attempts: Vec::new(),
        connected: false,
        round_trip: false,
        phases: Vec::new(),
    };
    let mut delays = Backoff { first: test.first_backoff, ..Backoff::CONNECT }.delays();
    for attempt in 1..=test.max_attempts.max(1) {
        let started = Instant::now();
        let options = mqtt_options(test, tls.clone(), relay.as_ref());
        let (client, mut events) = AsyncClient::new(options, 16);
        let outcome = await_connack(&mut events).await;
        report.phases.push(Phase { name: format!("connect attempt {attempt}"), millis: started.elapsed().as_millis(), detail: describe(&outcome) });
        report.attempts.push(outcome.clone());
        if outcome == AttemptOutcome::Connected {
            report.connected = true;
            let started = Instant::now();
            let result = round_trip(test, &client, &mut events).await;
            report.round_trip = result.is_ok();
            report.phases.push(Phase {
                name: "publish and receive".into(),
                millis: started.elapsed().as_millis(),
                detail: result.err().unwrap_or_else(|| "message came back on the own topic".into()),
            });
            let _ = client.disconnect().await;
            let _ = tokio::time::timeout(Duration::from_secs(2), events.poll()).await;
            break;
        }
        drop(client);
        if attempt < test.max_attempts {
            tokio::time::sleep(delays.next().unwrap_or(Backoff::CONNECT.max)).await;
        }
    }
    Ok(report)
}

fn describe(outcome: &AttemptOutcome) -> String {
    match outcome {
        AttemptOutcome::Connected => "CONNACK accepted".into(),
        AttemptOutcome::Refused(code) => format!("CONNACK refused: {code}"),
        AttemptOutcome::ClosedWithoutConnack(why) => format!("closed without CONNACK ({why})"),
        AttemptOutcome::ServerNotTrusted(why) => format!("the server's certificate is not trusted ({why})"),
    }
}

fn mqtt_options(test: &ConnectTest, tls: Arc<rustls::ClientConfig>, relay: Option<&relay::AddressRelay>) -> MqttOptions {
    let mut options = MqttOptions::new(test.device.serial.clone(), test.endpoint.clone(), test.port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_clean_session(true);
    options.set_transport(Transport::Tls(TlsConfiguration::Rustls(tls)));
    if let Some(relay) = relay {
        options.set_proxy(Proxy { ty: ProxyType::Http, auth: ProxyAuth::None, addr: relay.local.ip().to_string(), port: relay.local.port() });
    }
    options
}

async fn await_connack(events: &mut rumqttc::EventLoop) -> AttemptOutcome {
    let deadline = Duration::from_secs(15);
    let result = tokio::time::timeout(deadline, async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return AttemptOutcome::Connected,
                Ok(_) => continue,
                Err(ConnectionError::ConnectionRefused(code)) => return AttemptOutcome::Refused(format!("{code:?}")),
                Err(err) if server_untrusted(&err) => return AttemptOutcome::ServerNotTrusted(display_chain(&err)),
                Err(err) => return AttemptOutcome::ClosedWithoutConnack(display_chain(&err)),
            }
        }
    })
    .await;
    result.unwrap_or_else(|_| AttemptOutcome::ClosedWithoutConnack(format!("no CONNACK within {deadline:?}")))
}

/// True when the error's source chain holds rustls' `UnknownIssuer` (found by type, also inside `io::Error`s).
fn server_untrusted(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(error) = next {
        if let Some(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)) = error.downcast_ref::<rustls::Error>() {
            return true;
        }
        if let Some(inner) = error.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if server_untrusted(inner) {
                return true;
            }
        }
        next = error.source();
    }
    false
}

async fn round_trip(test: &ConnectTest, client: &AsyncClient, events: &mut rumqttc::EventLoop) -> Result<(), String> {
    let topic = format!("{}/{}/test", test.topic_prefix, test.device.serial);
    let nonce = format!("keyline-test-{}", &test.device.certificate_id[..16]);
    client.subscribe(&topic, QoS::AtLeastOnce).await.map_err(|e| e.to_string())?;
    let mut published = false;
    let outcome = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    if ack.return_codes.iter().any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure)) {
                        return Err(format!("subscription to {topic} refused"));
                    }
                    if !published {
                        client.publish(&topic, QoS::AtLeastOnce, false, nonce.clone()).await.map_err(|e| e.to_string())?;
                        published = true;
                    }
                }
                Ok(Event::Incoming(Packet::Publish(message))) if message.topic == topic && message.payload == nonce.as_bytes() => {
                    return Ok(());
                }
                Ok(_) => continue,
                Err(err) => return Err(format!("connection lost: {}", display_chain(&err))),
            }
        }
    })
    .await;
    outcome.unwrap_or_else(|_| Err(format!("the message to {topic} did not come back within 15 s")))
}

fn client_config(test: &ConnectTest) -> Result<rustls::ClientConfig> {
    let tls_error = |detail: String| CloudError::ConnectionTest { phase: "preparing TLS", detail };
    let mut roots = rustls::RootCertStore::empty();
    match &test.server_trust {
        ServerTrust::System => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
        }
        ServerTrust::Pem(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots.add(cert.map_err(|e| tls_error(e.to_string()))?).map_err(|e| tls_error(e.to_string()))?;
            }
        }
    }
    if roots.is_empty() {
        return Err(tls_error("no trusted server root certificates".into()));
    }
    let mut chain = vec![CertificateDer::from_pem_slice(test.device.cert_pem.as_bytes()).map_err(|e| tls_error(e.to_string()))?];
    for pem in &test.chain_pems {
        chain.push(CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| tls_error(e.to_string()))?);
    }
    let key = PrivateKeyDer::from_pem_slice(test.device.key_pem.as_bytes()).map_err(|e| tls_error(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(e.to_string()))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| tls_error(e.to_string()))?;
    if test.port == 443 {
        config.alpn_protocols = vec![AWS_IOT_MQTT_ALPN.to_vec()];
    }
    Ok(config)
}

/// ALPN protocol AWS IoT expects for MQTT with client certificates on port 443.
const AWS_IOT_MQTT_ALPN: &[u8] = b"x-amzn-mqtt-ca";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attempts_cover_lambdas_asynchronous_retries() {
        let attempts = attempts_covering(JITR_WINDOW, Duration::from_secs(1));
        let mut waited = Duration::ZERO;
        let mut backoff = Duration::from_secs(1);
        for _ in 1..attempts {
            waited += backoff;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        assert!(waited >= Duration::from_secs(180), "{attempts} attempts wait {waited:?}");
        assert_eq!(attempts_covering(Duration::ZERO, Duration::from_secs(1)), 1);
    }
}
