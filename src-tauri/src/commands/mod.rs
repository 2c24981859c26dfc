//! Tauri commands: each is one call into `keyline_station`, run off the async runtime.

pub mod app;
pub mod ca;
pub mod cloud;
pub mod cloud_test;
pub mod custody;
pub mod devices;
pub mod files;
pub mod flash;
pub mod line;
pub mod ota;
pub mod ports;
pub mod practice;
pub mod template;

use std::sync::Arc;

use keyline_station::Station;

use crate::error::{CommandResult, ShellError};
use crate::state::AppState;

/// Runs blocking station work on Tauri's blocking pool.
pub(crate) async fn on_station<T, F>(state: &AppState, operation: &'static str, work: F) -> CommandResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Station) -> CommandResult<T> + Send + 'static,
{
    let station: Arc<Station> = state.station.clone();
    tauri::async_runtime::spawn_blocking(move || work(&station))
        .await
        .map_err(|error| ShellError::TaskFailed { operation, detail: error.to_string() })?
}
