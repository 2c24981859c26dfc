//! Writing text the user chose to save (certificates, generated C sources) to a path picked in
//! the native save dialog.

use std::path::{Path, PathBuf};

use tracing::info;

use crate::error::{CommandResult, ShellError};

/// Largest text the UI may ask the shell to write (generated sources are tens of kilobytes).
pub const MAX_SAVED_TEXT_BYTES: usize = 4 * 1024 * 1024;

/// Writes `contents` to `path`, refusing text over [`MAX_SAVED_TEXT_BYTES`].
pub(crate) fn write_text_file(path: &Path, contents: &str) -> CommandResult<()> {
    if contents.len() > MAX_SAVED_TEXT_BYTES {
        return Err(ShellError::TooLarge { what: "text to save", size: contents.len(), max: MAX_SAVED_TEXT_BYTES });
    }
    std::fs::write(path, contents).map_err(|source| ShellError::Write { path: path.to_path_buf(), source })
}

/// Saves text the UI produced (e.g. `cert_chain.c`) to `path`, picked in the native save dialog.
#[tauri::command]
#[specta::specta]
pub async fn save_text_file(path: PathBuf, contents: String) -> CommandResult<()> {
    tauri::async_runtime::spawn_blocking(move || {
        write_text_file(&path, &contents)?;
        info!(path = %path.display(), bytes = contents.len(), "file saved");
        Ok(())
    })
    .await
    .map_err(|error| ShellError::TaskFailed { operation: "save file", detail: error.to_string() })?
}
