//! The `device_events` table: each device's timeline, numbered 1, 2, 3, … per device.

use std::path::Path;

use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::Value;

use super::{DeviceSerial, Ledger, LedgerError};

/// Longest event kind.
const MAX_KIND_LEN: usize = 64;
/// Largest event detail (serialised JSON).
const MAX_DETAIL_BYTES: usize = 16 * 1024;

/// One entry of a device's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DeviceEvent {
    /// The device.
    pub serial: DeviceSerial,
    /// 1, 2, 3, … in the order the events happened.
    pub seq: i64,
    /// When (RFC 3339 UTC).
    pub at: String,
    /// snake_case kind, e.g. `certificate_issued`.
    pub kind: String,
    /// Details, a JSON object.
    pub detail: Value,
}

impl Ledger {
    /// Appends an event to a recorded device's timeline. `kind` is snake_case; `detail` a JSON object.
    pub fn add_event(&mut self, serial: &DeviceSerial, kind: &str, detail: &Value) -> Result<DeviceEvent, LedgerError> {
        let path = self.path.clone();
        let now = self.now();
        let tx = self.begin_write()?;
        let known: bool = tx
            .query_row("SELECT COUNT(*) FROM devices WHERE serial = ?1", [serial.as_str()], |row| row.get::<_, i64>(0))
            .map_err(LedgerError::db("read", &path))?
            > 0;
        if !known {
            return Err(LedgerError::DeviceNotFound { serial: serial.to_string() });
        }
        let event = insert(&tx, &path, serial, &now, kind, detail)?;
        tx.commit().map_err(LedgerError::db("write", &path))?;
        Ok(event)
    }

    /// A device's timeline, oldest first.
    pub fn events(&self, serial: &DeviceSerial) -> Result<Vec<DeviceEvent>, LedgerError> {
        let db = LedgerError::db("read", &self.path);
        let mut statement = self
            .conn
            .prepare("SELECT seq, at, kind, detail FROM device_events WHERE serial = ?1 ORDER BY seq")
            .map_err(LedgerError::db("read", &self.path))?;
        let rows = statement
            .query_map([serial.as_str()], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?, row.get::<_, String>(3)?)))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(db)?;
        rows.into_iter()
            .map(|(seq, at, kind, detail)| {
                let detail = serde_json::from_str(&detail)
                    .map_err(|e| LedgerError::Corrupt { detail: format!("event {seq} of device {serial} has no JSON detail: {e}") })?;
                Ok(DeviceEvent { serial: serial.clone(), seq, at, kind, detail })
            })
            .collect()
    }
}

/// Inserts an event inside the caller's transaction (the device row must exist), after the device's last event.
pub(super) fn insert(
    conn: &Connection,
    path: &Path,
    serial: &DeviceSerial,
    at: &str,
    kind: &str,
    detail: &Value,
) -> Result<DeviceEvent, LedgerError> {
    // Cached statements: every certificate issued runs these (see `keyline bench issue`).
    let seq: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM device_events WHERE serial = ?1")
        .and_then(|mut statement| statement.query_row([serial.as_str()], |row| row.get(0)))
        .map_err(LedgerError::db("read", path))?;
    insert_at(conn, path, serial, seq, at, kind, detail)
}

/// Inserts the first event of a device whose row this transaction has just inserted: rows are never deleted and
/// every event needs its device's row (foreign key), so it has no events yet.
pub(super) fn insert_first(conn: &Connection, path: &Path, serial: &DeviceSerial, at: &str, kind: &str, detail: &Value) -> Result<DeviceEvent, LedgerError> {
    insert_at(conn, path, serial, 1, at, kind, detail)
}

fn insert_at(conn: &Connection, path: &Path, serial: &DeviceSerial, seq: i64, at: &str, kind: &str, detail: &Value) -> Result<DeviceEvent, LedgerError> {
    let kind_ok = !kind.is_empty()
        && kind.len() <= MAX_KIND_LEN
        && kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && kind.as_bytes()[0].is_ascii_lowercase();
    if !kind_ok {
        return Err(LedgerError::InvalidEvent { reason: format!("kind {:?} is not snake_case of 1-{MAX_KIND_LEN} characters", kind.chars().take(80).collect::<String>()) });
    }
    if !detail.is_object() {
        return Err(LedgerError::InvalidEvent { reason: "the detail must be a JSON object".into() });
    }
    let text = detail.to_string();
    if text.len() > MAX_DETAIL_BYTES {
        return Err(LedgerError::InvalidEvent { reason: format!("the detail is {} bytes; at most {MAX_DETAIL_BYTES}", text.len()) });
    }
    conn.prepare_cached("INSERT INTO device_events (serial, seq, at, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)")
        .and_then(|mut statement| statement.execute(params![serial.as_str(), seq, at, kind, text]))
        .map_err(LedgerError::db("write", path))?;
    Ok(DeviceEvent { serial: serial.clone(), seq, at: at.to_owned(), kind: kind.to_owned(), detail: detail.clone() })
}
