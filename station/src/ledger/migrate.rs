//! Brings a ledger file up to the schema this build knows, once per version, inside one transaction.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::LedgerError;

/// The migrations in order: (version, name, SQL). Version 1 is `schema.sql`, 2 `schema_v2.sql`, 3 `schema_v3.sql`,
/// 4 `schema_v4.sql`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "devices and device_events", include_str!("schema.sql")),
    (2, "provision_steps and audit_log", include_str!("schema_v2.sql")),
    (3, "device search indexes", include_str!("schema_v3.sql")),
    (4, "fewer B-trees per issued certificate", include_str!("schema_v4.sql")),
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// Applies every migration the ledger has not had yet; returns the versions applied now.
pub(crate) fn migrate(conn: &mut Connection, path: &Path, now: &str) -> Result<Vec<i64>, LedgerError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(LedgerError::db("lock", path))?;
    let newest = newest_applied(&tx, path)?;
    if newest > SCHEMA_VERSION {
        return Err(LedgerError::NewerSchema { path: path.to_path_buf(), found: newest, known: SCHEMA_VERSION });
    }
    let mut applied = Vec::new();
    for &(version, name, sql) in MIGRATIONS.iter().filter(|(version, _, _)| *version > newest) {
        tx.execute_batch(sql).map_err(LedgerError::db("create the schema of", path))?;
        tx.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)", params![version, name, now])
            .map_err(LedgerError::db("write", path))?;
        applied.push(version);
    }
    tx.commit().map_err(LedgerError::db("write", path))?;
    if !applied.is_empty() {
        tracing::info!(ledger = %path.display(), versions = ?applied, "migrated the device ledger");
    }
    Ok(applied)
}

/// The newest applied version, 0 for a new file.
pub(super) fn newest_applied(conn: &Connection, path: &Path) -> Result<i64, LedgerError> {
    let has_table: Option<String> = conn
        .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", [], |row| row.get(0))
        .optional()
        .map_err(LedgerError::db("read", path))?;
    if has_table.is_none() {
        return Ok(0);
    }
    conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |row| row.get(0)).map_err(LedgerError::db("read", path))
}
