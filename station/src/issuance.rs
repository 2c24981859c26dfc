//! Device certificate issuance from the station: a CSR or public key, a signer CA from the store
//! and a firmware profile give a certificate the ATECC608A can rebuild bit for bit. Every issued
//! certificate is recorded in the device ledger.

use keyline_certs::atcacert::certdef_string;
use keyline_certs::atcacert::AtcaDate;
use keyline_certs::device::request::{public_key_from_csr, public_key_from_key_file};
use keyline_certs::device::{issue_device_cert, resolve_chip_serial, DeviceCertError};
use keyline_certs::to_pem;
use std::path::Path;

use serde::Serialize;

use crate::device_template::parse_profile;
use crate::ledger::{DeviceSerial, NewDevice, Recorded};
use crate::{Error, Result, Station};

/// What to sign.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignDeviceRequest {
    /// Signer CA name.
    pub ca: String,
    /// Firmware profile name.
    pub profile: String,
    /// A PKCS#10 request (PEM or DER); its self-signature is checked.
    pub csr: Option<Vec<u8>>,
    /// Or a public key (PEM/DER SubjectPublicKeyInfo, or X ‖ Y hex).
    pub public_key: Option<Vec<u8>>,
    /// Chip serial, 18 hex digits (else taken from the CSR's CN).
    pub serial_hex: Option<String>,
}

/// An issued device certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedDeviceCert {
    /// Profile it fits.
    pub profile: String,
    /// Subject CN.
    pub common_name: String,
    /// Serial number, hex.
    pub serial_number: String,
    /// notBefore (whole hour, UTC).
    pub not_before: String,
    /// notAfter (UTC).
    pub not_after: String,
    /// The certificate, PEM.
    pub pem: String,
    /// The 72-byte compressed certificate for device slot 10, hex.
    pub compressed_hex: String,
    /// For esp-cryptoauthlib: the string for the helper's `provide-cert-def 0`.
    pub cert_def_string: Option<String>,
    /// The chip serial the device is recorded under in the ledger (18 lowercase hex).
    pub device_serial: DeviceSerial,
    /// SHA-256 of the DER, lowercase hex: the AWS IoT certificate id.
    pub certificate_id: String,
    /// What the ledger recorded: a new device, a replaced certificate, or nothing new.
    pub ledger: Recorded,
}

fn request_error(error: DeviceCertError) -> Error {
    match error {
        DeviceCertError::Signing(detail) => Error::Issue { detail },
        other => Error::InvalidInput { what: "device certificate request".into(), reason: other.to_string() },
    }
}

impl Station {
    /// Issues a device certificate from the unlocked signer CA `request.ca` and records it in the ledger.
    pub fn sign_device_cert(&self, request: &SignDeviceRequest) -> Result<SignedDeviceCert> {
        self.sign_device_cert_to(request, None)
    }

    /// Like [`sign_device_cert`](Station::sign_device_cert), and also writes the PEM to `output`: the
    /// certificate file and the ledger row are both written or neither is.
    pub fn sign_device_cert_to(&self, request: &SignDeviceRequest, output: Option<&Path>) -> Result<SignedDeviceCert> {
        let profile = parse_profile(&request.profile)?;
        let (public_key, csr_cn) = match (&request.csr, &request.public_key) {
            (Some(csr), None) => public_key_from_csr(csr).map_err(request_error)?,
            (None, Some(key)) => (public_key_from_key_file(key).map_err(request_error)?, None),
            _ => return Err(Error::InvalidInput { what: "device certificate request".into(), reason: "give exactly one of a CSR or a public key".into() }),
        };
        let chip_serial = resolve_chip_serial(profile, request.serial_hex.as_deref(), csr_cn.as_deref()).map_err(request_error)?;
        let metadata = self.metadata()?;
        let record = self.record(&metadata, &request.ca)?;
        let signer = self.load_cert(&request.ca)?;
        self.profile_defs(&request.ca, profile)?;
        let (key, _) = self.unlocked_key(&record, &signer)?;
        let now = AtcaDate::from_offset_date_time(self.clock.now());
        let issued = issue_device_cert(profile, &signer.der, &key, &public_key, &chip_serial, now).map_err(request_error)?;
        let cert_def_string = match profile {
            keyline_certs::atcacert::Profile::EspCryptoauthlib => Some(certdef_string::encode(&issued.der, true).map_err(|e| request_error(e.into()))?),
            _ => None,
        };
        let device = NewDevice {
            serial: DeviceSerial::from_chip(&chip_serial),
            common_name: issued.common_name.clone(),
            profile: profile.as_str().into(),
            ca_name: request.ca.clone(),
            cert_der: issued.der.clone(),
            public_key,
        };
        let pem = to_pem("CERTIFICATE", &issued.der);
        let ledger = record_with_file(&mut self.ledger()?, &device, output, &pem)?;
        tracing::info!(ca = %request.ca, profile = profile.as_str(), cn = %issued.common_name, serial = %issued.serial_hex, ledger = ?ledger, "issued device certificate");
        Ok(SignedDeviceCert {
            profile: profile.as_str().into(),
            common_name: issued.common_name.clone(),
            serial_number: issued.serial_hex.clone(),
            not_before: issued.not_before.to_string(),
            not_after: issued.not_after.to_string(),
            pem,
            compressed_hex: issued.compressed.iter().map(|b| format!("{b:02x}")).collect(),
            cert_def_string,
            certificate_id: crate::ledger::certificate_id(&issued.der),
            device_serial: device.serial,
            ledger,
        })
    }
}

/// Records the device and writes `pem` to `output` (if any) as one step: the file is written in full beside
/// its destination, renamed into place while the ledger transaction is open, and removed again if the
/// ledger cannot commit.
fn record_with_file(ledger: &mut crate::ledger::Ledger, device: &NewDevice, output: Option<&Path>, pem: &str) -> Result<Recorded> {
    let pending = ledger.begin_record(device)?;
    if let Some(path) = output {
        write_file_atomically(path, pem.as_bytes())?;
    }
    match pending.commit() {
        Ok(recorded) => Ok(recorded),
        Err(error) => {
            if let Some(path) = output {
                let _ = std::fs::remove_file(path);
            }
            Err(error.into())
        }
    }
}

/// Writes `bytes` to a temporary file in `path`'s directory, then renames it over `path`.
fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let io = |source| Error::Io { action: "cannot write", path: path.to_path_buf(), source };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.as_file().sync_all().map_err(io)?;
    file.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
