//! The shell's error type; every failure reaches the UI as an `ErrorReport {code, message, hint}`.

use std::path::PathBuf;

use keyline_station::{Audience, ErrorCode, ErrorReport};
use serde::Serialize;

/// What can fail in a command, on top of the station's own errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShellError {
    /// A station operation failed; its code and hint are passed through.
    #[error(transparent)]
    Station(#[from] keyline_station::Error),
    /// The background task running an operation panicked or was cancelled.
    #[error("the {operation} task stopped unexpectedly: {detail}")]
    TaskFailed {
        /// The command that was running.
        operation: &'static str,
        /// What the runtime reported.
        detail: String,
    },
    /// Writing an exported file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// Where the file was to be written.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The UI asked to write more than the shell accepts.
    #[error("the {what} is {size} bytes; at most {max} bytes can be saved")]
    TooLarge {
        /// What was to be written.
        what: &'static str,
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// A command named a file handle the user did not pick (for this purpose) in the open dialog.
    #[error("file {handle} was not chosen in the open dialog for this")]
    NotPicked {
        /// The handle the page sent.
        handle: u32,
    },
}

impl ShellError {
    /// The report the UI shows: the station's report, or the shell's own code and hint.
    pub fn report(&self) -> ErrorReport {
        match self {
            ShellError::Station(error) => error.report_for(Audience::Gui),
            ShellError::TaskFailed { .. } => ErrorReport {
                code: ErrorCode::TaskFailed,
                message: self.to_string(),
                hint: "Try again; if it keeps failing, download the log panel's lines and report them.".into(),
            },
            ShellError::Write { .. } => ErrorReport {
                code: ErrorCode::WriteFailed,
                message: self.to_string(),
                hint: "Choose a folder you can write to, and check that the disk is not full.".into(),
            },
            ShellError::NotPicked { .. } => ErrorReport {
                code: ErrorCode::InvalidInput,
                message: self.to_string(),
                hint: "Choose the file again with its Choose button.".into(),
            },
            ShellError::TooLarge { .. } => ErrorReport {
                code: ErrorCode::TooLarge,
                message: self.to_string(),
                hint: "Save a smaller file; generated sources and certificates are far below this limit.".into(),
            },
        }
    }
}

impl Serialize for ShellError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.report().serialize(serializer)
    }
}

/// In the generated bindings a failed command throws an `ErrorReport`, which is what reaches the window.
impl specta::Type for ShellError {
    fn definition(types: &mut specta::Types) -> specta::datatype::DataType {
        ErrorReport::definition(types)
    }
}

/// Result of a command.
pub type CommandResult<T> = Result<T, ShellError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_errors_serialise_as_code_message_hint() {
        let error = ShellError::Write {
            path: PathBuf::from("/ro/root.crt"),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "write_failed");
        assert!(json["message"].as_str().unwrap().contains("/ro/root.crt"));
        assert!(!json["hint"].as_str().unwrap().is_empty());
    }
}
