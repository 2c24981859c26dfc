//! Throwaway device identities for the connection test: a fresh P-256 key and a device certificate
//! (CN = serial) signed by the CA signer the station hands over.

use rcgen::{CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair, KeyUsagePurpose, SerialNumber};
use zeroize::Zeroizing;

use crate::allow_list::validate_serial;
use crate::cert_pem::{certificate_id, parse_cert_pem};
use crate::error::{CloudError, Result};

/// A device certificate and its private key, as a simulated board would hold them.
#[derive(Clone)]
pub struct DeviceIdentity {
    /// The device serial (certificate CN, MQTT client id, thing name).
    pub serial: String,
    /// The device certificate, PEM.
    pub cert_pem: String,
    /// The device's private key, PKCS#8 PEM (wiped on drop).
    pub key_pem: Zeroizing<String>,
    /// SHA-256 of the certificate's DER: the AWS certificate id and the ledger's join key.
    pub certificate_id: String,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("serial", &self.serial)
            .field("certificate_id", &self.certificate_id)
            .finish_non_exhaustive()
    }
}

/// A random 18-hex serial in the style of an ATECC608A serial number (prefix `01 23`).
pub fn random_serial() -> String {
    let bytes: [u8; 7] = rand_bytes();
    format!("0123{}", hex::encode_upper(bytes))
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    // A throwaway key's public point is as good a random source as any; avoids another dependency.
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("P-256 key generation");
    let digest = <sha2::Sha256 as sha2::Digest>::digest(key.public_key_raw());
    let mut out = [0u8; N];
    out.copy_from_slice(&digest[..N]);
    out
}

/// Issues a device certificate for `serial`, signed by the signer (its certificate PEM and its unencrypted
/// PKCS#8 private key, DER or PEM). The signer key stays in memory and is wiped by the caller.
pub fn issue_device_identity(signer_cert_pem: &str, signer_key_pkcs8: &[u8], serial: &str) -> Result<DeviceIdentity> {
    validate_serial(serial)?;
    parse_cert_pem(signer_cert_pem, "signer certificate")?;
    let signer_key = if signer_key_pkcs8.starts_with(b"-----") {
        let text = std::str::from_utf8(signer_key_pkcs8).map_err(|e| key_error(e.to_string()))?;
        KeyPair::from_pem(text)
    } else {
        KeyPair::try_from(signer_key_pkcs8)
    }
    .map_err(|e| key_error(e.to_string()))?;
    issue_device_identity_with(signer_cert_pem, &signer_key, serial)
}

/// [`issue_device_identity`] signed by any rcgen signing key: a key held elsewhere (a PKCS#11 token) signs
/// without its private half ever being in this process.
pub fn issue_device_identity_with(signer_cert_pem: &str, signer_key: &impl rcgen::SigningKey, serial: &str) -> Result<DeviceIdentity> {
    validate_serial(serial)?;
    parse_cert_pem(signer_cert_pem, "signer certificate")?;
    let issuer = Issuer::from_ca_cert_pem(signer_cert_pem, signer_key)
        .map_err(|e| CloudError::InvalidCertificate { what: "signer certificate", detail: e.to_string() })?;
    let device_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| key_error(e.to_string()))?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "Keyline connection test");
    name.push(DnType::CommonName, serial);
    params.distinguished_name = name;
    let now = std::time::SystemTime::now();
    params.not_before = (now - std::time::Duration::from_secs(3600)).into();
    params.not_after = (now + std::time::Duration::from_secs(365 * 24 * 3600)).into();
    params.serial_number = Some(SerialNumber::from_slice(&rand_bytes::<16>()));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let cert = params
        .signed_by(&device_key, &issuer)
        .map_err(|e| CloudError::InvalidCertificate { what: "device certificate", detail: e.to_string() })?;
    Ok(DeviceIdentity {
        serial: serial.to_string(),
        certificate_id: certificate_id(cert.der()),
        cert_pem: cert.pem(),
        key_pem: Zeroizing::new(device_key.serialize_pem()),
    })
}

fn key_error(detail: String) -> CloudError {
    CloudError::InvalidKey { what: "CA signer key", detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_certificates_name_the_serial_and_carry_their_id() {
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name.push(DnType::CommonName, "Test Signer");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let serial = random_serial();
        assert_eq!(serial.len(), 18);
        let device = issue_device_identity(&ca.pem(), ca_key.serialize_pem().as_bytes(), &serial).unwrap();
        let parsed = parse_cert_pem(&device.cert_pem, "device certificate").unwrap();
        assert_eq!(parsed.common_name.as_deref(), Some(serial.as_str()));
        assert_eq!(parsed.id, device.certificate_id);
        assert!(format!("{device:?}").find("PRIVATE").is_none());
    }

    #[test]
    fn a_garbage_key_is_refused() {
        let err = issue_device_identity("x", b"junk", "0123").unwrap_err();
        assert!(matches!(err, CloudError::InvalidCertificate { .. } | CloudError::InvalidKey { .. }));
    }
}
