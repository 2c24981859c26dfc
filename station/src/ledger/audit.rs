//! The signing audit log: an append-only, hash-chained table (`audit_log`) and its verification.
//!
//! Entry `n` stores `hash = SHA-256(prev_hash ‖ "\n" ‖ seq ‖ "\n" ‖ at ‖ "\n" ‖ operation ‖ "\n" ‖ detail)`
//! in lowercase hex, with `prev_hash` the hash of entry `n − 1` (64 zeros for the first). Entries are
//! appended inside the transaction that records what was signed, so an entry exists exactly when the
//! signing result was committed. Changing, removing or reordering any entry breaks the chain from there on.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Ledger, LedgerError};

/// `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditReport {
    /// Entries checked.
    pub entries: u64,
    /// The first entry whose link is broken, if any.
    pub first_broken: Option<BrokenLink>,
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokenLink {
    /// Sequence number of the entry.
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

fn entry_hash(prev: &str, seq: i64, at: &str, operation: &str, detail: &str) -> String {
    let mut hash = Sha256::new();
    for part in [prev, &seq.to_string(), at, operation, detail] {
        hash.update(part.as_bytes());
        hash.update(b"\n");
    }
    hex::encode(hash.finalize())
}

/// Appends an entry inside the caller's (immediate) transaction.
pub(super) fn append(conn: &Connection, path: &Path, at: &str, operation: &str, detail: &Value) -> Result<i64, LedgerError> {
    let last: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .and_then(|mut statement| statement.query_row([], |row| Ok((row.get(0)?, row.get(1)?))).optional())
        .map_err(LedgerError::db("read", path))?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let detail = detail.to_string();
    let hash = entry_hash(&prev, seq, at, operation, &detail);
    conn.prepare_cached("INSERT INTO audit_log (seq, at, operation, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .and_then(|mut statement| statement.execute(params![seq, at, operation, detail, prev, hash]))
        .map_err(LedgerError::db("write", path))?;
    Ok(seq)
}

impl Ledger {
    /// Recomputes the whole chain; reports the first broken link.
    pub fn verify_audit(&self) -> Result<AuditReport, LedgerError> {
        verify(&self.conn, &self.path)
    }

    /// Number of audit entries.
    pub fn audit_len(&self) -> Result<i64, LedgerError> {
        self.conn.query_row("SELECT COUNT(*) FROM audit_log", [], |row| row.get(0)).map_err(LedgerError::db("read", &self.path))
    }
}

/// Recomputes the chain of the ledger open on `conn` (the file `path`).
pub(super) fn verify(conn: &Connection, path: &Path) -> Result<AuditReport, LedgerError> {
    let db = LedgerError::db("read", path);
    let mut statement =
        conn.prepare("SELECT seq, at, operation, detail, prev_hash, hash FROM audit_log ORDER BY seq").map_err(LedgerError::db("read", path))?;
    let mut rows = statement.query([]).map_err(db)?;
    let mut expected_prev = GENESIS.to_string();
    let mut expected_seq = 1i64;
    let mut entries = 0u64;
    while let Some(row) = rows.next().map_err(LedgerError::db("read", path))? {
        let get = |i: usize| row.get::<_, String>(i).map_err(LedgerError::db("read", path));
        let seq: i64 = row.get(0).map_err(LedgerError::db("read", path))?;
        let (at, operation, detail, prev, hash) = (get(1)?, get(2)?, get(3)?, get(4)?, get(5)?);
        entries += 1;
        let broken = |reason: String| Ok(AuditReport { entries, first_broken: Some(BrokenLink { seq, reason }) });
        if seq != expected_seq {
            return broken(format!("expected entry {expected_seq}; entries are missing or reordered"));
        }
        if prev != expected_prev {
            return broken("its previous-hash does not match the entry before it".into());
        }
        if entry_hash(&prev, seq, &at, &operation, &detail) != hash {
            return broken("its contents do not match its hash (the entry was changed)".into());
        }
        expected_prev = hash;
        expected_seq += 1;
    }
    Ok(AuditReport { entries, first_broken: None })
}
