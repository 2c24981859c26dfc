//! The Devices screen's reads: a page of the ledger, one device with its decoded certificate, chain and
//! timeline, and an export of the current search.

use keyline_certs::CertInfo;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use crate::ca::ExtensionSummary;
use crate::ledger::{export, Device, DeviceEvent, DevicePage, DeviceQuery, DeviceSerial, ExportFormat};
use crate::{Result, Station};

/// The fields of a device certificate, decoded.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CertFields {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Validity start (RFC 3339).
    pub not_before: String,
    /// Validity end (RFC 3339).
    pub not_after: String,
    /// Serial number, colon hex.
    pub serial: String,
    /// Signature algorithm.
    pub signature_algorithm: String,
    /// Public key algorithm and curve.
    pub public_key: String,
    /// SHA-256 fingerprint.
    pub sha256: String,
    /// Extensions in certificate order.
    pub extensions: Vec<ExtensionSummary>,
}

/// One device as the device page shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DeviceDetail {
    /// The ledger row.
    pub device: Device,
    /// The certificate decoded, when it parses.
    pub cert: Option<CertFields>,
    /// Why the certificate could not be decoded.
    pub cert_error: Option<String>,
    /// The signer CA and its issuers (PEM), when the CA is still in the store.
    pub chain_pem: Option<String>,
    /// The device's events, oldest first.
    pub events: Vec<DeviceEvent>,
    /// The newest cloud-related event kind (`cloud_*`, `allow_list_*`), when one was recorded.
    pub cloud_status: Option<String>,
}

fn fields(info: &CertInfo) -> CertFields {
    let when = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_else(|_| t.to_string());
    CertFields {
        subject: info.subject.clone(),
        issuer: info.issuer.clone(),
        not_before: when(info.not_before),
        not_after: when(info.not_after),
        serial: info.serial_hex(),
        signature_algorithm: info.signature_algorithm.clone(),
        public_key: info.public_key_description.clone(),
        sha256: info.sha256_fingerprint(),
        extensions: info.extensions.iter().map(|e| ExtensionSummary { name: e.name.clone(), critical: e.critical, value: e.value.clone() }).collect(),
    }
}

impl Station {
    /// One page of the ledger's devices matching `query`.
    pub fn search_devices(&self, query: &DeviceQuery) -> Result<DevicePage> {
        Ok(self.ledger_reader()?.search(query)?)
    }

    /// One device with its decoded certificate, chain and timeline.
    pub fn device_detail(&self, serial: &str) -> Result<DeviceDetail> {
        let serial = DeviceSerial::from_user(serial)?;
        let ledger = self.ledger_reader()?;
        let device = ledger.require(&serial)?;
        let events = ledger.events(&serial)?;
        let (cert, cert_error) = match CertInfo::from_pem(&device.cert_pem) {
            Ok(info) => (Some(fields(&info)), None),
            Err(error) => (None, Some(error.to_string())),
        };
        let chain_pem = self.export_ca_pem(&device.ca_name).ok();
        let cloud_status = events.iter().rev().find(|e| e.kind.starts_with("cloud") || e.kind.starts_with("allow_list")).map(|e| e.kind.clone());
        Ok(DeviceDetail { device, cert, cert_error, chain_pem, events, cloud_status })
    }

    /// Every device matching `query` (paging ignored) as CSV or JSON bytes.
    pub fn export_devices(&self, query: &DeviceQuery, format: ExportFormat) -> Result<Vec<u8>> {
        let devices = self.ledger_reader()?.search_all(query)?;
        Ok(export(&devices, format)?)
    }
}
