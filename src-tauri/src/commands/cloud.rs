//! Cloud connecting commands for the wizard: connection defaults and identity, the CA's registration state, the
//! registration code and verification certificate, registration, JITR/JITP deploy and status, and the allow-list.
//! Each is one call into `keyline_station::cloud` / `keyline_cloud`; failures are `ErrorReport`s whose message
//! says what happened, whose code is stable, and whose hint says what to do.

use std::path::PathBuf;
use std::sync::Arc;

use keyline_station::cloud::keyline_cloud::ca::CaMode;
use keyline_station::cloud::keyline_cloud::jitr::{PieceChange, StackStatus};
use keyline_station::cloud::keyline_cloud::{allow_list, emulator, jitp, jitr, CallerIdentity, CloudContext, CloudSettings};
use keyline_station::cloud::{cloud_report, RegisterCaOutcome};
use keyline_station::cloud_ledger::AllowListSync;
use keyline_station::cloud_wizard::{CloudCaState, VerificationPreview};
use keyline_station::ErrorReport;
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::practice::Practice;
use crate::state::AppState;

/// Result of a cloud command.
pub type CloudResult<T> = Result<T, ErrorReport>;

/// The local emulator's HTTP API when nothing else is said (ministack's default port).
pub const EMULATOR_ENDPOINT_URL: &str = "http://127.0.0.1:4566";
/// The local emulator's MQTT listener when nothing else is said.
pub const EMULATOR_MQTT_ENDPOINT: &str = keyline_station::cloud_test::EMULATOR_MQTT_ENDPOINT;

/// What the wizard's first step starts from.
#[derive(Debug, Clone, Serialize)]
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
#[serde(rename_all = "lowercase")]
pub enum DeployMethod {
    /// Just-in-time registration: rule + activation Lambda (+ allow-list).
    Jitr,
    /// Just-in-time provisioning: a template on the CA registration.
    Jitp,
}

/// Blank strings from form fields mean "not set"; the emulator gets its default endpoint and region.
pub fn normalise(settings: CloudSettings) -> CloudSettings {
    let clean = |value: Option<String>| value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let mut settings = CloudSettings {
        profile: clean(settings.profile),
        region: clean(settings.region),
        endpoint_url: clean(settings.endpoint_url),
        emulator: settings.emulator,
    };
    if settings.emulator {
        settings.profile = None;
        settings.endpoint_url.get_or_insert_with(|| EMULATOR_ENDPOINT_URL.to_string());
        settings.region.get_or_insert_with(|| emulator::REGION.to_string());
    }
    settings
}

/// Resolves the settings into SDK clients.
pub async fn context(settings: CloudSettings) -> CloudResult<CloudContext> {
    keyline_station::cloud::connect(&normalise(settings)).await
}

/// Where the wizard starts: practice mode, the emulator's addresses (those of practice mode's running emulator,
/// else ministack's defaults), the AWS profiles on this machine.
#[tauri::command]
pub async fn cloud_defaults(state: State<'_, AppState>, practice: State<'_, Arc<Practice>>) -> CloudResult<CloudDefaults> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let running = practice.emulator().status();
    Ok(CloudDefaults {
        practice: state.practice,
        emulator_endpoint_url: running.endpoint_url.unwrap_or_else(|| EMULATOR_ENDPOINT_URL.to_string()),
        emulator_mqtt_endpoint: running.mqtt_address.unwrap_or_else(|| EMULATOR_MQTT_ENDPOINT.to_string()),
        emulator_region: emulator::REGION.to_string(),
        profiles: aws_profile_names(),
        env_profile: env("AWS_PROFILE"),
        env_region: env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")),
    })
}

/// The account, identity, region and endpoint the settings resolve to (STS GetCallerIdentity).
#[tauri::command]
pub async fn cloud_identity(settings: CloudSettings) -> CloudResult<CallerIdentity> {
    let ctx = context(settings).await?;
    ctx.identity().await.map_err(cloud_report)
}

/// CA `ca`'s AWS IoT id and its registration, if any.
#[tauri::command]
pub async fn cloud_ca_state(state: State<'_, AppState>, settings: CloudSettings, ca: String) -> CloudResult<CloudCaState> {
    let ctx = context(settings).await?;
    state.station.cloud_ca_state(&ctx, &ca).await
}

/// The registration code and verification certificate for CA `ca` (none when it is already registered).
/// Fails with `passphrase_required` while the CA is locked.
#[tauri::command]
pub async fn cloud_verification(state: State<'_, AppState>, settings: CloudSettings, ca: String) -> CloudResult<VerificationPreview> {
    let ctx = context(settings).await?;
    state.station.cloud_verification_preview(&ctx, &ca).await
}

/// Registers CA `ca` (ACTIVE), or reports and reconciles an existing registration.
#[tauri::command]
pub async fn cloud_register_ca(
    state: State<'_, AppState>,
    settings: CloudSettings,
    ca: String,
    mode: CaMode,
    auto_registration: bool,
) -> CloudResult<RegisterCaOutcome> {
    let ctx = context(settings).await?;
    state.station.cloud_register_ca(&ctx, &ca, mode, auto_registration).await
}

/// Creates or updates the JITR stack (optionally with the allow-list) or attaches the JITP template.
#[tauri::command]
pub async fn cloud_deploy(
    state: State<'_, AppState>,
    settings: CloudSettings,
    ca: String,
    method: DeployMethod,
    allow_list: bool,
) -> CloudResult<Vec<PieceChange>> {
    let ctx = context(settings).await?;
    let ca_id = state.station.cloud_ca_id(&ca)?;
    let changes = match method {
        DeployMethod::Jitr => {
            let request = jitr::DeployRequest { ca_id, allow_list, ..Default::default() };
            jitr::deploy(&ctx, &request).await
        }
        DeployMethod::Jitp => jitp::deploy(&ctx, &jitp::JitpRequest { ca_id, policy_template: None, topic_prefix: None }).await,
    };
    let changes = changes.map_err(cloud_report)?;
    tracing::info!(ca = %ca, method = ?method, allow_list, pieces = changes.len(), "deployed automatic registration");
    Ok(changes)
}

/// Every piece of CA `ca`'s JITR stack and its health.
#[tauri::command]
pub async fn cloud_stack_status(state: State<'_, AppState>, settings: CloudSettings, ca: String) -> CloudResult<StackStatus> {
    let ctx = context(settings).await?;
    let ca_id = state.station.cloud_ca_id(&ca)?;
    jitr::status(&ctx, &ca_id).await.map_err(cloud_report)
}

/// The serials on CA `ca`'s allow-list.
#[tauri::command]
pub async fn cloud_allow_list(state: State<'_, AppState>, settings: CloudSettings, ca: String) -> CloudResult<Vec<String>> {
    let ca_id = state.station.cloud_ca_id(&ca)?;
    let ctx = context(settings).await?;
    allow_list::list(&ctx, &ca_id).await.map_err(cloud_report)
}

/// Adds serials typed or scanned by hand to CA `ca`'s allow-list (each checked first; nothing is written if one is
/// invalid).
#[tauri::command]
pub async fn cloud_allow_list_add(state: State<'_, AppState>, settings: CloudSettings, ca: String, serials: Vec<String>) -> CloudResult<Vec<String>> {
    let serials = allow_list::parse_serials(&serials.join("\n")).map_err(cloud_report)?;
    let ca_id = state.station.cloud_ca_id(&ca)?;
    let ctx = context(settings).await?;
    for serial in &serials {
        allow_list::add(&ctx, &ca_id, serial).await.map_err(cloud_report)?;
    }
    tracing::info!(count = serials.len(), "added serials to the allow-list");
    allow_list::list(&ctx, &ca_id).await.map_err(cloud_report)
}

/// Pushes the serials of a file (one per line, `#` comments) to CA `ca`'s allow-list in batches, then activates
/// the CA's devices that were waiting for it.
#[tauri::command]
pub async fn cloud_allow_list_sync(state: State<'_, AppState>, settings: CloudSettings, ca: String, path: PathBuf) -> CloudResult<AllowListSync> {
    let serials = allow_list::read_serials_file(&path).map_err(cloud_report)?;
    let ctx = context(settings).await?;
    let synced = state.station.cloud_allow_list_sync(&ctx, &ca, Some(serials), false).await?;
    tracing::info!(path = %path.display(), written = synced.report.written, activated = synced.activated.len(), "synced the allow-list");
    Ok(synced)
}

/// Pushes the serials of CA `ca`'s devices in the station's ledger to its allow-list, then activates waiting devices.
#[tauri::command]
pub async fn cloud_allow_list_sync_ledger(state: State<'_, AppState>, settings: CloudSettings, ca: String) -> CloudResult<AllowListSync> {
    let ctx = context(settings).await?;
    let report = state.station.cloud_allow_list_sync(&ctx, &ca, None, false).await?;
    tracing::info!(written = report.report.written, activated = report.activated.len(), "synced the allow-list from the device ledger");
    Ok(report)
}

/// Profile names from the AWS config and credentials files (bounded reads; section names only).
fn aws_profile_names() -> Vec<String> {
    const MAX_BYTES: u64 = 256 * 1024;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let config = std::env::var_os("AWS_CONFIG_FILE").map(PathBuf::from).or_else(|| home.as_ref().map(|h| h.join(".aws/config")));
    let credentials = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".aws/credentials")));
    let mut names = std::collections::BTreeSet::new();
    for path in [config, credentials].into_iter().flatten() {
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if meta.len() > MAX_BYTES {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        names.extend(profile_sections(&text));
    }
    names.into_iter().collect()
}

/// `[default]`, `[profile NAME]` (config) and `[NAME]` (credentials) section names; `[sso-session …]` is not one.
fn profile_sections(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix('[')?.strip_suffix(']'))
        .map(str::trim)
        .filter(|section| !section.starts_with("sso-session") && !section.starts_with("services"))
        .map(|section| section.strip_prefix("profile ").unwrap_or(section).trim().to_string())
        .filter(|name| !name.is_empty() && name.len() <= 128 && !name.contains(char::is_whitespace))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_sections_skip_sso_sessions_and_strip_the_profile_prefix() {
        let text = "[default]\nregion = eu-west-1\n[profile factory]\nsso_session = corp\n[sso-session corp]\n[services x]\n";
        assert_eq!(profile_sections(text), vec!["default", "factory"]);
    }

    #[test]
    fn the_emulator_gets_its_endpoint_and_region_and_blank_fields_are_unset() {
        let settings = normalise(CloudSettings { profile: Some("ignored".into()), region: Some(" ".into()), endpoint_url: None, emulator: true });
        assert_eq!(settings.endpoint_url.as_deref(), Some(EMULATOR_ENDPOINT_URL));
        assert_eq!(settings.region.as_deref(), Some(emulator::REGION));
        assert_eq!(settings.profile, None);
        let aws = normalise(CloudSettings { profile: Some("".into()), region: Some("eu-west-1".into()), endpoint_url: Some("".into()), emulator: false });
        assert_eq!((aws.profile, aws.region.as_deref(), aws.endpoint_url), (None, Some("eu-west-1"), None));
    }
}
