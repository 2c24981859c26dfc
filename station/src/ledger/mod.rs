//! The device ledger: every device this station has issued a certificate to, in `<data_dir>/ledger.sqlite3`.
//!
//! A [`Ledger`] is an open SQLite connection on that file. Its schema (`schema.sql`) is plain portable SQL
//! (TEXT and BIGINT, times as RFC 3339 UTC text) so the same tables can live in PostgreSQL later; migrations are
//! recorded in `schema_migrations` and applied on [`Ledger::open`] when the file's version differs. Read-only
//! commands use [`Ledger::open_read_only`], which never takes the write lock (see `access.rs`). The table `devices` holds one row per chip
//! serial with its current certificate; `device_events` holds each device's timeline (issued, certificate
//! replaced, and what the provisioning work adds).
//!
//! Certificates are joined with AWS IoT by certificate id: the SHA-256 of the DER in lowercase hex.

mod access;
mod audit;
mod backup;
mod devices;
mod error;
mod events;
mod export;
mod migrate;
mod provisioning;
mod search;
mod ota_state;
mod serial;
#[cfg(test)]
mod durability_tests;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use devices::{Device, DeviceFilter, NewDevice, PendingRecord, Recorded, DEVICE_STATUS_ISSUED, DEVICE_STATUS_TEST};
pub use error::LedgerError;
pub use events::DeviceEvent;
pub use export::{export, ExportFormat};
pub use migrate::SCHEMA_VERSION;
pub use ota_state::OtaStateRow;
pub use serial::DeviceSerial;
pub use search::{DevicePage, DeviceQuery, MAX_PAGE};
pub use audit::{AuditReport, BrokenLink};
pub use backup::{BackupReport, LedgerCheck};
pub use provisioning::{StepRecord, DEVICE_STATUS_FAILED, DEVICE_STATUS_VERIFIED, DEVICE_STATUS_WRITTEN};

use access::Access;

use crate::clock::{SharedClock, SystemClock};
use crate::Station;

/// The ledger's file name in the data directory.
pub const LEDGER_FILE: &str = "ledger.sqlite3";

/// An open device ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    clock: SharedClock,
    busy_wait: Duration,
}

impl Ledger {
    /// Opens (creating 0600 if needed) `<data_dir>/ledger.sqlite3` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Ledger, LedgerError> {
        Self::open_with_clock(data_dir, SystemClock::shared())
    }

    /// [`open`](Self::open) with the clock its timestamps come from.
    pub fn open_with_clock(data_dir: &Path, clock: SharedClock) -> Result<Ledger, LedgerError> {
        Self::open_as(data_dir, clock, Access::ReadWrite)
    }

    /// Opens the ledger for reading only: no write lock is ever taken once the file is at this build's schema (a
    /// new or older file is created or migrated first), so reads go on while another process writes.
    pub fn open_read_only(data_dir: &Path) -> Result<Ledger, LedgerError> {
        Self::open_as(data_dir, SystemClock::shared(), Access::ReadOnly)
    }

    fn open_as(data_dir: &Path, clock: SharedClock, access: Access) -> Result<Ledger, LedgerError> {
        let path = data_dir.join(LEDGER_FILE);
        let conn = access::open(&path, access, access::BUSY_WAIT, &ledger_time(clock.now()))?;
        Ok(Ledger { conn, path, clock, busy_wait: access::BUSY_WAIT })
    }

    /// How long a write waits for another process that holds the write lock (default 30 s) before it fails
    /// with [`LedgerError::Busy`].
    pub fn with_busy_wait(mut self, wait: Duration) -> Ledger {
        self.busy_wait = wait;
        self
    }

    /// Begins a write transaction, waiting (and saying so in the log) while another process writes.
    fn begin_write(&self) -> Result<rusqlite::Transaction<'_>, LedgerError> {
        access::begin_write(&self.conn, &self.path, self.busy_wait)
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Now, as the ledger stores times.
    fn now(&self) -> String {
        ledger_time(self.clock.now())
    }

    /// The schema version the file is at.
    pub fn schema_version(&self) -> Result<i64, LedgerError> {
        self.conn
            .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |row| row.get(0))
            .map_err(LedgerError::db("read", &self.path))
    }
}

impl Station {
    /// Opens the device ledger of this data directory.
    pub fn ledger(&self) -> crate::Result<Ledger> {
        Ok(Ledger::open_with_clock(self.data_dir(), self.clock.clone())?)
    }

    /// Opens the device ledger for reading only (see [`Ledger::open_read_only`]).
    pub fn ledger_reader(&self) -> crate::Result<Ledger> {
        Ok(Ledger::open_as(self.data_dir(), self.clock.clone(), Access::ReadOnly)?)
    }
}

/// The certificate id AWS IoT gives a certificate: SHA-256 of the DER, lowercase hex.
pub use keyline_certs::certificate_id;

/// A time as the ledger stores it: RFC 3339 UTC with whole seconds (`2026-11-22T07:34:39Z`).
pub(crate) fn ledger_time(now: OffsetDateTime) -> String {
    now.replace_nanosecond(0).unwrap_or(now).format(&Rfc3339).expect("a UTC time always formats as RFC 3339")
}

/// Creates the file with owner-only permissions if it does not exist (SQLite would use the umask).
fn create_private_file(path: &Path) -> Result<(), LedgerError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop).map_err(|source| LedgerError::Io { path: path.to_path_buf(), source })
}
