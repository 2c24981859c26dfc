//! Saving text the page produced (generated C sources) to a path the user picks in the save dialog the shell
//! opens; the page suggests a file name only.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tauri::State;
use tracing::info;

use crate::error::{CommandResult, ShellError};
use crate::file_dialog::{extension_of, suggested_name, FileDialogs, FileRequest};

/// Largest text the UI may ask the shell to write (generated sources are tens of kilobytes).
pub const MAX_SAVED_TEXT_BYTES: usize = 4 * 1024 * 1024;

/// Writes `contents` to `path`, refusing text over [`MAX_SAVED_TEXT_BYTES`].
pub(crate) fn write_text_file(path: &Path, contents: &str) -> CommandResult<()> {
    check_size(contents)?;
    std::fs::write(path, contents).map_err(|source| ShellError::Write { path: path.to_path_buf(), source })
}

fn check_size(contents: &str) -> CommandResult<()> {
    if contents.len() > MAX_SAVED_TEXT_BYTES {
        return Err(ShellError::TooLarge { what: "text to save", size: contents.len(), max: MAX_SAVED_TEXT_BYTES });
    }
    Ok(())
}

/// Runs blocking work that may open a dialog on Tauri's blocking pool.
pub(crate) async fn off_main<T: Send + 'static>(operation: &'static str, work: impl FnOnce() -> CommandResult<T> + Send + 'static) -> CommandResult<T> {
    tauri::async_runtime::spawn_blocking(work).await.map_err(|error| ShellError::TaskFailed { operation, detail: error.to_string() })?
}

/// Opens the save dialog (offering `suggested_name`, e.g. `cert_chain.c`) and writes `contents` where the user
/// picked; the path written, or `null` when the user cancelled.
#[tauri::command]
#[specta::specta]
pub async fn save_text_file(
    dialogs: State<'_, Arc<FileDialogs>>,
    suggested_name: String,
    contents: String,
) -> CommandResult<Option<PathBuf>> {
    check_size(&contents)?;
    let dialogs = dialogs.inner().clone();
    off_main("save file", move || {
        let file_name = self::suggested_name(&suggested_name, "keyline.txt");
        let extension = extension_of(&file_name, "txt");
        let request = FileRequest { title: "Save file", file_name, filter: "Text", extensions: vec![extension] };
        let Some(path) = dialogs.save_path(request) else { return Ok(None) };
        write_text_file(&path, &contents)?;
        info!(path = %path.display(), bytes = contents.len(), "file saved");
        Ok(Some(path))
    })
    .await
}

/// Opens the open dialog for `purpose`; the picked file's handle and name (never its path), or `null` when the
/// user cancelled. Commands that read a file take this handle. A firmware file comes described (size, SHA-256,
/// chip, version); the helper to RAM-load (`ramImage`) is checked as a loadable RAM image first.
#[tauri::command]
#[specta::specta]
pub async fn pick_file(
    dialogs: State<'_, Arc<FileDialogs>>,
    picked: State<'_, Arc<crate::picked::PickedFiles>>,
    purpose: crate::picked::FilePurpose,
) -> CommandResult<Option<crate::picked::PickedFile>> {
    let (dialogs, picked) = (dialogs.inner().clone(), picked.inner().clone());
    off_main("choose file", move || picked.pick(&dialogs, purpose)).await
}
