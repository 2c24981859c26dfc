//! Practice-mode commands: status of the simulated boards and the local AWS emulator, and starting/stopping them.

use std::sync::Arc;

use keyline_station::{ErrorCode, ErrorReport};
use tauri::State;

use crate::practice::{practice_off, BoardRequest, Practice, PracticeStatus};

/// Result of a practice command.
pub type PracticeResult<T> = Result<T, ErrorReport>;

async fn blocking<T: Send + 'static>(
    practice: &Arc<Practice>,
    work: impl FnOnce(&Practice) -> PracticeResult<T> + Send + 'static,
) -> PracticeResult<T> {
    let practice = practice.clone();
    tauri::async_runtime::spawn_blocking(move || work(&practice)).await.map_err(|error| ErrorReport {
        code: ErrorCode::TaskFailed,
        message: format!("the practice task stopped unexpectedly: {error}"),
        hint: "Try again; if it keeps failing, download the log panel's lines and report them.".into(),
    })?
}

/// Simulated boards (label, pty, firmware), their timing, and the emulator's state and endpoint.
#[tauri::command]
#[specta::specta]
pub fn practice_status(practice: State<'_, Arc<Practice>>) -> PracticeStatus {
    practice.status()
}

/// Starts `count` simulated boards (replacing running ones); they appear in `list_ports` as "Simulated board N".
#[tauri::command]
#[specta::specta]
pub async fn start_sim_boards(
    practice: State<'_, Arc<Practice>>,
    count: usize,
    firmware: String,
    timing: String,
) -> PracticeResult<PracticeStatus> {
    let request = BoardRequest { count, firmware, timing };
    blocking(&practice, move |practice| {
        practice.start_boards(&request)?;
        Ok(practice.status())
    })
    .await
}

/// Stops the simulated boards (their chips keep their state for the next start).
#[tauri::command]
#[specta::specta]
pub async fn stop_sim_boards(practice: State<'_, Arc<Practice>>) -> PracticeResult<PracticeStatus> {
    blocking(&practice, |practice| {
        practice.stop_boards();
        Ok(practice.status())
    })
    .await
}

/// Starts (or retries) the local AWS emulator in the background; poll `practice_status` for its state.
#[tauri::command]
#[specta::specta]
pub async fn start_emulator(practice: State<'_, Arc<Practice>>) -> PracticeResult<PracticeStatus> {
    blocking(&practice, |practice| {
        if !practice.enabled() {
            return Err(practice_off());
        }
        practice.emulator().start_in_background();
        Ok(practice.status())
    })
    .await
}

/// Stops the local AWS emulator.
#[tauri::command]
#[specta::specta]
pub async fn stop_emulator(practice: State<'_, Arc<Practice>>) -> PracticeResult<PracticeStatus> {
    blocking(&practice, |practice| {
        practice.emulator().stop();
        Ok(practice.status())
    })
    .await
}
