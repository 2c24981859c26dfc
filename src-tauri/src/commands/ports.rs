//! The port list: real serial ports and the simulated boards published in the data directory.

use std::sync::Arc;

use keyline_station::ports::{list_ports as station_list_ports, PortList};
use tauri::State;

use crate::error::{CommandResult, ShellError};
use crate::practice::Practice;

/// Ports a board can be on, simulated boards first; `warnings` says what was skipped.
#[tauri::command]
#[specta::specta]
pub async fn list_ports(practice: State<'_, Arc<Practice>>) -> CommandResult<PortList> {
    let data_dir = practice.data_dir().to_path_buf();
    tauri::async_runtime::spawn_blocking(move || station_list_ports(&data_dir).map_err(|e| ShellError::Station(e.into())))
        .await
        .map_err(|error| ShellError::TaskFailed { operation: "port listing", detail: error.to_string() })?
}
