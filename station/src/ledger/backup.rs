//! `keyline ledger backup` and `keyline ledger check`: a consistent copy of the live ledger through SQLite's online
//! backup API, and SQLite's integrity check together with the audit hash chain.

use std::path::{Path, PathBuf};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::Connection;
use serde::Serialize;

use super::{AuditReport, Ledger, LedgerError};

/// Most problems `integrity_check` lists before it stops.
const MAX_PROBLEMS: u32 = 100;

/// What `Ledger::check` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerCheck {
    /// The ledger file checked.
    pub path: PathBuf,
    /// SQLite's `integrity_check` findings; empty when the file is sound.
    pub problems: Vec<String>,
    /// The audit hash chain.
    pub audit: AuditReport,
}

impl LedgerCheck {
    /// The file is sound and the chain verifies.
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.audit.first_broken.is_none()
    }
}

/// What `Ledger::backup` wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupReport {
    /// The backup file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Devices in it.
    pub devices: i64,
    /// The check of the copy (integrity and audit chain), made before it was put in place.
    pub check: LedgerCheck,
}

impl Ledger {
    /// SQLite's `integrity_check` and the audit chain ([`verify_audit`](Ledger::verify_audit)).
    pub fn check(&self) -> Result<LedgerCheck, LedgerError> {
        let problems = integrity_problems(&self.conn, &self.path)?;
        Ok(LedgerCheck { path: self.path.clone(), problems, audit: self.verify_audit()? })
    }

    /// Copies the ledger, as one consistent snapshot taken while other processes may be writing, to `dest`
    /// (owner-only permissions). The copy is written beside `dest`, checked, synced and then renamed into place,
    /// so `dest` is either the old file or a whole checked backup. An existing `dest` is replaced only if `replace`.
    pub fn backup(&self, dest: &Path, replace: bool) -> Result<BackupReport, LedgerError> {
        let fail = |detail: String| LedgerError::Backup { path: dest.to_path_buf(), detail };
        if !replace && dest.exists() {
            return Err(fail("the file exists; choose another name or pass --force to replace it".into()));
        }
        let dir = match dest.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let partial = tempfile::Builder::new()
            .prefix(".keyline-ledger-backup")
            .tempfile_in(dir)
            .map_err(|e| fail(format!("cannot create a file in {}: {e}", dir.display())))?;
        let mut copy = Connection::open(partial.path()).map_err(LedgerError::db("write the backup of", &self.path))?;
        {
            let backup = Backup::new(&self.conn, &mut copy).map_err(LedgerError::db("back up", &self.path))?;
            // One step copies every page inside one read transaction: a consistent snapshot.
            match backup.step(-1).map_err(LedgerError::db("back up", &self.path))? {
                StepResult::Done => {}
                other => return Err(fail(format!("SQLite did not finish the copy ({other:?})"))),
            }
        }
        // A self-contained file: no -wal beside it.
        copy.pragma_update(None, "journal_mode", "DELETE").map_err(LedgerError::db("write the backup of", &self.path))?;
        let check = LedgerCheck {
            path: dest.to_path_buf(),
            problems: integrity_problems(&copy, partial.path())?,
            audit: super::audit::verify(&copy, partial.path())?,
        };
        if !check.ok() {
            return Err(fail(format!("the copy does not check: {:?} {:?}", check.problems, check.audit.first_broken)));
        }
        let devices: i64 =
            copy.query_row("SELECT COUNT(*) FROM devices", [], |row| row.get(0)).map_err(LedgerError::db("read the backup of", &self.path))?;
        drop(copy);
        partial.as_file().sync_all().map_err(|e| fail(format!("cannot sync: {e}")))?;
        let bytes = partial.as_file().metadata().map(|m| m.len()).map_err(|e| fail(e.to_string()))?;
        partial.persist(dest).map_err(|e| fail(format!("cannot put the backup in place: {}", e.error)))?;
        Ok(BackupReport { path: dest.to_path_buf(), bytes, devices, check })
    }
}

/// `PRAGMA integrity_check` rows other than `ok`.
fn integrity_problems(conn: &Connection, path: &Path) -> Result<Vec<String>, LedgerError> {
    let mut statement = conn.prepare(&format!("PRAGMA integrity_check({MAX_PROBLEMS})")).map_err(LedgerError::db("check", path))?;
    let rows = statement
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(LedgerError::db("check", path))?;
    Ok(rows.into_iter().filter(|row| row != "ok").collect())
}
