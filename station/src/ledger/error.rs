//! What can go wrong with the device ledger, each with a stable code and what to do about it.

use std::path::PathBuf;

/// A device ledger failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// A device serial that is not 18 lowercase hex characters.
    #[error("invalid device serial \"{serial}\": a chip serial is 18 lowercase hex characters (9 bytes), e.g. 0123abcdef01020304")]
    InvalidSerial {
        /// The rejected text (shortened for display).
        serial: String,
    },
    /// No device with that serial.
    #[error("no device {serial} in the ledger")]
    DeviceNotFound {
        /// The serial looked up.
        serial: String,
    },
    /// The certificate is already recorded for another device.
    #[error("certificate {cert_id} is already recorded for device {serial}")]
    CertificateInUse {
        /// SHA-256 of the DER.
        cert_id: String,
        /// The device that has it.
        serial: String,
    },
    /// An event kind or detail the ledger does not accept.
    #[error("invalid device event: {reason}")]
    InvalidEvent {
        /// Why.
        reason: String,
    },
    /// A device search the ledger does not accept.
    #[error("invalid device search: {reason}")]
    InvalidSearch {
        /// Why.
        reason: String,
    },
    /// The ledger file has a schema this build does not know.
    #[error("the device ledger {path} has schema version {found}; this Keyline knows versions up to {known}")]
    NewerSchema {
        /// The ledger file.
        path: PathBuf,
        /// Newest version applied to it.
        found: i64,
        /// Newest version this build has.
        known: i64,
    },
    /// A stored row does not hold what the schema promises.
    #[error("the device ledger is damaged: {detail}")]
    Corrupt {
        /// What is wrong.
        detail: String,
    },
    /// Another process kept the write lock longer than this one waits.
    #[error("the device ledger {path} stayed locked by another Keyline process for more than {waited_secs} s")]
    Busy {
        /// The ledger file.
        path: PathBuf,
        /// How long this process waited.
        waited_secs: f32,
    },
    /// SQLite failed.
    #[error("cannot {action} the device ledger {path}: {source}")]
    Database {
        /// What was being done ("open", "read", "write").
        action: &'static str,
        /// The ledger file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The ledger file cannot be created.
    #[error("cannot create the device ledger {path}: {source}")]
    Io {
        /// The ledger file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A backup could not be made.
    #[error("cannot back up the device ledger to {path}: {detail}")]
    Backup {
        /// The backup file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// An export could not be written.
    #[error("cannot export the device ledger: {detail}")]
    Export {
        /// What failed.
        detail: String,
    },
}

impl LedgerError {
    /// Stable machine-readable code.
    pub fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            LedgerError::InvalidSerial { .. } => ErrorCode::InvalidSerial,
            LedgerError::DeviceNotFound { .. } => ErrorCode::DeviceNotFound,
            LedgerError::CertificateInUse { .. } => ErrorCode::CertificateInUse,
            LedgerError::InvalidEvent { .. } => ErrorCode::InvalidEvent,
            LedgerError::InvalidSearch { .. } => ErrorCode::InvalidSearch,
            LedgerError::NewerSchema { .. } => ErrorCode::LedgerNewerSchema,
            LedgerError::Corrupt { .. } => ErrorCode::LedgerCorrupt,
            LedgerError::Busy { .. } => ErrorCode::LedgerBusy,
            LedgerError::Database { .. } => ErrorCode::LedgerDatabase,
            LedgerError::Io { .. } => ErrorCode::LedgerIo,
            LedgerError::Export { .. } => ErrorCode::LedgerExport,
            LedgerError::Backup { .. } => ErrorCode::LedgerBackup,
        }
    }

    /// What the operator should do next.
    pub fn hint(&self) -> String {
        match self {
            LedgerError::InvalidSerial { .. } => "Pass the chip serial as printed by `keyline devices list` (18 hex digits).".into(),
            LedgerError::DeviceNotFound { .. } => "Run `keyline devices list` to see the devices this station has issued certificates to.".into(),
            LedgerError::CertificateInUse { .. } => "A certificate names one device; check the serial and issue a new certificate for this chip.".into(),
            LedgerError::InvalidEvent { .. } => "This is a bug in the caller; please report it with the log file.".into(),
            LedgerError::InvalidSearch { .. } => "Shorten the search text (at most 128 characters) and try again.".into(),
            LedgerError::NewerSchema { .. } => "Update Keyline to the version that wrote this data directory.".into(),
            LedgerError::Corrupt { .. } | LedgerError::Database { .. } | LedgerError::Io { .. } => {
                "Check that the data directory is writable and not full; restore ledger.sqlite3 from a backup if it is damaged.".into()
            }
            LedgerError::Busy { .. } => "Another Keyline (the desktop app or a `keyline` command on this data directory) is writing the ledger; \
                 let it finish or close it, then retry. Nothing was recorded by this attempt."
                .into(),
            LedgerError::Backup { .. } => "Check that the backup's folder is writable and has room, then back up again.".into(),
            LedgerError::Export { .. } => "Check that the output path is writable, then export again.".into(),
        }
    }

    pub(crate) fn db<'a>(action: &'static str, path: &'a std::path::Path) -> impl FnOnce(rusqlite::Error) -> LedgerError + 'a {
        move |source| {
            if super::access::is_busy(&source) {
                LedgerError::Busy { path: path.to_path_buf(), waited_secs: super::access::BUSY_WAIT.as_secs_f32() }
            } else {
                LedgerError::Database { action, path: path.to_path_buf(), source }
            }
        }
    }
}
