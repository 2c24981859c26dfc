//! How the ledger file is opened (read-write or read-only) and how a writer takes the write lock.
//!
//! Every connection runs in WAL mode with `synchronous=FULL`: a commit is on disk when it returns, readers never
//! block writers, and a killed process loses nothing it committed. A read-write open migrates only when the
//! file's schema version differs from this build's; a read-only open never takes the write lock once the file
//! is current. A writer that finds another writer holding the lock for over a second says so in the log and waits
//! up to the ledger's busy wait, then fails with [`LedgerError::Busy`].

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::{migrate, LedgerError, SCHEMA_VERSION};

/// How long a writer waits for another process (a second `keyline`, the desktop app) to finish its write.
pub(super) const BUSY_WAIT: Duration = Duration::from_secs(30);

/// Whether a connection may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// Writes allowed; the schema is brought up to date on open.
    ReadWrite,
    /// `SQLITE_OPEN_READ_ONLY` and `query_only`: the connection cannot take the write lock.
    ReadOnly,
}

/// Opens `path`; `now` stamps migrations.
pub(super) fn open(path: &Path, access: Access, busy_wait: Duration, now: &str) -> Result<Connection, LedgerError> {
    match access {
        Access::ReadWrite => open_read_write(path, busy_wait, now),
        Access::ReadOnly => {
            if !path.exists() || schema_version_of(path, busy_wait)? != SCHEMA_VERSION {
                // A new or older file is created or migrated once; afterwards read-only opens never write.
                drop(open_read_write(path, busy_wait, now)?);
            }
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let conn = Connection::open_with_flags(path, flags).map_err(LedgerError::db("open", path))?;
            conn.busy_timeout(busy_wait).map_err(LedgerError::db("open", path))?;
            conn.pragma_update(None, "query_only", true).map_err(LedgerError::db("open", path))?;
            Ok(conn)
        }
    }
}

/// Opens for writing. Switching a new file to WAL and migrating it need the database to themselves, and SQLite
/// answers "busy" at once (no busy handler) when another connection opens the same new file at that moment (two
/// boards of one shift starting together): the whole open is retried until `busy_wait` has passed.
fn open_read_write(path: &Path, busy_wait: Duration, now: &str) -> Result<Connection, LedgerError> {
    let deadline = std::time::Instant::now() + busy_wait;
    loop {
        match try_open_read_write(path, busy_wait, now) {
            Err(LedgerError::Busy { .. }) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            other => return other,
        }
    }
}

fn try_open_read_write(path: &Path, busy_wait: Duration, now: &str) -> Result<Connection, LedgerError> {
    super::create_private_file(path)?;
    let mut conn = Connection::open(path).map_err(LedgerError::db("open", path))?;
    conn.busy_timeout(busy_wait).map_err(LedgerError::db("open", path))?;
    conn.pragma_update(None, "foreign_keys", true).map_err(LedgerError::db("open", path))?;
    let mode: String = conn.pragma_query_value(None, "journal_mode", |row| row.get(0)).map_err(LedgerError::db("open", path))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // Write-ahead log (persistent in the file): readers never block the provisioning writers.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())).map_err(LedgerError::db("open", path))?;
    }
    // FULL: the WAL is synced on every commit, so a power cut after "recorded" keeps the record.
    conn.pragma_update(None, "synchronous", "FULL").map_err(LedgerError::db("open", path))?;
    if migrate::newest_applied(&conn, path)? != SCHEMA_VERSION {
        migrate::migrate(&mut conn, path, now)?;
    }
    Ok(conn)
}

/// The schema version of an existing file, read without a write lock.
fn schema_version_of(path: &Path, busy_wait: Duration) -> Result<i64, LedgerError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(LedgerError::db("open", path))?;
    conn.busy_timeout(busy_wait).map_err(LedgerError::db("open", path))?;
    migrate::newest_applied(&conn, path)
}

/// How long a writer waits for the write lock before it says so in the log: another board of the same shift holds
/// it for one commit (about a millisecond), which is not worth a warning on the operator's screen.
const QUIET_WAIT: Duration = Duration::from_secs(1);

/// Begins an immediate (write-locked) transaction. If another writer holds the write lock for over [`QUIET_WAIT`],
/// logs that this one waits, then waits up to `busy_wait` more; past that, [`LedgerError::Busy`].
pub(super) fn begin_write<'c>(conn: &'c Connection, path: &Path, busy_wait: Duration) -> Result<Transaction<'c>, LedgerError> {
    let quiet = QUIET_WAIT.min(busy_wait);
    conn.busy_timeout(quiet).map_err(LedgerError::db("lock", path))?;
    let first = Transaction::new_unchecked(conn, TransactionBehavior::Immediate);
    let restored = conn.busy_timeout(busy_wait).map_err(LedgerError::db("lock", path));
    let tx = match first {
        Ok(tx) => tx,
        Err(error) if is_busy(&error) => {
            tracing::warn!(
                ledger = %path.display(),
                "the device ledger has been locked by another writer for {} s (another board of this shift, the desktop app or a keyline command); waiting up to {} s more",
                quiet.as_secs_f32(),
                busy_wait.as_secs_f32()
            );
            Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(|error| busy_or_db(error, path, quiet + busy_wait))?
        }
        Err(error) => return Err(LedgerError::db("lock", path)(error)),
    };
    restored?;
    Ok(tx)
}

/// Whether SQLite gave up on a lock.
pub(super) fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(error.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// [`LedgerError::Busy`] for a lock timeout, [`LedgerError::Database`] otherwise.
fn busy_or_db(error: rusqlite::Error, path: &Path, waited: Duration) -> LedgerError {
    if is_busy(&error) {
        LedgerError::Busy { path: path.to_path_buf(), waited_secs: waited.as_secs_f32() }
    } else {
        LedgerError::db("lock", path)(error)
    }
}
