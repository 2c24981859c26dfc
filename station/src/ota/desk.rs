//! OTA for the desktop: the embedded server run in the background while the app is open, a target
//! (that server or a remote rainbowtype server), its live device list, and a cancellable push.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use keyline_ota::client::PushEvent;
use keyline_ota::tls::TlsIdentity;
use keyline_ota::tokio::sync::oneshot;
use serde::{Deserialize, Serialize};

use super::service::{BlockingClient, PushReport, ServeOptions, TlsFiles};
use crate::provision::CancelToken;
use crate::{Error, Result, Station};

/// The CN of the desktop's own operator certificate for the embedded server (issued in memory).
pub const DESKTOP_CLIENT_CN: &str = "keyline-desktop";
/// How long a device list request may take.
const LIST_TIMEOUT: Duration = Duration::from_secs(10);

/// How the operator starts the embedded server.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct EmbeddedServerSettings {
    /// Address to listen on, e.g. `127.0.0.1:3000` or `0.0.0.0:3000` (port 0 picks a free one).
    pub listen: String,
    /// Project CA (unlocked): issues the server certificate, and every peer must chain to it.
    pub ca: String,
    /// Extra names or IPs for the server certificate (the listen IP, localhost and 127.0.0.1 are always in).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Largest image accepted, bytes (default 2 MiB − 18).
    #[serde(default)]
    pub max_upload: Option<usize>,
}

/// The running embedded server, as the OTA screen shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct EmbeddedServerInfo {
    /// `https://127.0.0.1:PORT`: what this app's client connects to.
    pub url: String,
    /// The bound address (devices connect to its IP).
    pub address: String,
    /// The project CA peers must chain to.
    pub ca: String,
    /// Names in the server certificate.
    pub hosts: Vec<String>,
}

/// The embedded server on its own thread; stopped by [`EmbeddedServer::stop`] or when dropped.
pub struct EmbeddedServer {
    info: EmbeddedServerInfo,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<()>>>,
}

impl EmbeddedServer {
    /// Issues a server certificate from the unlocked CA and starts listening; returns once bound.
    pub fn start(station: Arc<Station>, settings: &EmbeddedServerSettings) -> Result<EmbeddedServer> {
        let listen: SocketAddr = settings.listen.trim().parse().map_err(|_| Error::InvalidInput {
            what: "listen address".into(),
            reason: format!("\"{}\" is not IP:PORT, e.g. 0.0.0.0:3000", settings.listen),
        })?;
        let mut hosts = Vec::<String>::new();
        let listen_ip = (!listen.ip().is_unspecified()).then(|| listen.ip().to_string());
        for host in listen_ip.iter().map(String::as_str).chain(["localhost", "127.0.0.1"]).chain(settings.hosts.iter().map(|h| h.trim())).filter(|h| !h.is_empty()) {
            if !hosts.iter().any(|known| known == host) {
                hosts.push(host.to_owned());
            }
        }
        let identity = Arc::new(station.ephemeral_server_identity(&settings.ca, &hosts)?);
        let options = ServeOptions { listen, identity, ca: settings.ca.clone(), max_upload: settings.max_upload.unwrap_or(super::DEFAULT_MAX_UPLOAD) };
        let (ready_tx, ready_rx) = mpsc::channel();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("keyline-ota-server".into())
            .spawn(move || {
                station.serve_ota(&options, move |address| {
                    let _ = ready_tx.send(address);
                }, async {
                    let _ = stopped.await;
                })
            })
            .map_err(|e| Error::io("cannot start the OTA server thread", "thread", e))?;
        match ready_rx.recv_timeout(Duration::from_secs(20)) {
            Ok(address) => {
                let host = if address.ip().is_unspecified() { "127.0.0.1".to_owned() } else { address.ip().to_string() };
                let url = if host.contains(':') { format!("https://[{host}]:{}", address.port()) } else { format!("https://{host}:{}", address.port()) };
                let info = EmbeddedServerInfo { url, address: address.to_string(), ca: settings.ca.clone(), hosts };
                tracing::info!(url = %info.url, ca = %info.ca, "embedded OTA server started");
                Ok(EmbeddedServer { info, shutdown: Some(shutdown), thread: Some(thread) })
            }
            // The thread ended without binding: its error says why (address in use, CA locked...).
            Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
                Ok(Err(error)) => Err(error),
                _ => Err(Error::InvalidInput { what: "OTA server".into(), reason: "the server stopped before listening".into() }),
            },
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = shutdown.send(());
                Err(Error::InvalidInput { what: "OTA server".into(), reason: "the server did not start listening within 20 s".into() })
            }
        }
    }

    /// Where it listens.
    pub fn info(&self) -> &EmbeddedServerInfo {
        &self.info
    }

    /// Stops accepting peers and waits for the server thread.
    pub fn stop(mut self) -> Result<()> {
        self.halt()
    }

    fn halt(&mut self) -> Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => {
                tracing::info!(url = %self.info.url, "embedded OTA server stopped");
                result
            }
            Some(Err(_)) => Err(Error::InvalidInput { what: "OTA server".into(), reason: "the server thread panicked".into() }),
            None => Ok(()),
        }
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}

/// Which server the operator talks to.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum OtaTarget {
    /// This app's embedded server (the client certificate is issued in memory from its CA).
    Embedded {
        /// Its URL.
        url: String,
        /// Its CA.
        ca: String,
    },
    /// A remote rainbowtype server (Keyline's or the public Node one).
    #[serde(rename_all = "camelCase")]
    Remote {
        /// `https://host:port`.
        url: String,
        /// Prefix of the operator certificate from `keyline cert client` (PREFIX.chain, PREFIX.key).
        cert: PathBuf,
        /// The project CA that issued the server and client certificates (unlocked: its passphrase decrypts PREFIX.key).
        ca: String,
    },
}

/// One device in the OTA screen's list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct OtaDeviceRow {
    /// Serial (the device certificate CN).
    pub serial: String,
    /// Pending request (`none`, `ota`, ...).
    pub request: String,
    /// Boot state (`offlineboot`, ...).
    pub state: String,
    /// Key slot number.
    pub keynum: i64,
    /// When the device last spoke to the server (embedded server only; RFC 3339).
    pub last_seen: Option<String>,
    /// The device is in this station's ledger (provisioned here).
    pub provisioned: bool,
}

/// The desktop's operator identities, one per data directory and CA, issued once per process
/// (issuing decrypts the CA key, too slow to repeat for every device-list refresh).
static DESKTOP_IDENTITIES: Mutex<Vec<(PathBuf, String, Arc<TlsIdentity>)>> = Mutex::new(Vec::new());

impl Station {
    fn desktop_identity(&self, ca: &str) -> Result<Arc<TlsIdentity>> {
        let mut cache = DESKTOP_IDENTITIES.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, _, identity)) = cache.iter().find(|(dir, name, _)| dir == self.data_dir() && name == ca) {
            return Ok(identity.clone());
        }
        let identity = Arc::new(self.ephemeral_client_identity(ca, DESKTOP_CLIENT_CN)?);
        cache.push((self.data_dir().to_path_buf(), ca.to_owned(), identity.clone()));
        Ok(identity)
    }

    /// An operator client for `target`.
    pub fn ota_target_client(&self, target: &OtaTarget) -> Result<BlockingClient> {
        match target {
            OtaTarget::Embedded { url, ca } => {
                let identity = self.desktop_identity(ca)?;
                self.ota_client_with(url, &identity, DESKTOP_CLIENT_CN, ca)
            }
            OtaTarget::Remote { url, cert, ca } => {
                let passphrase = self.ca_passphrase(ca)?;
                self.ota_client(url, &TlsFiles::from_prefix(cert), Some(&passphrase), ca)
            }
        }
    }

    /// The devices `target` knows, with when they were last seen (embedded server: from the ledger).
    pub fn ota_target_devices(&self, target: &OtaTarget) -> Result<Vec<OtaDeviceRow>> {
        let devices = self.ota_target_client(target)?.devices(LIST_TIMEOUT)?;
        let ledger = self.ledger()?;
        let seen = match target {
            OtaTarget::Embedded { .. } => ledger.ota_states()?,
            OtaTarget::Remote { .. } => Vec::new(),
        };
        let mut rows = Vec::with_capacity(devices.len());
        for device in devices {
            let provisioned = crate::ledger::DeviceSerial::parse(&device.serial).ok().map(|s| ledger.get(&s)).transpose()?.flatten().is_some();
            rows.push(OtaDeviceRow {
                last_seen: seen.iter().find(|row| row.serial == device.serial).and_then(|row| row.last_seen.clone()),
                request: device.record.request,
                state: device.record.state,
                keynum: device.record.keynum,
                provisioned,
                serial: device.serial,
            });
        }
        rows.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.serial.cmp(&b.serial)));
        Ok(rows)
    }

    /// Validates (and with `sign`, signs) `image`, uploads it for `serial` through `target` and
    /// follows the device to `updatecompleted`; `cancel` stops waiting.
    pub fn ota_target_push(&self, target: &OtaTarget, request: &PushRequest, events: Arc<dyn Fn(PushEvent) + Send + Sync>, cancel: &CancelToken) -> Result<PushReport> {
        tracing::info!(serial = %request.serial, image = %request.image.display(), "OTA push requested");
        let client = self.ota_target_client(target)?;
        let passphrase = match (&request.sign_key, &request.sign_passphrase) {
            (Some(_), Some(text)) => Some(crate::Passphrase::new(text.clone())),
            _ => None,
        };
        let sign = request.sign_key.as_deref().map(|key| (key, passphrase.as_ref()));
        client.push(&request.serial, &request.image, sign, Duration::from_secs(request.timeout_secs.unwrap_or(600)), events, cancel)
    }
}

/// What the OTA screen pushes.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PushRequest {
    /// Device serial.
    pub serial: String,
    /// The image file.
    pub image: PathBuf,
    /// Sign with this Secure Boot v2 key before uploading.
    #[serde(default)]
    pub sign_key: Option<PathBuf>,
    /// The signing key's passphrase.
    #[serde(default)]
    pub sign_passphrase: Option<String>,
    /// Give up after this many seconds (default 600).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}
