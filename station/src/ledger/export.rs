//! Exports of the ledger's devices for spreadsheets and other systems: CSV (one row per device) or JSON.

use serde::Serialize;

use super::{Device, LedgerError};

/// Export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// RFC 4180 CSV with a header row; the PEM column keeps its line breaks inside quotes.
    Csv,
    /// A JSON array of devices (the same fields as `keyline devices list --json`).
    Json,
}

/// The CSV header, in column order.
const CSV_HEADER: [&str; 10] =
    ["serial", "common_name", "profile", "ca_name", "cert_id", "status", "issued_at", "provisioned_at", "public_key", "cert_pem"];

/// The devices in `format`.
pub fn export(devices: &[Device], format: ExportFormat) -> Result<Vec<u8>, LedgerError> {
    let failed = |detail: String| LedgerError::Export { detail };
    match format {
        ExportFormat::Json => {
            let mut bytes = serde_json::to_vec_pretty(devices).map_err(|e| failed(e.to_string()))?;
            bytes.push(b'\n');
            Ok(bytes)
        }
        ExportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(CSV_HEADER).map_err(|e| failed(e.to_string()))?;
            for device in devices {
                writer
                    .write_record([
                        device.serial.as_str(),
                        &device.common_name,
                        &device.profile,
                        &device.ca_name,
                        &device.cert_id,
                        &device.status,
                        &device.issued_at,
                        device.provisioned_at.as_deref().unwrap_or(""),
                        &device.public_key,
                        &device.cert_pem,
                    ])
                    .map_err(|e| failed(e.to_string()))?;
            }
            writer.into_inner().map_err(|e| failed(e.to_string()))
        }
    }
}
