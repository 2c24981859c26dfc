//! OTA device state in the ledger: the rainbowtype record (request, data, keynum, state) and the
//! last-seen time per serial, in table `ota_device_state` (created on first use, no migration).

use rusqlite::{params, OptionalExtension};

use super::{Ledger, LedgerError};

/// One row of `ota_device_state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtaStateRow {
    /// Chip serial / certificate CN.
    pub serial: String,
    /// Pending request.
    pub request: String,
    /// Request data.
    pub data: String,
    /// Key slot.
    pub keynum: i64,
    /// Boot state.
    pub state: String,
    /// Last message from the device (RFC 3339 UTC).
    pub last_seen: Option<String>,
}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS ota_device_state (
    serial TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    data TEXT NOT NULL,
    keynum BIGINT NOT NULL,
    state TEXT NOT NULL,
    last_seen TEXT,
    updated_at TEXT NOT NULL
)";

impl Ledger {
    fn ota_table(&self) -> Result<(), LedgerError> {
        self.conn.execute_batch(CREATE).map_err(LedgerError::db("create the OTA table of", &self.path))
    }

    /// The OTA state of `serial`, if the server has seen or been told about it.
    pub fn ota_state(&self, serial: &str) -> Result<Option<OtaStateRow>, LedgerError> {
        self.ota_table()?;
        self.conn
            .query_row(
                "SELECT serial, request, data, keynum, state, last_seen FROM ota_device_state WHERE serial = ?1",
                params![serial],
                row,
            )
            .optional()
            .map_err(LedgerError::db("read", &self.path))
    }

    /// Insert or replace the OTA state of `row.serial`; `seen` stamps the last-seen time now.
    pub fn save_ota_state(&self, row: &OtaStateRow, seen: bool) -> Result<(), LedgerError> {
        self.ota_table()?;
        let now = self.now();
        self.conn
            .execute(
                "INSERT INTO ota_device_state (serial, request, data, keynum, state, last_seen, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?6 THEN ?7 ELSE NULL END, ?7)
                 ON CONFLICT(serial) DO UPDATE SET request = excluded.request, data = excluded.data,
                   keynum = excluded.keynum, state = excluded.state, updated_at = excluded.updated_at,
                   last_seen = CASE WHEN ?6 THEN ?7 ELSE ota_device_state.last_seen END",
                params![row.serial, row.request, row.data, row.keynum, row.state, seen, now],
            )
            .map_err(LedgerError::db("write", &self.path))?;
        Ok(())
    }

    /// Every OTA state row, by serial.
    pub fn ota_states(&self) -> Result<Vec<OtaStateRow>, LedgerError> {
        self.ota_table()?;
        let mut statement = self
            .conn
            .prepare("SELECT serial, request, data, keynum, state, last_seen FROM ota_device_state ORDER BY serial")
            .map_err(LedgerError::db("read", &self.path))?;
        let rows = statement.query_map([], row).map_err(LedgerError::db("read", &self.path))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(LedgerError::db("read", &self.path))
    }
}

fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<OtaStateRow> {
    Ok(OtaStateRow {
        serial: row.get(0)?,
        request: row.get(1)?,
        data: row.get(2)?,
        keynum: row.get(3)?,
        state: row.get(4)?,
        last_seen: row.get(5)?,
    })
}
