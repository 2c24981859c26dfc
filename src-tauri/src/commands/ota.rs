//! OTA screen commands: the embedded server (with practice mode's simulated devices), a target's
//! device list, image inspection and signing, and a push whose progress streams on a channel.
//! Each is one call into `keyline_station::ota`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use keyline_station::ota::{self, EmbeddedServer, EmbeddedServerInfo, EmbeddedServerSettings, ImageReport, OtaDeviceRow, OtaTarget, PushEvent, PushReport, PushRequest, SignedImage};
use keyline_station::provision::CancelToken;
use keyline_station::Passphrase;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use super::on_station;
use crate::error::CommandResult;
use crate::file_dialog::{suggested_name, FileDialogs, FileRequest};
use crate::practice::ota_devices::{SimOtaDevice, SimOtaDevices};
use crate::practice::Practice;
use crate::state::AppState;

/// The embedded server, practice devices and the running push (managed state).
#[derive(Default)]
pub struct OtaState {
    server: Mutex<Option<(EmbeddedServer, Option<SimOtaDevices>)>>,
    push: Mutex<Option<CancelToken>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl OtaState {
    /// Stops the server and its simulated devices (app exit).
    pub fn shutdown(&self) {
        if let Some(token) = lock(&self.push).take() {
            token.cancel();
        }
        if let Some((server, devices)) = lock(&self.server).take() {
            drop(devices);
            let _ = server.stop();
        }
    }

    /// Cancels the running push; true when one ran.
    pub fn cancel_push(&self) -> bool {
        lock(&self.push).as_ref().map(CancelToken::cancel).is_some()
    }

    fn status(&self) -> OtaServerStatus {
        let guard = lock(&self.server);
        OtaServerStatus {
            server: guard.as_ref().map(|(server, _)| server.info().clone()),
            sim_devices: guard.as_ref().and_then(|(_, devices)| devices.as_ref()).map(SimOtaDevices::list).unwrap_or_default(),
            pushing: lock(&self.push).is_some(),
        }
    }
}

/// What the OTA screen shows about this app's server.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct OtaServerStatus {
    /// The running embedded server.
    pub server: Option<EmbeddedServerInfo>,
    /// Practice mode's simulated devices booting against it.
    pub sim_devices: Vec<SimOtaDevice>,
    /// A push is running.
    pub pushing: bool,
}

/// The embedded server, its simulated devices (practice mode) and whether a push runs.
#[tauri::command]
#[specta::specta]
pub fn ota_status(ota: State<'_, Arc<OtaState>>) -> OtaServerStatus {
    ota.status()
}

/// Starts the embedded server (certificate issued from the unlocked CA); in practice mode every
/// provisioned simulated board then boots against it. A running server is stopped first.
#[tauri::command]
#[specta::specta]
pub async fn start_ota_server(
    state: State<'_, AppState>,
    ota: State<'_, Arc<OtaState>>,
    practice: State<'_, Arc<Practice>>,
    settings: EmbeddedServerSettings,
) -> CommandResult<OtaServerStatus> {
    let (ota, practice, station) = (ota.inner().clone(), practice.enabled(), state.station.clone());
    on_station(&state, "start OTA server", move |_| {
        if let Some((previous, devices)) = lock(&ota.server).take() {
            drop(devices);
            previous.stop()?;
        }
        let server = EmbeddedServer::start(station.clone(), &settings)?;
        let devices = if practice {
            match SimOtaDevices::start(&station, &server.info().url, &settings.ca) {
                Ok(devices) => Some(devices),
                Err(report) => {
                    tracing::error!(error = %report.message, hint = %report.hint, "simulated OTA devices could not start");
                    None
                }
            }
        } else {
            None
        };
        *lock(&ota.server) = Some((server, devices));
        Ok(ota.status())
    })
    .await
}

/// Stops the embedded server and its simulated devices.
#[tauri::command]
#[specta::specta]
pub async fn stop_ota_server(state: State<'_, AppState>, ota: State<'_, Arc<OtaState>>) -> CommandResult<OtaServerStatus> {
    let ota = ota.inner().clone();
    on_station(&state, "stop OTA server", move |_| {
        if let Some((server, devices)) = lock(&ota.server).take() {
            drop(devices);
            server.stop()?;
        }
        Ok(ota.status())
    })
    .await
}

/// The devices `target` knows, newest seen first.
#[tauri::command]
#[specta::specta]
pub async fn ota_devices(state: State<'_, AppState>, target: OtaTarget) -> CommandResult<Vec<OtaDeviceRow>> {
    on_station(&state, "list OTA devices", move |station| Ok(station.ota_target_devices(&target)?)).await
}

/// Validates an image and reports its header, descriptor and signature.
#[tauri::command]
#[specta::specta]
pub async fn inspect_ota_image(state: State<'_, AppState>, path: PathBuf) -> CommandResult<ImageReport> {
    on_station(&state, "inspect image", move |_| Ok(ota::inspect_image(&path)?)).await
}

/// Signs `image` for Secure Boot v2 with the encrypted key and writes the signed copy where the user picks in the
/// save dialog (never overwriting); `null` if the user cancelled. The key and image are only read.
#[tauri::command]
#[specta::specta]
pub async fn sign_ota_image(
    state: State<'_, AppState>,
    dialogs: State<'_, Arc<FileDialogs>>,
    key: PathBuf,
    passphrase: String,
    image: PathBuf,
) -> CommandResult<Option<SignedImage>> {
    let dialogs = dialogs.inner().clone();
    on_station(&state, "sign image", move |_| {
        let stem = image.file_stem().and_then(|s| s.to_str()).unwrap_or("image");
        let file_name = suggested_name(&format!("{stem}.signed.bin"), "image.signed.bin");
        let request = FileRequest { title: "Save signed image", file_name, filter: "ESP32 app image", extensions: vec!["bin".into()] };
        let Some(out) = dialogs.save_path(request) else { return Ok(None) };
        Ok(Some(ota::sign_image(&key, Some(&Passphrase::new(passphrase)), &image, &out)?))
    })
    .await
}

/// Uploads (optionally signing first) and follows the device to `updatecompleted`; every step goes to `on_event`.
#[tauri::command]
#[specta::specta]
pub async fn push_ota(
    state: State<'_, AppState>,
    ota: State<'_, Arc<OtaState>>,
    target: OtaTarget,
    request: PushRequest,
    on_event: Channel<PushEvent>,
) -> CommandResult<PushReport> {
    let ota = ota.inner().clone();
    let cancel = CancelToken::new();
    if let Some(previous) = lock(&ota.push).replace(cancel.clone()) {
        previous.cancel();
    }
    let result = on_station(&state, "push image", move |station| {
        let events = Arc::new(move |event: PushEvent| {
            let _ = on_event.send(event);
        });
        Ok(station.ota_target_push(&target, &request, events, &cancel)?)
    })
    .await;
    lock(&ota.push).take();
    result
}

/// Stops waiting for the running push (the device may still take the image at its next boot).
#[tauri::command]
#[specta::specta]
pub fn cancel_ota_push(ota: State<'_, Arc<OtaState>>) -> bool {
    ota.cancel_push()
}
