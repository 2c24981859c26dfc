//! The embedded rainbowtype device-management server: HTTPS + WSS on one port with mandatory
//! client certificates (peer id = certificate CN), `/rtserver` JSON actions, `/fw` uploads and
//! `GET /fw/<serial>` downloads.

mod fw;
mod rt;

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Extension, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::store::DeviceStore;
use crate::tls::peer_common_name;

/// The public server's WebSocket payload limit (0x200000): image + 18-byte serial.
pub const DEFAULT_MAX_UPLOAD: usize = 0x20_0000 - crate::protocol::FW_SERIAL_LEN;
/// The public server's keepalive period (an empty text frame).
pub const KEEPALIVE: Duration = Duration::from_secs(3);
/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Largest image accepted on `/fw` (bytes, without the serial).
    pub max_upload: usize,
    /// Directory the uploaded images are kept in (`<dir>/<serial>`).
    pub fw_dir: PathBuf,
    /// Keepalive period on `/rtserver`.
    pub keepalive: Duration,
}

impl ServerSettings {
    /// Defaults of the public server, images in `fw_dir`.
    pub fn new(fw_dir: PathBuf) -> ServerSettings {
        ServerSettings { max_upload: DEFAULT_MAX_UPLOAD, fw_dir, keepalive: KEEPALIVE }
    }
}

/// The authenticated peer of one connection.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    /// Certificate CN.
    pub cn: String,
}

impl Peer {
    /// Devices are identified by their 18-hex-digit chip serial; every other CN is an operator.
    pub fn is_device(&self) -> bool {
        is_device_serial(&self.cn)
    }
}

/// True for an 18-digit lowercase hex chip serial.
pub fn is_device_serial(text: &str) -> bool {
    text.len() == crate::protocol::FW_SERIAL_LEN && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

struct Connection {
    id: u64,
    cn: String,
    device: bool,
    tx: mpsc::UnboundedSender<String>,
}

/// State shared by every connection.
pub(crate) struct Shared {
    pub store: Arc<dyn DeviceStore>,
    pub settings: ServerSettings,
    connections: Mutex<Vec<Connection>>,
    next_id: AtomicU64,
}

impl Shared {
    fn register(&self, cn: &str, device: bool) -> (u64, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.connections.lock().unwrap_or_else(|p| p.into_inner()).push(Connection { id, cn: cn.to_owned(), device, tx });
        (id, rx)
    }

    fn unregister(&self, id: u64) {
        self.connections.lock().unwrap_or_else(|p| p.into_inner()).retain(|c| c.id != id);
    }

    /// Send `text` to every connection whose CN is `cn`.
    fn send_to(&self, cn: &str, text: &str) {
        for connection in self.connections.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|c| c.cn == cn) {
            let _ = connection.tx.send(text.to_owned());
        }
    }

    /// Send `text` to every operator (non-device) connection.
    fn send_to_operators(&self, text: &str) {
        for connection in self.connections.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|c| !c.device) {
            let _ = connection.tx.send(text.to_owned());
        }
    }
}

/// Serve on `listener` until `shutdown` completes. Every connection must complete a TLS
/// handshake with a client certificate accepted by `tls` (see [`crate::tls::server_config`]).
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    store: Arc<dyn DeviceStore>,
    settings: ServerSettings,
    shutdown: impl Future<Output = ()>,
) -> crate::Result<()> {
    std::fs::create_dir_all(&settings.fw_dir).map_err(|source| crate::Error::Io { path: settings.fw_dir.clone(), source })?;
    let shared = Arc::new(Shared { store, settings, connections: Mutex::new(Vec::new()), next_id: AtomicU64::new(1) });
    let limit = shared.settings.max_upload + crate::protocol::FW_SERIAL_LEN;
    let router = Router::new()
        .route("/rtserver", get(rt::upgrade))
        .route("/fw", get(fw::upload_ws).post(fw::upload_post))
        .route("/fw/{serial}", get(fw::download))
        .layer(DefaultBodyLimit::max(limit))
        .layer(Extension(shared.clone()));
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    tokio::pin!(shutdown);
    loop {
        let (tcp, address) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => { tracing::warn!(%error, "accept failed"); continue; }
            },
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::info!(%address, %error, "refused a TLS peer");
                    return;
                }
                Err(_) => {
                    tracing::info!(%address, "TLS handshake timed out");
                    return;
                }
            };
            let cn = match stream.get_ref().1.peer_certificates().map(peer_common_name) {
                Some(Ok(cn)) => cn,
                _ => {
                    tracing::info!(%address, "refused a peer without a usable client certificate CN");
                    return;
                }
            };
            tracing::debug!(%address, %cn, "peer connected");
            let service = TowerToHyperService::new(router.layer(Extension(Peer { cn })));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).with_upgrades().await;
        });
    }
}
