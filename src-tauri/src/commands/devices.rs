//! Devices screen commands: a page of the ledger, one device, and an export of the current search.

use std::path::PathBuf;

use keyline_station::device_view::DeviceDetail;
use keyline_station::ledger::{DevicePage, DeviceQuery, ExportFormat};
use tauri::State;
use tracing::info;

use super::on_station;
use crate::error::{CommandResult, ShellError};
use crate::state::AppState;

/// One page of the devices matching `query`.
#[tauri::command]
#[specta::specta]
pub async fn search_devices(state: State<'_, AppState>, query: DeviceQuery) -> CommandResult<DevicePage> {
    on_station(&state, "search devices", move |station| Ok(station.search_devices(&query)?)).await
}

/// One device with its decoded certificate, chain, timeline and cloud status.
#[tauri::command]
#[specta::specta]
pub async fn device_detail(state: State<'_, AppState>, serial: String) -> CommandResult<DeviceDetail> {
    on_station(&state, "show device", move |station| Ok(station.device_detail(&serial)?)).await
}

/// Writes every device matching `query` as CSV or JSON to `path` (picked in the save dialog); returns the bytes written.
#[tauri::command]
#[specta::specta]
pub async fn export_devices(state: State<'_, AppState>, query: DeviceQuery, format: ExportFormat, path: PathBuf) -> CommandResult<usize> {
    on_station(&state, "export devices", move |station| {
        let bytes = station.export_devices(&query, format)?;
        std::fs::write(&path, &bytes).map_err(|source| ShellError::Write { path: path.clone(), source })?;
        info!(path = %path.display(), bytes = bytes.len(), "devices exported");
        Ok(bytes.len())
    })
    .await
}
