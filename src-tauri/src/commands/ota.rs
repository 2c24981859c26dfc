//! OTA screen commands: the embedded server (with practice mode's simulated devices), a target's
//! device list, image inspection and signing, and a push whose progress streams on a channel.
//! Each is one call into `keyline_station::ota`.

use std::sync::{Arc, Mutex, MutexGuard};

use keyline_station::ota::{self, EmbeddedServer, EmbeddedServerInfo, EmbeddedServerSettings, ImageReport, OtaDeviceRow, OtaTarget, PushEvent, PushReport, PushRequest, SignedImage};
use keyline_station::provision::CancelToken;
use keyline_station::Passphrase;
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;

use super::on_station;
use crate::error::CommandResult;
use crate::file_dialog::{suggested_name, FileDialogs, FileRequest};
use crate::picked::{FilePurpose, PickedFiles};
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

/// Which server the OTA screen talks to: files are handles from `pick_file`, never paths.
#[derive(Debug, Clone, Deserialize)]
#[derive(specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum OtaTargetChoice {
    /// This app's embedded server.
    Embedded {
        /// Its URL.
        url: String,
        /// Its CA.
        ca: String,
    },
    /// A remote rainbowtype server.
    #[serde(rename_all = "camelCase")]
    Remote {
        /// `https://host:port`.
        url: String,
        /// The operator certificate chain `PREFIX.chain` (purpose `otaClientCert`); its key is `PREFIX.key` beside it.
        cert: u32,
        /// The project CA that issued the server and client certificates.
        ca: String,
    },
}

impl OtaTargetChoice {
    fn target(self, picked: &PickedFiles) -> CommandResult<OtaTarget> {
        Ok(match self {
            OtaTargetChoice::Embedded { url, ca } => OtaTarget::Embedded { url, ca },
            OtaTargetChoice::Remote { url, cert, ca } => OtaTarget::Remote { url, cert: picked.path(cert, FilePurpose::OtaClientCert)?.with_extension(""), ca },
        })
    }
}

/// The devices `target` knows, newest seen first.
#[tauri::command]
#[specta::specta]
pub async fn ota_devices(state: State<'_, AppState>, picked: State<'_, Arc<PickedFiles>>, target: OtaTargetChoice) -> CommandResult<Vec<OtaDeviceRow>> {
    let target = target.target(&picked)?;
    on_station(&state, "list OTA devices", move |station| Ok(station.ota_target_devices(&target)?)).await
}

/// Validates the picked image (a handle from `pick_file` with purpose `otaImage`) and reports its header,
/// descriptor and signature.
#[tauri::command]
#[specta::specta]
pub async fn inspect_ota_image(state: State<'_, AppState>, picked: State<'_, Arc<PickedFiles>>, image: u32) -> CommandResult<ImageReport> {
    let path = picked.path(image, FilePurpose::OtaImage)?;
    on_station(&state, "inspect image", move |_| Ok(ota::inspect_image(&path)?)).await
}

/// Signs the picked `image` for Secure Boot v2 with the picked encrypted `key` and writes the signed copy where the
/// user picks in the save dialog (never overwriting); `null` if the user cancelled. The key and image are only read.
#[tauri::command]
#[specta::specta]
pub async fn sign_ota_image(
    state: State<'_, AppState>,
    dialogs: State<'_, Arc<FileDialogs>>,
    picked: State<'_, Arc<PickedFiles>>,
    key: u32,
    passphrase: String,
    image: u32,
) -> CommandResult<Option<SignedImage>> {
    let (key, image) = (picked.path(key, FilePurpose::SigningKey)?, picked.path(image, FilePurpose::OtaImage)?);
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

/// What the OTA screen pushes: files are handles from `pick_file`, never paths.
#[derive(Debug, Clone, Deserialize)]
#[derive(specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct OtaPushChoice {
    /// Device serial.
    pub serial: String,
    /// The image (purpose `otaImage`).
    pub image: u32,
    /// Sign with this Secure Boot v2 key (purpose `signingKey`) before uploading.
    pub sign_key: Option<u32>,
    /// The signing key's passphrase.
    pub sign_passphrase: Option<String>,
    /// Give up after this many seconds (default 600).
    pub timeout_secs: Option<u64>,
}

impl OtaPushChoice {
    fn request(self, picked: &PickedFiles) -> CommandResult<PushRequest> {
        Ok(PushRequest {
            serial: self.serial,
            image: picked.path(self.image, FilePurpose::OtaImage)?,
            sign_key: self.sign_key.map(|key| picked.path(key, FilePurpose::SigningKey)).transpose()?,
            sign_passphrase: self.sign_passphrase,
            timeout_secs: self.timeout_secs,
        })
    }
}

/// Uploads (optionally signing first) and follows the device to `updatecompleted`; every step goes to `on_event`.
#[tauri::command]
#[specta::specta]
pub async fn push_ota(
    state: State<'_, AppState>,
    ota: State<'_, Arc<OtaState>>,
    picked: State<'_, Arc<PickedFiles>>,
    target: OtaTargetChoice,
    request: OtaPushChoice,
    on_event: Channel<PushEvent>,
) -> CommandResult<PushReport> {
    let target = target.target(&picked)?;
    let request = request.request(&picked)?;
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
