//! [`FlashError`]: why flashing or RAM-loading a board failed, with a stable code per kind.

use super::ImageRefusal;

/// Why flashing or RAM-loading failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlashError {
    /// An image was refused before anything was written.
    #[error("image refused, nothing written: {0}")]
    Refused(#[from] ImageRefusal),
    /// An image file could not be read.
    #[error("cannot read {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What the OS said.
        reason: String,
    },
    /// The port could not be opened.
    #[error("cannot open {port}: {reason}")]
    PortOpen {
        /// The port.
        port: String,
        /// What the OS said.
        reason: String,
    },
    /// The board did not answer as an ESP ROM serial loader.
    #[error("{port} is not an ESP ROM loader (no answer to SYNC after resetting into download mode with {reset}): {reason}")]
    NotRomLoader {
        /// The port.
        port: String,
        /// The reset strategy used.
        reset: String,
        /// What espflash said.
        reason: String,
    },
    /// The board disappeared (port gone or closed) during the operation.
    #[error("the board on {port} vanished after {written} of {total} bytes: {reason}")]
    Vanished {
        /// The port.
        port: String,
        /// Bytes acknowledged before it went.
        written: u64,
        /// Bytes planned.
        total: u64,
        /// What failed.
        reason: String,
    },
    /// The loader refused a command or stopped answering.
    #[error("the ROM loader failed during {step} after {written} bytes: {reason}")]
    Loader {
        /// What was being done.
        step: String,
        /// Bytes acknowledged before the failure.
        written: u64,
        /// What espflash said.
        reason: String,
    },
    /// The flash read back differs from the image.
    #[error("{name} at {offset:#x}: the flash MD5 is {found}, the image's is {expected}")]
    VerifyFailed {
        /// The image.
        name: String,
        /// Its offset.
        offset: u32,
        /// MD5 the image gives.
        expected: String,
        /// MD5 the board reports.
        found: String,
    },
    /// Resetting the board failed.
    #[error("cannot reset the board: {0}")]
    Reset(String),
    /// Cancelled between blocks.
    #[error("cancelled after {written} bytes")]
    Cancelled {
        /// Bytes written before the stop.
        written: u64,
    },
}

impl FlashError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            FlashError::Refused(refusal) => refusal.code(),
            FlashError::File { .. } => "file_unreadable",
            FlashError::PortOpen { .. } => "port_open",
            FlashError::NotRomLoader { .. } => "not_rom_loader",
            FlashError::Vanished { .. } => "board_vanished",
            FlashError::Loader { .. } => "loader_failed",
            FlashError::VerifyFailed { .. } => "verify_failed",
            FlashError::Reset(_) => "reset_failed",
            FlashError::Cancelled { .. } => "cancelled",
        }
    }
}
