//! The `devices` table: recording an issued certificate (both-or-neither with the caller's own step), and
//! reading devices by serial, by certificate id or by filter.

use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde::Serialize;
use serde_json::json;

use super::{certificate_id, events, DeviceSerial, Ledger, LedgerError};

/// Status of a device whose certificate was issued but not yet written to a board.
pub const DEVICE_STATUS_ISSUED: &str = "issued";
/// Status of a throwaway certificate the cloud connection test signed (never a board; not pushed to allow-lists).
pub const DEVICE_STATUS_TEST: &str = "test";

/// A device as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// Chip serial, 18 lowercase hex.
    pub serial: DeviceSerial,
    /// Certificate subject CN (the AWS IoT thing name and allow-list key).
    pub common_name: String,
    /// Firmware profile.
    pub profile: String,
    /// Signer CA name in the store.
    pub ca_name: String,
    /// SHA-256 of the certificate DER, lowercase hex (the AWS IoT certificate id).
    pub cert_id: String,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Device public key, X ‖ Y, lowercase hex.
    pub public_key: String,
    /// When the current certificate was issued (RFC 3339 UTC).
    pub issued_at: String,
    /// When the certificate was written to the board, if it was.
    pub provisioned_at: Option<String>,
    /// `issued`, `provisioned`, ….
    pub status: String,
}

/// A certificate the station has just issued, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    /// Chip serial.
    pub serial: DeviceSerial,
    /// Certificate subject CN.
    pub common_name: String,
    /// Firmware profile.
    pub profile: String,
    /// Signer CA name.
    pub ca_name: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// Device public key, X ‖ Y.
    pub public_key: [u8; 64],
}

/// What recording a certificate changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "outcome")]
pub enum Recorded {
    /// A new device.
    New,
    /// A known device got a new certificate (the old one is in the `certificate_replaced` event).
    Replaced {
        /// The certificate id it had before.
        previous_cert_id: String,
    },
    /// The device already had exactly this certificate.
    Unchanged,
}

/// Which devices to list; `None` fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    /// Signer CA name.
    pub ca_name: Option<String>,
    /// Firmware profile.
    pub profile: Option<String>,
    /// Status.
    pub status: Option<String>,
}

/// A recorded certificate not yet committed: do the step that must go with it (write the certificate file),
/// then [`commit`](PendingRecord::commit). Dropping it leaves the ledger as it was.
pub struct PendingRecord<'a> {
    tx: Transaction<'a>,
    path: &'a std::path::Path,
    recorded: Recorded,
}

impl PendingRecord<'_> {
    /// What committing will have changed.
    pub fn recorded(&self) -> &Recorded {
        &self.recorded
    }

    /// Makes the record permanent.
    pub fn commit(self) -> Result<Recorded, LedgerError> {
        self.tx.commit().map_err(LedgerError::db("write", self.path))?;
        Ok(self.recorded)
    }
}

pub(super) const COLUMNS: &str = "serial, common_name, profile, ca_name, cert_id, cert_pem, public_key, issued_at, provisioned_at, status";

impl Ledger {
    /// Records a certificate issued to a device, with a `certificate_issued` (new device) or
    /// `certificate_replaced` (known device, new certificate) event.
    pub fn record_issued_cert(&mut self, device: &NewDevice) -> Result<Recorded, LedgerError> {
        self.begin_record(device)?.commit()
    }

    /// Records a connection-test certificate as a test device (status [`DEVICE_STATUS_TEST`]), with its
    /// `certificate_issued` event and audit entry like any signed certificate.
    pub fn record_test_device(&mut self, device: &NewDevice) -> Result<Recorded, LedgerError> {
        let pending = self.begin_record(device)?;
        pending
            .tx
            .execute("UPDATE devices SET status = ?2 WHERE serial = ?1", params![device.serial.as_str(), DEVICE_STATUS_TEST])
            .map_err(LedgerError::db("write", pending.path))?;
        pending.commit()
    }

    /// Like [`record_issued_cert`](Ledger::record_issued_cert), but nothing is written until the returned
    /// [`PendingRecord`] is committed.
    pub fn begin_record(&mut self, device: &NewDevice) -> Result<PendingRecord<'_>, LedgerError> {
        let now = self.now();
        let path = self.path.as_path();
        let tx = self.begin_write()?;
        let cert_id = certificate_id(&device.cert_der);
        let owner: Option<String> = tx
            .prepare_cached("SELECT serial FROM devices WHERE cert_id = ?1")
            .and_then(|mut statement| statement.query_row([&cert_id], |row| row.get(0)).optional())
            .map_err(LedgerError::db("read", path))?;
        if let Some(owner) = owner.filter(|owner| owner != device.serial.as_str()) {
            return Err(LedgerError::CertificateInUse { cert_id, serial: owner });
        }
        let previous: Option<String> = tx
            .prepare_cached("SELECT cert_id FROM devices WHERE serial = ?1")
            .and_then(|mut statement| statement.query_row([device.serial.as_str()], |row| row.get(0)).optional())
            .map_err(LedgerError::db("read", path))?;
        let pem = keyline_certs::to_pem("CERTIFICATE", &device.cert_der);
        let values = params![
            device.serial.as_str(),
            device.common_name,
            device.profile,
            device.ca_name,
            cert_id,
            pem,
            hex::encode(device.public_key),
            now,
            DEVICE_STATUS_ISSUED
        ];
        let mut detail = json!({ "certId": cert_id, "caName": device.ca_name, "profile": device.profile, "commonName": device.common_name });
        let recorded = match previous {
            None => {
                tx.prepare_cached(
                    "INSERT INTO devices (serial, common_name, profile, ca_name, cert_id, cert_pem, public_key, issued_at, provisioned_at, status) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9)",
                )
                .and_then(|mut statement| statement.execute(values))
                .map_err(LedgerError::db("write", path))?;
                events::insert_first(&tx, path, &device.serial, &now, "certificate_issued", &detail)?;
                audit_signing(&tx, path, &now, device, &detail)?;
                Recorded::New
            }
            Some(previous) if previous == cert_id => Recorded::Unchanged,
            Some(previous) => {
                tx.execute(
                    "UPDATE devices SET common_name = ?2, profile = ?3, ca_name = ?4, cert_id = ?5, cert_pem = ?6, public_key = ?7, \
                     issued_at = ?8, provisioned_at = NULL, status = ?9 WHERE serial = ?1",
                    values,
                )
                .map_err(LedgerError::db("write", path))?;
                detail["previousCertId"] = json!(previous);
                events::insert(&tx, path, &device.serial, &now, "certificate_replaced", &detail)?;
                audit_signing(&tx, path, &now, device, &detail)?;
                Recorded::Replaced { previous_cert_id: previous }
            }
        };
        Ok(PendingRecord { tx, path, recorded })
    }

    /// The device with this serial, if recorded.
    pub fn get(&self, serial: &DeviceSerial) -> Result<Option<Device>, LedgerError> {
        let sql = format!("SELECT {COLUMNS} FROM devices WHERE serial = ?1");
        self.conn.query_row(&sql, [serial.as_str()], read_row).optional().map_err(LedgerError::db("read", &self.path))?.transpose()
    }

    /// The device with this serial, or [`LedgerError::DeviceNotFound`].
    pub fn require(&self, serial: &DeviceSerial) -> Result<Device, LedgerError> {
        self.get(serial)?.ok_or_else(|| LedgerError::DeviceNotFound { serial: serial.to_string() })
    }

    /// The device whose current certificate has this id (SHA-256 of the DER, any case).
    pub fn find_by_cert_id(&self, cert_id: &str) -> Result<Option<Device>, LedgerError> {
        let sql = format!("SELECT {COLUMNS} FROM devices WHERE cert_id = ?1");
        self.conn
            .query_row(&sql, [cert_id.trim().to_ascii_lowercase()], read_row)
            .optional()
            .map_err(LedgerError::db("read", &self.path))?
            .transpose()
    }

    /// Devices matching the filter, by serial.
    pub fn list(&self, filter: &DeviceFilter) -> Result<Vec<Device>, LedgerError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM devices WHERE (?1 IS NULL OR ca_name = ?1) AND (?2 IS NULL OR profile = ?2) \
             AND (?3 IS NULL OR status = ?3) ORDER BY serial"
        );
        let db = LedgerError::db("read", &self.path);
        let mut statement = self.conn.prepare(&sql).map_err(LedgerError::db("read", &self.path))?;
        let rows = statement
            .query_map(params![filter.ca_name, filter.profile, filter.status], read_row)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(db)?;
        rows.into_iter().collect()
    }
}

/// The audit entry of a signed device certificate, in the transaction that records it.
fn audit_signing(tx: &Transaction<'_>, path: &std::path::Path, at: &str, device: &NewDevice, detail: &serde_json::Value) -> Result<i64, LedgerError> {
    let mut entry = detail.clone();
    entry["serial"] = json!(device.serial.as_str());
    super::audit::append(tx, path, at, "device_certificate_signed", &entry)
}

/// Reads one `devices` row; a serial or id that breaks the schema's promises is reported, not trusted.
pub(super) fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<Device, LedgerError>> {
    let serial: String = row.get(0)?;
    let cert_id: String = row.get(4)?;
    let corrupt = |detail: String| Ok(Err(LedgerError::Corrupt { detail }));
    let Ok(serial) = DeviceSerial::parse(&serial) else {
        return corrupt(format!("device serial {serial:?} is not 18 lowercase hex"));
    };
    if cert_id.len() != 64 || !cert_id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return corrupt(format!("certificate id {cert_id:?} of device {serial} is not 64 lowercase hex"));
    }
    Ok(Ok(Device {
        serial,
        common_name: row.get(1)?,
        profile: row.get(2)?,
        ca_name: row.get(3)?,
        cert_id,
        cert_pem: row.get(5)?,
        public_key: row.get(6)?,
        issued_at: row.get(7)?,
        provisioned_at: row.get(8)?,
        status: row.get(9)?,
    }))
}
