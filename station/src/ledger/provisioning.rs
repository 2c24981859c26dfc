//! Provisioning states of a device (`issued` → `written` → `verified`, or `failed`) and the per-step table `provision_steps`.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value};

use super::{events, DeviceSerial, Ledger, LedgerError};

/// Certificates were sent to the board (and, where the firmware shows it, accepted).
pub const DEVICE_STATUS_WRITTEN: &str = "written";
/// The board proved it holds the certificate.
pub const DEVICE_STATUS_VERIFIED: &str = "verified";
/// The last provisioning attempt failed after the certificate was issued.
pub const DEVICE_STATUS_FAILED: &str = "failed";

/// One pipeline step of one run, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    /// Run id.
    pub run_id: String,
    /// 1, 2, 3, … per run.
    pub seq: i64,
    /// Chip serial once known.
    pub serial: Option<DeviceSerial>,
    /// Station name.
    pub station: String,
    /// Serial port.
    pub port: String,
    /// Firmware.
    pub firmware: String,
    /// Step name.
    pub step: String,
    /// `done`, `failed`, or `retried` (the step failed and the run recovered, e.g. by loading the helper again).
    pub outcome: String,
    /// Time the step took.
    pub elapsed_ms: u64,
    /// What the step learned, or the error.
    pub detail: Value,
}

impl Ledger {
    /// Records one step of a run.
    pub fn record_step(&mut self, step: &StepRecord) -> Result<(), LedgerError> {
        let path = self.path.clone();
        let now = self.now();
        let tx = self.begin_write()?;
        tx.execute(
                "INSERT INTO provision_steps (run_id, seq, serial, at, station, port, firmware, step, outcome, elapsed_ms, detail) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    step.run_id,
                    step.seq,
                    step.serial.as_ref().map(DeviceSerial::as_str),
                    now,
                    step.station,
                    step.port,
                    step.firmware,
                    step.step,
                    step.outcome,
                    step.elapsed_ms as i64,
                    step.detail.to_string()
                ],
            )
            .map_err(LedgerError::db("write", &path))?;
        tx.commit().map_err(LedgerError::db("write", &path))
    }

    /// Files the steps of run `run_id` recorded before the chip's serial was known (load, open, handshake)
    /// under `serial`, so the chip's history shows them too.
    pub fn attach_run_to(&mut self, run_id: &str, serial: &DeviceSerial) -> Result<(), LedgerError> {
        let path = self.path.clone();
        let tx = self.begin_write()?;
        tx.execute("UPDATE provision_steps SET serial = ?1 WHERE run_id = ?2 AND serial IS NULL", params![serial.as_str(), run_id])
            .map_err(LedgerError::db("write", &path))?;
        tx.commit().map_err(LedgerError::db("write", &path))
    }

    /// Steps recorded for a chip, oldest first.
    pub fn steps_of(&self, serial: &DeviceSerial) -> Result<Vec<StepRecord>, LedgerError> {
        let mut statement = self
            .conn
            .prepare("SELECT run_id, seq, station, port, firmware, step, outcome, elapsed_ms, detail FROM provision_steps WHERE serial = ?1 ORDER BY at, run_id, seq")
            .map_err(LedgerError::db("read", &self.path))?;
        let rows = statement
            .query_map([serial.as_str()], |row| {
                Ok(StepRecord {
                    run_id: row.get(0)?,
                    seq: row.get(1)?,
                    serial: Some(serial.clone()),
                    station: row.get(2)?,
                    port: row.get(3)?,
                    firmware: row.get(4)?,
                    step: row.get(5)?,
                    outcome: row.get(6)?,
                    elapsed_ms: row.get::<_, i64>(7)?.max(0) as u64,
                    detail: serde_json::from_str(&row.get::<_, String>(8)?).unwrap_or(Value::Null),
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(LedgerError::db("read", &self.path))?;
        Ok(rows)
    }

    /// Whether an earlier run on this station saw the chip's boot output (a handshake that was not a resume),
    /// so its configuration was checked.
    pub fn config_checked(&self, serial: &DeviceSerial) -> Result<bool, LedgerError> {
        if self.get(serial)?.is_some() {
            return Ok(true);
        }
        let rows: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM provision_steps WHERE serial = ?1 AND step = 'handshake' AND outcome = 'done' AND detail LIKE '%\"resumed\":false%'",
                [serial.as_str()],
                |row| row.get(0),
            )
            .map_err(LedgerError::db("read", &self.path))?;
        Ok(rows > 0)
    }

    /// The public key the latest completed `public_key` step read from this chip, if any (hex).
    pub fn last_public_key(&self, serial: &DeviceSerial) -> Result<Option<String>, LedgerError> {
        let detail: Option<String> = self
            .conn
            .query_row(
                "SELECT detail FROM provision_steps WHERE serial = ?1 AND step = 'public_key' AND outcome = 'done' ORDER BY at DESC, run_id DESC, seq DESC LIMIT 1",
                [serial.as_str()],
                |row| row.get(0),
            )
            .optional()
            .map_err(LedgerError::db("read", &self.path))?;
        Ok(detail
            .and_then(|d| serde_json::from_str::<Value>(&d).ok())
            .and_then(|v| v.get("publicKey").and_then(Value::as_str).map(str::to_owned))
            .filter(|k| k.len() == 128 && k.bytes().all(|b| b.is_ascii_hexdigit())))
    }

    /// Moves the device holding certificate `cert_id` to `status`, with a `provisioning_<status>` event.
    /// Refuses (nothing changes) when the device's current certificate is another one.
    pub fn set_provisioning_status(&mut self, serial: &DeviceSerial, cert_id: &str, status: &str, detail: &Value) -> Result<(), LedgerError> {
        let path = self.path.clone();
        let now = self.now();
        let tx = self.begin_write()?;
        let provisioned_at = (status == DEVICE_STATUS_VERIFIED).then(|| now.clone());
        let changed = tx
            .execute(
                "UPDATE devices SET status = ?3, provisioned_at = COALESCE(?4, provisioned_at) WHERE serial = ?1 AND cert_id = ?2",
                params![serial.as_str(), cert_id, status, provisioned_at],
            )
            .map_err(LedgerError::db("write", &path))?;
        if changed != 1 {
            return Err(LedgerError::Corrupt { detail: format!("device {serial} does not hold certificate {cert_id} any more") });
        }
        let mut detail = detail.clone();
        if let Value::Object(map) = &mut detail {
            map.insert("certId".into(), json!(cert_id));
        }
        events::insert(&tx, &path, serial, &now, &format!("provisioning_{status}"), &detail)?;
        tx.commit().map_err(LedgerError::db("write", &path))?;
        Ok(())
    }
}
