//! The Flash tool: check picked images, write them to a board (or RAM-load the helper) with byte progress on a
//! channel, cancel between blocks. Files are handles from the open dialog ([`crate::picked`]); the work is
//! `keyline_station::flash_check`.

use std::sync::{Arc, Mutex};

use keyline_station::flash::{FlashOutcome, FlashProgress, RamLoadOutcome};
use keyline_station::flash_check::{check_images, flash_files, ram_load_file, ImageFile, PlanCheck};
use keyline_station::provision::{CancelToken, SystemClock};
use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::State;

use super::on_station;
use crate::error::CommandResult;
use crate::picked::{FilePurpose, PickedFiles};
use crate::state::AppState;

/// One image of the Flash tool: a picked file and its offset.
#[derive(Debug, Clone, Deserialize)]
#[derive(specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ImageChoice {
    /// The handle `pick_file` returned (purpose `flashImage`).
    pub file: u32,
    /// Flash offset.
    pub offset: u32,
}

/// The running write or RAM load, if any (managed state).
#[derive(Default)]
pub struct FlashState(Mutex<Option<CancelToken>>);

impl FlashState {
    fn begin(&self) -> CancelToken {
        let token = CancelToken::new();
        if let Some(previous) = self.0.lock().unwrap_or_else(|p| p.into_inner()).replace(token.clone()) {
            previous.cancel();
        }
        token
    }

    fn end(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

fn files(picked: &PickedFiles, images: &[ImageChoice]) -> CommandResult<Vec<ImageFile>> {
    images.iter().map(|image| Ok(ImageFile { path: picked.path(image.file, FilePurpose::FlashImage)?, offset: image.offset })).collect()
}

/// Each image's validation (magic, segments, checksum, SHA-256, descriptor, chip, size against its partition) and the plan's.
#[tauri::command]
#[specta::specta]
pub async fn check_flash_images(state: State<'_, AppState>, picked: State<'_, Arc<PickedFiles>>, images: Vec<ImageChoice>) -> CommandResult<PlanCheck> {
    let files = files(&picked, &images)?;
    on_station(&state, "check images", move |_| Ok(check_images(&files))).await
}

/// Writes and verifies the images on the board at `port`; byte progress goes to `on_progress`.
#[tauri::command]
#[specta::specta]
pub async fn flash_board(
    state: State<'_, AppState>,
    picked: State<'_, Arc<PickedFiles>>,
    flash: State<'_, Arc<FlashState>>,
    port: String,
    baud: u32,
    images: Vec<ImageChoice>,
    on_progress: Channel<FlashProgress>,
) -> CommandResult<FlashOutcome> {
    let files = files(&picked, &images)?;
    let (flash, cancel) = (flash.inner().clone(), flash.begin());
    let result = on_station(&state, "flash board", move |station| {
        let mut progress = |p: &FlashProgress| drop(on_progress.send(p.clone()));
        Ok(flash_files(station.data_dir(), &port, baud, &files, &mut progress, &cancel, Arc::new(SystemClock))?)
    })
    .await;
    flash.end();
    result
}

/// Loads the picked helper into the RAM of the board at `port` and starts it; byte progress goes to `on_progress`.
#[tauri::command]
#[specta::specta]
pub async fn ram_load_board(
    state: State<'_, AppState>,
    picked: State<'_, Arc<PickedFiles>>,
    flash: State<'_, Arc<FlashState>>,
    port: String,
    baud: u32,
    file: u32,
    on_progress: Channel<FlashProgress>,
) -> CommandResult<RamLoadOutcome> {
    let helper = picked.path(file, FilePurpose::RamImage)?;
    let (flash, cancel) = (flash.inner().clone(), flash.begin());
    let result = on_station(&state, "RAM-load board", move |station| {
        let mut progress = |p: &FlashProgress| drop(on_progress.send(p.clone()));
        Ok(ram_load_file(station.data_dir(), &port, baud, &helper, &mut progress, &cancel, Arc::new(SystemClock))?)
    })
    .await;
    flash.end();
    result
}

/// Stops the running write or RAM load after the block in flight; false when none runs.
#[tauri::command]
#[specta::specta]
pub fn cancel_flash(flash: State<'_, Arc<FlashState>>) -> bool {
    match flash.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        Some(token) => {
            token.cancel();
            true
        }
        None => false,
    }
}
