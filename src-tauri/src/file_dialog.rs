//! The file dialogs the shell opens itself: no command takes a file path from the page.
//!
//! A command that writes or reads a file the user names asks [`FileDialogs`] for the path: the native save or
//! open dialog in the app, or answers given in advance in tests. The page may only suggest a file *name*
//! ([`suggested_name`] keeps the last component and drops anything else), so a compromised page can neither write
//! nor read a path the user did not pick.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tauri::{AppHandle, Runtime};

/// What a dialog asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRequest {
    /// The dialog's title.
    pub title: &'static str,
    /// The file name offered (save dialogs).
    pub file_name: String,
    /// The filter's name ("PEM certificate").
    pub filter: &'static str,
    /// The filter's extensions, without dots.
    pub extensions: Vec<String>,
}

/// Opens one native dialog; set once the app's handle exists (see [`FileDialogs::attach`]).
type NativeOpener = Box<dyn Fn(&FileRequest, Kind) -> Option<PathBuf> + Send + Sync>;

/// Where file paths come from (managed Tauri state). Commands take no `AppHandle`, so they stay independent of the
/// runtime (one typed command list serves the window and the IPC tests).
pub enum FileDialogs {
    /// The native dialogs of tauri-plugin-dialog, once [`FileDialogs::attach`] gave them the app.
    Native(std::sync::OnceLock<NativeOpener>),
    /// Answers given in advance, one per dialog in order (`None`: the user cancelled); each request is kept.
    Scripted {
        /// The next answers.
        answers: Mutex<VecDeque<Option<PathBuf>>>,
        /// Every request made, in order.
        asked: Mutex<Vec<FileRequest>>,
    },
}

impl FileDialogs {
    /// The native dialogs (the app); they open once [`FileDialogs::attach`] ran.
    pub fn native() -> FileDialogs {
        FileDialogs::Native(std::sync::OnceLock::new())
    }

    /// Gives native dialogs the app they open on (in the app's setup hook); does nothing for scripted ones.
    pub fn attach<R: Runtime>(&self, app: AppHandle<R>) {
        if let FileDialogs::Native(opener) = self {
            let _ = opener.set(Box::new(move |request, kind| native(&app, request, kind)));
        }
    }

    /// Dialogs that answer `answers` in order (tests).
    pub fn scripted(answers: impl IntoIterator<Item = Option<PathBuf>>) -> FileDialogs {
        FileDialogs::Scripted { answers: Mutex::new(answers.into_iter().collect()), asked: Mutex::new(Vec::new()) }
    }

    /// The requests made so far (empty for native dialogs).
    pub fn asked(&self) -> Vec<FileRequest> {
        match self {
            FileDialogs::Native(_) => Vec::new(),
            FileDialogs::Scripted { asked, .. } => asked.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }

    /// Asks where to save; `None` when the user cancels. Blocks until the dialog closes (call it off the main thread).
    pub fn save_path(&self, request: FileRequest) -> Option<PathBuf> {
        self.ask(request, Kind::Save)
    }

    /// Asks which file to open; `None` when the user cancels.
    pub fn open_path(&self, request: FileRequest) -> Option<PathBuf> {
        self.ask(request, Kind::Open)
    }

    fn ask(&self, request: FileRequest, kind: Kind) -> Option<PathBuf> {
        match self {
            FileDialogs::Native(opener) => match opener.get() {
                Some(open) => open(&request, kind),
                None => {
                    tracing::warn!(title = request.title, "no file dialog: the app has not attached its dialogs yet");
                    None
                }
            },
            FileDialogs::Scripted { answers, asked } => {
                asked.lock().unwrap_or_else(|p| p.into_inner()).push(request);
                answers.lock().unwrap_or_else(|p| p.into_inner()).pop_front().flatten()
            }
        }
    }
}

/// Which dialog.
#[derive(Clone, Copy)]
pub enum Kind {
    /// Where to save.
    Save,
    /// Which file to open.
    Open,
}

fn native<R: Runtime>(app: &AppHandle<R>, request: &FileRequest, kind: Kind) -> Option<PathBuf> {
    use tauri_plugin_dialog::DialogExt;
    let extensions: Vec<&str> = request.extensions.iter().map(String::as_str).collect();
    let dialog = app.dialog().file().set_title(request.title).add_filter(request.filter, &extensions);
    let picked = match kind {
        Kind::Save => dialog.set_file_name(&request.file_name).blocking_save_file(),
        Kind::Open => dialog.blocking_pick_file(),
    };
    picked.and_then(|path| path.into_path().ok())
}

/// The page's suggestion reduced to a plain file name (no folders, no `..`, at most 100 characters), or `fallback`.
pub fn suggested_name(suggestion: &str, fallback: &str) -> String {
    let last = Path::new(suggestion).file_name().and_then(|name| name.to_str()).unwrap_or("");
    let clean: String = last.chars().filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | ':')).take(100).collect();
    if clean.is_empty() || clean.starts_with('.') {
        fallback.to_string()
    } else {
        clean
    }
}

/// The extension of `name` if it is short and alphanumeric (a filter the dialog can show), else `fallback`.
pub fn extension_of(name: &str, fallback: &str) -> String {
    match Path::new(name).extension().and_then(|ext| ext.to_str()) {
        Some(ext) if !ext.is_empty() && ext.len() <= 8 && ext.chars().all(|c| c.is_ascii_alphanumeric()) => ext.to_string(),
        _ => fallback.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suggested_name_keeps_only_a_plain_file_name() {
        assert_eq!(suggested_name("cert_chain.c", "x"), "cert_chain.c");
        assert_eq!(suggested_name("/home/op/.bashrc", "x"), "x", "a hidden file is not offered");
        assert_eq!(suggested_name("../../etc/passwd", "x"), "passwd");
        assert_eq!(suggested_name("..", "x"), "x");
        assert_eq!(suggested_name("", "devices.csv"), "devices.csv");
        assert_eq!(extension_of("cert_chain.h", "txt"), "h");
        assert_eq!(extension_of("archive.tar.gz;rm", "txt"), "txt");
    }
}
