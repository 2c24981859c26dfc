//! `/fw`: firmware uploads (one WebSocket binary message, or a POST body, of an 18-byte serial
//! followed by the image) from operators, and `GET /fw/<serial>` downloads by that device only.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::{is_device_serial, Peer, Shared};
use crate::protocol::FW_SERIAL_LEN;
use crate::{AppImage, Error, Result};

/// WebSocket close code for a message over the size limit (1009 message too big).
pub const CLOSE_TOO_BIG: u16 = 1009;

/// The public server's reply text (its spelling).
pub fn received_text(serial: &str) -> String {
    format!("{serial}'s furmware recieved")
}

/// Check and store one upload; returns the target serial.
fn accept_upload(message: &[u8], peer: &Peer, shared: &Shared) -> Result<String> {
    if peer.is_device() {
        return Err(Error::Protocol("devices may not upload firmware".into()));
    }
    let limit = shared.settings.max_upload;
    if message.len() > limit + FW_SERIAL_LEN {
        return Err(Error::TooLarge { size: message.len() - FW_SERIAL_LEN, limit });
    }
    if message.len() <= FW_SERIAL_LEN {
        return Err(Error::Protocol(format!("an upload is an {FW_SERIAL_LEN}-byte serial followed by the image")));
    }
    let (serial, image) = message.split_at(FW_SERIAL_LEN);
    let serial = std::str::from_utf8(serial).ok().filter(|s| is_device_serial(s)).ok_or_else(|| {
        Error::Protocol(format!("the first {FW_SERIAL_LEN} bytes must be the device serial (18 lowercase hex digits)"))
    })?;
    AppImage::parse(image)?;
    let path = shared.settings.fw_dir.join(serial);
    let temp = shared.settings.fw_dir.join(format!(".{serial}.part"));
    std::fs::write(&temp, image).and_then(|()| std::fs::rename(&temp, &path)).map_err(|source| Error::Io { path: path.clone(), source })?;
    tracing::info!(peer = %peer.cn, serial, bytes = image.len(), "firmware received");
    Ok(serial.to_owned())
}

pub(crate) async fn upload_ws(ws: WebSocketUpgrade, Extension(peer): Extension<Peer>, Extension(shared): Extension<Arc<Shared>>) -> Response {
    let limit = shared.settings.max_upload + FW_SERIAL_LEN;
    ws.max_message_size(limit).max_frame_size(limit).on_upgrade(move |socket| upload_session(socket, peer, shared))
}

async fn upload_session(mut socket: WebSocket, peer: Peer, shared: Arc<Shared>) {
    let limit = shared.settings.max_upload;
    let outcome = match socket.recv().await {
        Some(Ok(Message::Binary(bytes))) => accept_upload(&bytes, &peer, &shared),
        Some(Ok(Message::Text(_))) => Err(Error::Protocol("send the upload as one binary message".into())),
        Some(Ok(_)) | None => return,
        // tungstenite stops reading at the size limit (or on a broken frame).
        Some(Err(error)) => {
            tracing::info!(peer = %peer.cn, %error, "refused an upload");
            let reason: String = format!("the upload is larger than the {limit}-byte limit ({error})").chars().take(120).collect();
            let _ = socket.send(Message::Close(Some(CloseFrame { code: CLOSE_TOO_BIG, reason: reason.into() }))).await;
            return;
        }
    };
    let message = match outcome {
        Ok(serial) => Message::Text(received_text(&serial).into()),
        Err(error) => {
            let code = if matches!(error, Error::TooLarge { .. }) { CLOSE_TOO_BIG } else { super::rt::CLOSE_POLICY };
            let reason: String = error.to_string().chars().take(120).collect();
            Message::Close(Some(CloseFrame { code, reason: reason.into() }))
        }
    };
    let _ = socket.send(message).await;
}

pub(crate) async fn upload_post(Extension(peer): Extension<Peer>, Extension(shared): Extension<Arc<Shared>>, body: Bytes) -> Response {
    match accept_upload(&body, &peer, &shared) {
        Ok(serial) => received_text(&serial).into_response(),
        Err(error @ Error::TooLarge { .. }) => (StatusCode::PAYLOAD_TOO_LARGE, error.to_string()).into_response(),
        Err(error @ Error::Protocol(_)) if peer.is_device() => (StatusCode::FORBIDDEN, error.to_string()).into_response(),
        Err(error) => (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    }
}

pub(crate) async fn download(Path(serial): Path<String>, Extension(peer): Extension<Peer>, Extension(shared): Extension<Arc<Shared>>) -> Response {
    if !is_device_serial(&serial) {
        return (StatusCode::NOT_FOUND, "no such firmware").into_response();
    }
    if peer.is_device() && peer.cn != serial {
        return (StatusCode::FORBIDDEN, "a device may only download its own firmware").into_response();
    }
    match tokio::fs::read(shared.settings.fw_dir.join(&serial)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, format!("no firmware uploaded for {serial}")).into_response(),
    }
}
