//! Commands about the app itself: what the Settings screen shows and saves, keyring status, the log buffer.

use keyline_station::ca::KeyringStatus;
use keyline_station::settings::StationSettings;
use serde::Serialize;
use tauri::State;

use super::on_station;
use crate::error::CommandResult;
use crate::log_panel::LogEntry;
use crate::state::AppState;

/// What the Settings screen and the practice banner show.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// Version of the app.
    pub version: &'static str,
    /// The data directory in use.
    pub data_dir: String,
    /// Practice mode (simulated boards, local AWS emulator).
    pub practice: bool,
    /// Whether passphrases can be remembered in the OS keyring.
    pub keyring: KeyringStatus,
}

/// Data directory, practice mode, keyring status and version.
#[tauri::command]
#[specta::specta]
pub async fn app_info(state: State<'_, AppState>) -> CommandResult<AppInfo> {
    let practice = state.practice;
    on_station(&state, "app info", move |station| {
        Ok(AppInfo {
            version: env!("CARGO_PKG_VERSION"),
            data_dir: station.data_dir().display().to_string(),
            practice,
            keyring: station.keyring_status(),
        })
    })
    .await
}

/// Whether the OS keyring can remember passphrases (it may take a D-Bus round trip).
#[tauri::command]
#[specta::specta]
pub async fn keyring_status(state: State<'_, AppState>) -> CommandResult<KeyringStatus> {
    on_station(&state, "keyring status", |station| Ok(station.keyring_status())).await
}

/// The recent log lines, oldest first; live lines follow as `keyline://log` events.
#[tauri::command]
#[specta::specta]
pub fn get_logs(state: State<'_, AppState>) -> Vec<LogEntry> {
    state.logs.snapshot()
}

/// The station's settings: the station name recorded in the ledger and the serial defaults.
#[tauri::command]
#[specta::specta]
pub async fn get_settings(state: State<'_, AppState>) -> CommandResult<StationSettings> {
    on_station(&state, "read settings", |station| Ok(station.settings()?)).await
}

/// Checks and saves `settings` (the station refuses values out of range, saving nothing); returns them as saved.
#[tauri::command]
#[specta::specta]
pub async fn save_settings(state: State<'_, AppState>, settings: StationSettings) -> CommandResult<StationSettings> {
    on_station(&state, "save settings", move |station| Ok(station.save_settings(&settings)?)).await
}
