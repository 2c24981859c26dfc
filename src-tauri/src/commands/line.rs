//! Factory line commands: start a shift (events stream on a channel), stop or abort it, retry a board.
//! The shift itself is `keyline_station::line::LineSession`.

use std::sync::{Arc, Mutex};

use keyline_station::line::{LineSession, LineSettings};
use keyline_station::provision::{ShiftCounters, ShiftEvent, ShiftObserver};
use tauri::ipc::Channel;
use tauri::State;

use super::on_station;
use crate::error::CommandResult;
use crate::picked::{FilePurpose, PickedFiles};
use crate::state::AppState;

/// The running shift, if any (managed state).
#[derive(Default)]
pub struct LineState(Mutex<Option<LineSession>>);

impl LineState {
    fn take(&self) -> Option<LineSession> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Starts a shift with `settings`; every port, step, serial byte and result is sent on `on_event`.
/// A shift already running is stopped first. Firmware files are handles from `pick_file`: the helper picked as
/// `ramImage`, the provisioning and product images as `flashImage`.
#[tauri::command]
#[specta::specta]
pub async fn start_line(
    state: State<'_, AppState>,
    line: State<'_, Arc<LineState>>,
    picked: State<'_, Arc<PickedFiles>>,
    settings: LineSettings,
    on_event: Channel<ShiftEvent>,
) -> CommandResult<()> {
    let line = line.inner().clone();
    let station = state.station.clone();
    let spec = match &settings.firmware_steps {
        Some(steps) => Some(steps.spec(|file| picked.path(file, FilePurpose::RamImage), |file| picked.path(file, FilePurpose::FlashImage))?),
        None => None,
    };
    on_station(&state, "start shift", move |_| {
        if let Some(previous) = line.take() {
            previous.stop();
        }
        let observer: ShiftObserver = Arc::new(move |event: &ShiftEvent| {
            let _ = on_event.send(event.clone());
        });
        let session = LineSession::start(station, &settings, spec.as_ref(), observer)?;
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
