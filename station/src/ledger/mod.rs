//! The device ledger: every device this station has issued a certificate to, in `<data_dir>/ledger.sqlite3`.
//!
//! A [`Ledger`] is an open SQLite connection on that file. Its schema (`schema.sql`) is plain portable SQL
//! (TEXT and BIGINT, times as RFC 3339 UTC text) so the same tables can live in PostgreSQL later; migrations are
//! recorded in `schema_migrations` and applied on [`Ledger::open`]. The table `devices` holds one row per chip
//! serial with its current certificate; `device_events` holds each device's timeline (issued, certificate
//! replaced, and what the provisioning work adds).
//!
//! Certificates are joined with AWS IoT by certificate id: the SHA-256 of the DER in lowercase hex.

mod audit;
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
mod tests;

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use devices::{Device, DeviceFilter, NewDevice, PendingRecord, Recorded, DEVICE_STATUS_ISSUED};
pub use error::LedgerError;
pub use events::DeviceEvent;
pub use export::{export, ExportFormat};
pub use migrate::SCHEMA_VERSION;
pub use ota_state::OtaStateRow;
pub use serial::DeviceSerial;
pub use search::{DevicePage, DeviceQuery, MAX_PAGE};
pub use audit::{AuditReport, BrokenLink};
pub use provisioning::{StepRecord, DEVICE_STATUS_FAILED, DEVICE_STATUS_VERIFIED, DEVICE_STATUS_WRITTEN};

use crate::clock::{SharedClock, SystemClock};
use crate::Station;

/// The ledger's file name in the data directory.
pub const LEDGER_FILE: &str = "ledger.sqlite3";

/// How long a writer waits for another process (a second `keyline`, the desktop app) to finish its write.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// An open device ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    clock: SharedClock,
}

impl Ledger {
    /// Opens (creating 0600 if needed) `<data_dir>/ledger.sqlite3` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Ledger, LedgerError> {
        Self::open_with_clock(data_dir, SystemClock::shared())
    }

    /// [`open`](Self::open) with the clock its timestamps come from.
    pub fn open_with_clock(data_dir: &Path, clock: SharedClock) -> Result<Ledger, LedgerError> {
        let path = data_dir.join(LEDGER_FILE);
        create_private_file(&path)?;
        let mut conn = Connection::open(&path).map_err(LedgerError::db("open", &path))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(LedgerError::db("open", &path))?;
        conn.pragma_update(None, "foreign_keys", true).map_err(LedgerError::db("open", &path))?;
        // Write-ahead log: readers never block the provisioning writers, commits survive a killed process.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())).map_err(LedgerError::db("open", &path))?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(LedgerError::db("open", &path))?;
        migrate::migrate(&mut conn, &path, &ledger_time(clock.now()))?;
        Ok(Ledger { conn, path, clock })
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
