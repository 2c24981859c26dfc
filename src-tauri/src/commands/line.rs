//! Factory line commands: start a shift (events stream on a channel), stop or abort it, retry a board.
//! The shift itself is `keyline_station::line::LineSession`.

use std::sync::{Arc, Mutex};

use keyline_station::line::{describe_firmware, LineSession, LineSettings, PickedFiles, PickedFirmware};
use keyline_station::provision::{ShiftCounters, ShiftEvent, ShiftObserver};
use tauri::ipc::Channel;
use tauri::State;

use super::files::off_main;
use super::on_station;
use crate::error::CommandResult;
use crate::file_dialog::{FileDialogs, FileRequest};
use crate::state::AppState;

/// The running shift, if any, and the firmware files picked for shifts (managed state).
#[derive(Default)]
pub struct LineState(Mutex<Option<LineSession>>, Arc<PickedFiles>);

impl LineState {
    fn take(&self) -> Option<LineSession> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Starts a shift with `settings`; every port, step, serial byte and result is sent on `on_event`.
/// A shift already running is stopped first.
#[tauri::command]
#[specta::specta]
pub async fn start_line(
    state: State<'_, AppState>,
    line: State<'_, Arc<LineState>>,
    settings: LineSettings,
    on_event: Channel<ShiftEvent>,
) -> CommandResult<()> {
    let line = line.inner().clone();
    let station = state.station.clone();
    on_station(&state, "start shift", move |_| {
        if let Some(previous) = line.take() {
            previous.stop();
        }
        let observer: ShiftObserver = Arc::new(move |event: &ShiftEvent| {
            let _ = on_event.send(event.clone());
        });
        let session = LineSession::start_with_files(station, &settings, &line.1, observer)?;
        *line.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(session);
        Ok(())
    })
    .await
}

/// Ends the shift: softly (boards holding a certificate finish), or at once with `abort`.
#[tauri::command]
#[specta::specta]
pub async fn stop_line(state: State<'_, AppState>, line: State<'_, Arc<LineState>>, abort: bool) -> CommandResult<ShiftCounters> {
    let line = line.inner().clone();
    on_station(&state, "stop shift", move |_| {
        Ok(match line.take() {
            Some(session) if abort => session.abort(),
            Some(session) => session.stop(),
            None => ShiftCounters::default(),
        })
    })
    .await
}

/// Runs the board on `port` again within the running shift.
#[tauri::command]
#[specta::specta]
pub async fn retry_board(line: State<'_, Arc<LineState>>, port: String) -> CommandResult<bool> {
    let guard = line.0.lock().unwrap_or_else(|p| p.into_inner());
    Ok(match guard.as_ref() {
        Some(session) => {
            session.retry(&port);
            true
        }
        None => false,
    })
}

/// Opens the open dialog for a firmware file of the shift set-up: the Espressif helper to RAM-load (`ram`, checked
/// as a loadable RAM image) or a flash image. Returns the file's number and what it is; `null` if cancelled. The
/// page refers to the file by that number only.
#[tauri::command]
#[specta::specta]
pub async fn pick_line_firmware(dialogs: State<'_, Arc<FileDialogs>>, line: State<'_, Arc<LineState>>, ram: bool) -> CommandResult<Option<PickedFirmware>> {
    let (dialogs, files) = (dialogs.inner().clone(), line.1.clone());
    off_main("pick firmware", move || {
        let title = if ram { "Helper firmware to RAM-load" } else { "Firmware image to flash" };
        let request = FileRequest { title, file_name: String::new(), filter: "Firmware image", extensions: vec!["bin".into()] };
        let Some(path) = dialogs.open_path(request) else { return Ok(None) };
        Ok(Some(describe_firmware(&files, path, ram)?))
    })
    .await
}
