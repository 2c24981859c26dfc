//! Cloud connecting commands for the wizard: connection defaults and identity, the CA's registration state, the
//! registration code and verification certificate, registration, JITR/JITP deploy and status, and the allow-list.
//! Each is one call into `keyline_station` (its `cloud_ops` facade); failures take the shell's one error path and
//! reach the UI as `ErrorReport`s whose message says what happened, whose code is stable, and whose hint says what to do.

use std::sync::Arc;

use keyline_station::cloud_ops::{
    self as cloud_ops, connect_normalised, AllowListSync, CaMode, CallerIdentity, CloudSettings, JitpDeploy, JitrDeploy, PieceChange,
    RegisterCaOutcome, StackStatus, EMULATOR_REGION,
};
use keyline_station::cloud_wizard::{CloudCaState, VerificationPreview};
use serde::{Deserialize, Serialize};
use tauri::State;

use super::files::off_main;
use crate::error::CommandResult;
use crate::file_dialog::{FileDialogs, FileRequest};
use crate::practice::Practice;
use crate::state::AppState;

/// What the wizard's first step starts from.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CloudDefaults {
    /// Practice mode: the local emulator is the default and AWS is not offered first.
    pub practice: bool,
    /// The emulator's HTTP endpoint.
    pub emulator_endpoint_url: String,
    /// The emulator's MQTT listener (`HOST:PORT`).
    pub emulator_mqtt_endpoint: String,
    /// The emulator's region.
    pub emulator_region: String,
    /// Profile names found in `~/.aws/config` and `~/.aws/credentials` (names only; never secrets).
    pub profiles: Vec<String>,
    /// `AWS_PROFILE` from the environment, if set.
    pub env_profile: Option<String>,
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`) from the environment, if set.
    pub env_region: Option<String>,
}

/// How to deploy automatic registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[derive(specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum DeployMethod {
    /// Just-in-time registration: rule + activation Lambda (+ allow-list).
    Jitr,
    /// Just-in-time provisioning: a template on the CA registration.
    Jitp,
}

/// Where the wizard starts: practice mode, the emulator's addresses (those of practice mode's running emulator,
/// else ministack's defaults), the AWS profiles on this machine.
#[tauri::command]
#[specta::specta]
pub async fn cloud_defaults(state: State<'_, AppState>, practice: State<'_, Arc<Practice>>) -> CommandResult<CloudDefaults> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let running = practice.emulator().status();
    Ok(CloudDefaults {
        practice: state.practice,
        emulator_endpoint_url: running.endpoint_url.unwrap_or_else(cloud_ops::emulator_endpoint_url),
        emulator_mqtt_endpoint: running.mqtt_address.unwrap_or_else(cloud_ops::emulator_mqtt_endpoint),
        emulator_region: EMULATOR_REGION.to_string(),
        profiles: cloud_ops::aws_profile_names().await,
        env_profile: env("AWS_PROFILE"),
        env_region: env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")),
    })
}

/// The account, identity, region and endpoint the settings resolve to (STS GetCallerIdentity).
#[tauri::command]
#[specta::specta]
pub async fn cloud_identity(settings: CloudSettings) -> CommandResult<CallerIdentity> {
    let ctx = connect_normalised(settings).await?;
    Ok(cloud_ops::identity(&ctx).await?)
}

/// CA `ca`'s AWS IoT id and its registration, if any.
#[tauri::command]
#[specta::specta]
pub async fn cloud_ca_state(state: State<'_, AppState>, settings: CloudSettings, ca: String) -> CommandResult<CloudCaState> {
    let ctx = connect_normalised(settings).await?;
    Ok(state.station.cloud_ca_state(&ctx, &ca).await?)
}

/// The registration code and verification certificate for CA `ca` (none when it is already registered).
/// Fails with `passphrase_required` while the CA is locked.
#[tauri::command]
#[specta::specta]
pub async fn cloud_verification(state: State<'_, AppState>, settings: CloudSettings, ca: String) -> CommandResult<VerificationPreview> {
    let ctx = connect_normalised(settings).await?;
    Ok(state.station.cloud_verification_preview(&ctx, &ca).await?)
}

/// Registers CA `ca` (ACTIVE), or reports and reconciles an existing registration.
#[tauri::command]
#[specta::specta]
pub async fn cloud_register_ca(
    state: State<'_, AppState>,
    settings: CloudSettings,
    ca: String,
    mode: CaMode,
    auto_registration: bool,
) -> CommandResult<RegisterCaOutcome> {
    let ctx = connect_normalised(settings).await?;
    Ok(state.station.cloud_register_ca(&ctx, &ca, mode, auto_registration).await?)
}

/// Creates or updates the JITR stack (optionally with the allow-list) or attaches the JITP template.
#[tauri::command]
#[specta::specta]
pub async fn cloud_deploy(
    state: State<'_, AppState>,
    settings: CloudSettings,
    ca: String,
    method: DeployMethod,
    allow_list: bool,
) -> CommandResult<Vec<PieceChange>> {
    let ctx = connect_normalised(settings).await?;
    let changes = match method {
        DeployMethod::Jitr => state.station.cloud_jitr_deploy(&ctx, &JitrDeploy { ca, allow_list, ..Default::default() }).await?,
        DeployMethod::Jitp => state.station.cloud_jitp_deploy(&ctx, &JitpDeploy { ca, ..Default::default() }).await?,
    };
    Ok(changes)
}

/// Every piece of CA `ca`'s JITR stack and its health.
#[tauri::command]
#[specta::specta]
pub async fn cloud_stack_status(state: State<'_, AppState>, settings: CloudSettings, ca: String) -> CommandResult<StackStatus> {
    let ctx = connect_normalised(settings).await?;
    Ok(state.station.cloud_jitr_status(&ctx, &ca).await?)
}

/// The serials on CA `ca`'s allow-list.
#[tauri::command]
#[specta::specta]
pub async fn cloud_allow_list(state: State<'_, AppState>, settings: CloudSettings, ca: String) -> CommandResult<Vec<String>> {
    let ctx = connect_normalised(settings).await?;
    Ok(state.station.cloud_allow_list(&ctx, &ca).await?)
}

/// Adds serials typed or scanned by hand to CA `ca`'s allow-list (each checked first; nothing is written if one is
/// invalid).
#[tauri::command]
#[specta::specta]
pub async fn cloud_allow_list_add(state: State<'_, AppState>, settings: CloudSettings, ca: String, serials: Vec<String>) -> CommandResult<Vec<String>> {
    let serials = cloud_ops::parse_serials(&serials)?;
    let ctx = connect_normalised(settings).await?;
    Ok(state.station.cloud_allow_list_add_all(&ctx, &ca, &serials).await?)
}

/// Opens the open dialog; pushes the serials of the file the user picked (one per line, `#` comments) to CA
/// `ca`'s allow-list in batches, then activates the CA's devices that were waiting for it. `null` if cancelled.
#[tauri::command]
#[specta::specta]
pub async fn cloud_allow_list_sync(
    state: State<'_, AppState>,
    dialogs: State<'_, Arc<FileDialogs>>,
    settings: CloudSettings,
    ca: String,
) -> CommandResult<Option<AllowListSync>> {
    let dialogs = dialogs.inner().clone();
    let picked = off_main("pick serials file", move || {
        let request = FileRequest { title: "Serials to allow", file_name: String::new(), filter: "Serials", extensions: vec!["txt".into(), "csv".into(), "list".into()] };
        let Some(path) = dialogs.open_path(request) else { return Ok(None) };
        Ok(Some((cloud_ops::read_serials_file(&path)?, path)))
    })
    .await?;
    let Some((serials, path)) = picked else { return Ok(None) };
    let ctx = connect_normalised(settings).await?;
    let synced = state.station.cloud_allow_list_sync(&ctx, &ca, Some(serials), false).await?;
    tracing::info!(path = %path.display(), written = synced.report.written, activated = synced.activated.len(), "synced the allow-list");
    Ok(Some(synced))
}

/// Pushes the serials of CA `ca`'s devices in the station's ledger to its allow-list, then activates waiting devices.
#[tauri::command]
#[specta::specta]
pub async fn cloud_allow_list_sync_ledger(state: State<'_, AppState>, settings: CloudSettings, ca: String) -> CommandResult<AllowListSync> {
    let ctx = connect_normalised(settings).await?;
    let synced = state.station.cloud_allow_list_sync(&ctx, &ca, None, false).await?;
    tracing::info!(written = synced.report.written, activated = synced.activated.len(), "synced the allow-list from the device ledger");
    Ok(synced)
}
