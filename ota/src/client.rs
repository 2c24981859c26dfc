//! The operator client of a rainbowtype server (Keyline's embedded one or the public Node one):
//! list devices, upload an image with byte progress, request OTA and follow the device to
//! `updatecompleted`. Also the device-side firmware download used by the simulated bootloader.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::protocol::{Action, DeviceRecord, FW_SERIAL_LEN};
use crate::tls::{connect, host_port};
use crate::{Error, Result};

/// How often `push` re-reads the device list (a remote public server relays no device results).
const POLL_EVERY: Duration = Duration::from_secs(2);

/// Byte-progress callback: bytes sent so far, total.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// A TLS stream that counts the bytes written through it (upload progress).
pub struct Counting<S> {
    inner: S,
    written: Arc<AtomicU64>,
    on_write: Option<(Progress, u64)>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counting<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counting<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = result {
            let total = self.written.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
            if let Some((progress, size)) = &self.on_write {
                progress(total.min(*size), *size);
            }
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

type Tls = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;
/// A WebSocket to the server.
pub type Socket = WebSocketStream<Counting<Tls>>;

/// Open `wss://host:port/<path>` with the client certificate of `config`.
pub async fn open_socket(url: &str, path: &str, config: Arc<rustls::ClientConfig>, progress: Option<(Progress, u64)>) -> Result<Socket> {
    let (host, port) = host_port(url)?;
    let tls = connect(url, config).await?;
    let stream = Counting { inner: tls, written: Arc::new(AtomicU64::new(0)), on_write: progress };
    let host = if host.contains(':') { format!("[{host}]") } else { host };
    let target = format!("wss://{host}:{port}{path}");
    let config = WebSocketConfig::default().max_message_size(Some(crate::protocol::MAX_ACTION_BYTES * 64));
    let (socket, _) = tokio_tungstenite::client_async_with_config(target.as_str(), stream, Some(config))
        .await
        .map_err(|e| Error::Connection { peer: target.clone(), detail: format!("WebSocket handshake: {e}") })?;
    Ok(socket)
}

/// The next JSON action on `socket`, skipping keepalives and non-JSON text; `None` when closed.
pub async fn next_action(socket: &mut Socket) -> Result<Option<Action>> {
    while let Some(message) = socket.next().await {
        let message = message.map_err(|e| Error::Connection { peer: "server".into(), detail: e.to_string() })?;
        let bytes = match &message {
            Message::Text(text) => text.as_bytes().to_vec(),
            Message::Binary(bytes) => bytes.to_vec(),
            Message::Close(Some(frame)) => {
                return Err(Error::Connection { peer: "server".into(), detail: format!("closed the connection: {} ({})", frame.reason, u16::from(frame.code)) })
            }
            Message::Close(None) => return Ok(None),
            _ => continue,
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Ok(action) = Action::decode(&bytes) {
            return Ok(Some(action));
        }
    }
    Ok(None)
}

/// Send one action as a text frame (as the public PC client does).
pub async fn send_action(socket: &mut Socket, action: &Action) -> Result<()> {
    socket.send(Message::Text(action.encode().into())).await.map_err(|e| Error::Connection { peer: "server".into(), detail: e.to_string() })
}

/// Send raw bytes as one binary frame (as the device bootloader does).
pub async fn send_binary(socket: &mut Socket, bytes: &[u8]) -> Result<()> {
    socket.send(Message::Binary(bytes.to_vec().into())).await.map_err(|e| Error::Connection { peer: "server".into(), detail: e.to_string() })
}

/// Close the WebSocket politely.
pub async fn close(socket: &mut Socket) -> Result<()> {
    socket.close(None).await.map_err(|e| Error::Connection { peer: "server".into(), detail: e.to_string() })
}

/// Where a push is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "event", content = "data", rename_all = "camelCase")]
pub enum PushEvent {
    /// Bytes of the upload sent so far.
    Uploading {
        /// Sent.
        sent: u64,
        /// Total.
        total: u64,
    },
    /// The server stored the image.
    Uploaded,
    /// The device's request is now `ota`.
    Requested,
    /// The device answered `otaaccepted` and is downloading.
    Accepted,
    /// The device rebooted into the new image and reported `updatecompleted`.
    Completed,
}

/// An operator connection to one server.
#[derive(Clone)]
pub struct OperatorClient {
    url: String,
    config: Arc<rustls::ClientConfig>,
    cn: String,
}

impl OperatorClient {
    /// A client for the server at `url` (`https://host:port`) whose client certificate has CN `cn`.
    pub fn new(url: &str, config: Arc<rustls::ClientConfig>, cn: &str) -> OperatorClient {
        OperatorClient { url: url.trim_end_matches('/').to_owned(), config, cn: cn.to_owned() }
    }

    /// Open the `/rtserver` channel.
    pub async fn control(&self) -> Result<Socket> {
        open_socket(&self.url, "/rtserver", self.config.clone(), None).await
    }

    async fn all_state(&self, socket: &mut Socket) -> Result<Vec<(String, DeviceRecord)>> {
        send_action(socket, &Action::GetAllState { serial: self.cn.clone() }).await?;
        loop {
            match next_action(socket).await? {
                Some(Action::ResponseAllState { serial, devices }) if serial == self.cn => {
                    return Ok(devices.into_iter().filter(|(s, _)| s != "defaultdevice").collect())
                }
                Some(_) => continue,
                None => return Err(Error::Connection { peer: self.url.clone(), detail: "closed before answering getallstate".into() }),
            }
        }
    }

    /// Every device record on the server (`getallstate`).
    pub async fn devices(&self, timeout: Duration) -> Result<Vec<(String, DeviceRecord)>> {
        let mut socket = self.control().await?;
        tokio::time::timeout(timeout, self.all_state(&mut socket)).await.map_err(|_| Error::Timeout("no responseallstate from the server".into()))?
    }

    /// Upload `image` for `serial` over `/fw` (one binary message: serial + image).
    pub async fn upload(&self, serial: &str, image: &[u8], progress: Progress) -> Result<()> {
        if serial.len() != FW_SERIAL_LEN || !crate::server::is_device_serial(serial) {
            return Err(Error::Protocol(format!("the device serial must be {FW_SERIAL_LEN} lowercase hex digits")));
        }
        let mut message = Vec::with_capacity(FW_SERIAL_LEN + image.len());
        message.extend_from_slice(serial.as_bytes());
        message.extend_from_slice(image);
        let total = message.len() as u64;
        let mut socket = open_socket(&self.url, "/fw", self.config.clone(), Some((progress, total))).await?;
        let refused = |detail: String| Error::Connection { peer: self.url.clone(), detail: format!("upload refused: {detail}") };
        socket.send(Message::Binary(message.into())).await.map_err(|e| refused(e.to_string()))?;
        while let Some(reply) = socket.next().await {
            match reply.map_err(|e| refused(e.to_string()))? {
                Message::Text(text) if text.contains("s furmware recieved") => return Ok(()),
                Message::Close(Some(frame)) if frame.code == CloseCode::Size => {
                    return Err(Error::Connection { peer: self.url.clone(), detail: format!("upload refused: {}", frame.reason) })
                }
                Message::Close(Some(frame)) => return Err(refused(frame.reason.to_string())),
                Message::Close(None) => break,
                _ => continue,
            }
        }
        Err(refused("the server closed the connection without a reply".into()))
    }

    /// Upload `image`, set the device's request to `ota`, and follow it until `updatecompleted`
    /// (or `timeout`). `events` receives every step.
    pub async fn push(&self, serial: &str, image: &[u8], timeout: Duration, events: Arc<dyn Fn(PushEvent) + Send + Sync>) -> Result<()> {
        let mut control = self.control().await?;
        let current = self.all_state(&mut control).await?.into_iter().find(|(s, _)| s == serial).map(|(_, r)| r).unwrap_or_default();
        let upload_events = events.clone();
        self.upload(serial, image, Arc::new(move |sent, total| upload_events(PushEvent::Uploading { sent, total }))).await?;
        events(PushEvent::Uploaded);
        let record = DeviceRecord { request: "ota".into(), data: "none".into(), keynum: current.keynum, state: current.state };
        send_action(&mut control, &Action::SetState { serial: serial.to_owned(), record }).await?;
        events(PushEvent::Requested);
        let follow = async {
            let mut accepted = false;
            let mut poll = tokio::time::interval(POLL_EVERY);
            poll.tick().await;
            loop {
                tokio::select! {
                    action = next_action(&mut control) => match action? {
                        Some(Action::OtaAccepted { serial: s }) if s == serial && !accepted => {
                            accepted = true;
                            events(PushEvent::Accepted);
                        }
                        Some(Action::UpdateCompleted { serial: s }) if s == serial && accepted => {
                            events(PushEvent::Completed);
                            return Ok(());
                        }
                        Some(Action::ResponseAllState { devices, .. }) if !accepted => {
                            if devices.iter().any(|(s, r)| s == serial && r.request != "ota") {
                                accepted = true;
                                events(PushEvent::Accepted);
                            }
                        }
                        Some(_) => {}
                        None => return Err(Error::Connection { peer: self.url.clone(), detail: "the server closed the control channel".into() }),
                    },
                    _ = poll.tick() => {
                        if !accepted {
                            send_action(&mut control, &Action::GetAllState { serial: self.cn.clone() }).await?;
                        }
                    }
                }
            }
        };
        tokio::time::timeout(timeout, follow).await.map_err(|_| {
            Error::Timeout(format!("device {serial} did not report updatecompleted within {} s", timeout.as_secs()))
        })?
    }
}

/// One HTTPS request with the client certificate; the status and at most `limit` body bytes.
async fn https_request(url: &str, config: Arc<rustls::ClientConfig>, method: hyper::Method, path: &str, body: Vec<u8>, limit: usize) -> Result<(hyper::StatusCode, Bytes)> {
    let (host, port) = host_port(url)?;
    let failed = |detail: String| Error::Connection { peer: format!("{host}:{port}"), detail };
    let tls = connect(url, config).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(|e| failed(e.to_string()))?;
    tokio::spawn(connection);
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, format!("{host}:{port}"))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| failed(e.to_string()))?;
    let response = sender.send_request(request).await.map_err(|e| failed(e.to_string()))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), limit).collect().await.map_err(|e| failed(format!("response body: {e}")))?.to_bytes();
    Ok((status, body))
}

fn status_error(url: &str, what: &str, status: hyper::StatusCode, body: &[u8]) -> Error {
    Error::Connection { peer: url.to_owned(), detail: format!("{what}: {status}: {}", String::from_utf8_lossy(&body[..body.len().min(200)])) }
}

impl OperatorClient {
    /// Upload over `POST /fw` (Keyline's server; the public one only takes the WebSocket upload).
    pub async fn upload_post(&self, serial: &str, image: &[u8]) -> Result<()> {
        let mut body = serial.as_bytes().to_vec();
        body.extend_from_slice(image);
        let (status, reply) = https_request(&self.url, self.config.clone(), hyper::Method::POST, "/fw", body, 4096).await?;
        if !status.is_success() {
            return Err(status_error(&self.url, "POST /fw", status, &reply));
        }
        Ok(())
    }
}

/// Device side: `GET /fw/<serial>` with the device's client certificate, at most `limit` bytes.
pub async fn download_firmware(url: &str, serial: &str, config: Arc<rustls::ClientConfig>, limit: usize) -> Result<Vec<u8>> {
    let path = format!("/fw/{serial}");
    let (status, body) = https_request(url, config, hyper::Method::GET, &path, Vec::new(), limit).await?;
    if !status.is_success() {
        return Err(status_error(url, &format!("GET {path}"), status, &body));
    }
    Ok(body.to_vec())
}
