//! Devices screen commands: a page of the ledger, one device, and an export of the current search.

use std::path::PathBuf;
use std::sync::Arc;

use keyline_station::device_view::DeviceDetail;
use keyline_station::ledger::{DevicePage, DeviceQuery, ExportFormat};
use tauri::State;
use tracing::info;

use super::on_station;
use crate::error::{CommandResult, ShellError};
use crate::file_dialog::{FileDialogs, FileRequest};
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

/// Opens the save dialog and writes every device matching `query` as CSV or JSON where the user picked; the path
/// and the bytes written, or `null` if cancelled.
#[tauri::command]
#[specta::specta]
pub async fn export_devices(
    state: State<'_, AppState>,
    dialogs: State<'_, Arc<FileDialogs>>,
    query: DeviceQuery,
    format: ExportFormat,
) -> CommandResult<Option<ExportedFile>> {
    let dialogs = dialogs.inner().clone();
    on_station(&state, "export devices", move |station| {
        let (extension, filter) = match format {
            ExportFormat::Csv => ("csv", "CSV"),
            ExportFormat::Json => ("json", "JSON"),
        };
        let request = FileRequest { title: "Export devices", file_name: format!("devices.{extension}"), filter, extensions: vec![extension.into()] };
        let Some(path) = dialogs.save_path(request) else { return Ok(None) };
        let bytes = station.export_devices(&query, format)?;
        std::fs::write(&path, &bytes).map_err(|source| ShellError::Write { path: path.clone(), source })?;
        info!(path = %path.display(), bytes = bytes.len(), "devices exported");
        Ok(Some(ExportedFile { path, bytes: bytes.len() }))
    })
    .await
}

/// A file written where the user picked.
#[derive(Debug, Clone, serde::Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ExportedFile {
    /// Where.
    pub path: PathBuf,
    /// Bytes written.
    pub bytes: usize,
}
