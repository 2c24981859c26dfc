//! `/rtserver`: the JSON control channel. Devices send `bootup` and their results, operators
//! `setstate` and `getallstate`; the server answers `ack` / `responseallstate` to the sender's CN
//! and forwards device results to operators. Malformed or unauthorised messages close the
//! connection with a reason.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::Extension;

use super::{Peer, Shared};
use crate::protocol::{Action, DeviceRecord, MAX_ACTION_BYTES};
use crate::{Error, Result};

/// WebSocket close code for a message that breaks the protocol (1008 policy violation).
pub const CLOSE_POLICY: u16 = 1008;
/// WebSocket close code for malformed data (1007 invalid payload).
pub const CLOSE_INVALID: u16 = 1007;

pub(crate) async fn upgrade(ws: WebSocketUpgrade, Extension(peer): Extension<Peer>, Extension(shared): Extension<Arc<Shared>>) -> Response {
    ws.max_message_size(MAX_ACTION_BYTES).on_upgrade(move |socket| session(socket, peer, shared))
}

async fn session(mut socket: WebSocket, peer: Peer, shared: Arc<Shared>) {
    let (id, mut outbox) = shared.register(&peer.cn, peer.is_device());
    let mut keepalive = tokio::time::interval(shared.settings.keepalive);
    keepalive.tick().await;
    let refusal = loop {
        tokio::select! {
            incoming = socket.recv() => {
                let payload = match incoming {
                    Some(Ok(Message::Text(text))) => text.as_bytes().to_vec(),
                    Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Err(error)) => break Some((CLOSE_INVALID, format!("bad WebSocket message: {error}"))),
                };
                // Devices echo empty keepalive frames; they carry nothing.
                if payload.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if let Err(error) = handle(&payload, &peer, &shared) {
                    let code = if matches!(&error, Error::Protocol(text) if text.starts_with("malformed")) { CLOSE_INVALID } else { CLOSE_POLICY };
                    tracing::info!(peer = %peer.cn, %error, "refused an /rtserver message");
                    break Some((code, error.to_string()));
                }
            }
            Some(text) = outbox.recv() => {
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break None;
                }
            }
            _ = keepalive.tick() => {
                if socket.send(Message::Text("".into())).await.is_err() {
                    break None;
                }
            }
        }
    };
    shared.unregister(id);
    if let Some((code, reason)) = refusal {
        // Close reasons are limited to 123 bytes.
        let reason: String = reason.chars().take(120).collect();
        let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
    }
}

fn record_of(shared: &Shared, serial: &str) -> Result<DeviceRecord> {
    Ok(shared.store.load(serial)?.unwrap_or_default())
}

fn handle(payload: &[u8], peer: &Peer, shared: &Shared) -> Result<()> {
    let action = Action::decode(payload)?;
    let serial = action.serial().to_owned();
    if action.is_from_device() && serial != peer.cn {
        return Err(Error::Protocol(format!("`serial` {serial} is not the CN of your certificate ({})", peer.cn)));
    }
    if !action.is_from_device() && peer.is_device() {
        return Err(Error::Protocol(format!("a device may not send `{}`", action.name())));
    }
    let mut record = record_of(shared, &serial)?;
    match &action {
        Action::Bootup { .. } => {
            shared.store.save(&serial, &record, true)?;
            shared.send_to(&serial, &Action::Ack { serial: serial.clone(), record }.encode());
            return Ok(());
        }
        Action::UpdateCompleted { .. } | Action::UrlUpdated { .. } | Action::OtaAccepted { .. } | Action::FinishCertRefresh { .. } => {
            record.request = "none".into();
            record.data = "none".into();
        }
        Action::PublicKeyIssued { keynum, data, .. } => {
            record.request = "pkeyissued".into();
            record.data = data.clone();
            record.keynum = *keynum;
        }
        Action::PkeyIssued { .. } => {}
        Action::SetState { record: new, .. } => {
            crate::protocol::check_serial(&serial)?;
            // As the public server: `keynum` is not taken from setstate.
            record = DeviceRecord { keynum: record.keynum, ..new.clone() };
            shared.store.save(&serial, &record, false)?;
            return Ok(());
        }
        Action::GetAllState { .. } => {
            if serial != peer.cn {
                return Err(Error::Protocol(format!("`getallstate` must carry your own CN ({}) as `serial`", peer.cn)));
            }
            let mut devices = vec![("defaultdevice".to_owned(), DeviceRecord::default())];
            devices.extend(shared.store.all()?.into_iter().map(|d| (d.serial, d.record)));
            shared.send_to(&peer.cn, &Action::ResponseAllState { serial, devices }.encode());
            return Ok(());
        }
        Action::Ack { .. } | Action::ResponseAllState { .. } => {
            return Err(Error::Protocol(format!("`{}` is sent by the server, not to it", action.name())));
        }
    }
    shared.store.save(&serial, &record, true)?;
    // Operators follow a device through accepted -> completed.
    shared.send_to_operators(&action.encode());
    Ok(())
}
