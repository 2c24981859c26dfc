//! Byte-exact DER encoding of the X.509 certificates Keyline lays out for ATECC templates:
//! names, validity, P-256 keys, the extensions the profiles use, and signed assembly.

use super::date::{AtcaDate, DateFormat};
use super::der_walk::{OID_AKI, OID_COMMON_NAME, OID_ECDSA_SHA256, OID_EC_PUBLIC_KEY, OID_PRIME256V1, OID_SKI};
use super::derived::{key_id, RawPublicKey};
use super::error::Result;
use super::rebuild::der_signature_value;

const OID_ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0A];
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1D, 0x0F];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1D, 0x13];

/// One DER element: tag, minimal length, value.
pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let len = value.len();
    let mut out = vec![tag];
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0xFF => out.extend([0x81, len as u8]),
        _ => out.extend([0x82, (len >> 8) as u8, len as u8]),
    }
    out.extend_from_slice(value);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A Name with an optional organisation and a common name, in that order.
/// PrintableString when the text allows it, UTF8String otherwise.
pub fn name(organization: Option<&str>, common_name: &str) -> Vec<u8> {
    let attr = |oid: &[u8], text: &str| {
        let printable = text.bytes().all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
        let value = tlv(if printable { 0x13 } else { 0x0C }, text.as_bytes());
        tlv(0x31, &seq(&[tlv(0x06, oid), value]))
    };
    let mut rdns = Vec::new();
    if let Some(o) = organization {
        rdns.push(attr(OID_ORGANIZATION, o));
    }
    rdns.push(attr(OID_COMMON_NAME, common_name));
    seq(&rdns)
}

/// A validity time in the given X.509 format.
pub fn time(format: DateFormat, date: &AtcaDate) -> Result<Vec<u8>> {
    let tag = if format == DateFormat::Rfc5280Gen { 0x18 } else { 0x17 };
    Ok(tlv(tag, &format.encode(date)?))
}

/// SubjectPublicKeyInfo of a P-256 key.
pub fn p256_spki(key: &RawPublicKey) -> Vec<u8> {
    let mut bits = vec![0x00, 0x04];
    bits.extend_from_slice(key);
    seq(&[seq(&[tlv(0x06, OID_EC_PUBLIC_KEY), tlv(0x06, OID_PRIME256V1)]), tlv(0x03, &bits)])
}

/// The AlgorithmIdentifier ecdsa-with-SHA256.
pub fn ecdsa_sha256() -> Vec<u8> {
    seq(&[tlv(0x06, OID_ECDSA_SHA256)])
}

/// One certificate extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    oid: &'static [u8],
    critical: bool,
    value: Vec<u8>,
}

impl Extension {
    /// SubjectKeyIdentifier = SHA-1 of the key.
    pub fn subject_key_id(key: &RawPublicKey) -> Self {
        Self { oid: OID_SKI, critical: false, value: tlv(0x04, &key_id(key)) }
    }
    /// AuthorityKeyIdentifier with a keyIdentifier only.
    pub fn authority_key_id(issuer_key: &RawPublicKey) -> Self {
        Self { oid: OID_AKI, critical: false, value: seq(&[tlv(0x80, &key_id(issuer_key))]) }
    }
    /// KeyUsage (critical) from the bits of the first byte (bit 7 = digitalSignature).
    pub fn key_usage(bits: u8) -> Self {
        let unused = bits.trailing_zeros().min(7) as u8;
        Self { oid: OID_KEY_USAGE, critical: true, value: tlv(0x03, &[unused, bits]) }
    }
    /// BasicConstraints (critical); `Some(n)` = CA with pathlen n.
    pub fn basic_constraints(ca_path_len: Option<u8>) -> Self {
        let value = match ca_path_len {
            Some(n) => seq(&[tlv(0x01, &[0xFF]), tlv(0x02, &[n])]),
            None => seq(&[]),
        };
        Self { oid: OID_BASIC_CONSTRAINTS, critical: true, value }
    }

    fn encode(&self) -> Vec<u8> {
        let mut parts = vec![tlv(0x06, self.oid)];
        if self.critical {
            parts.push(tlv(0x01, &[0xFF]));
        }
        parts.push(tlv(0x04, &self.value));
        seq(&parts)
    }
}

/// KeyUsage bits (first byte).
pub mod key_usage {
    /// digitalSignature
    pub const DIGITAL_SIGNATURE: u8 = 0x80;
    /// nonRepudiation / contentCommitment
    pub const NON_REPUDIATION: u8 = 0x40;
    /// keyEncipherment
    pub const KEY_ENCIPHERMENT: u8 = 0x20;
    /// keyAgreement
    pub const KEY_AGREEMENT: u8 = 0x08;
    /// keyCertSign
    pub const KEY_CERT_SIGN: u8 = 0x04;
    /// cRLSign
    pub const CRL_SIGN: u8 = 0x02;
}

/// Everything that goes into a TBSCertificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TbsFields {
    /// Serial number INTEGER contents (positive, minimal).
    pub serial: Vec<u8>,
    /// Issuer Name DER.
    pub issuer: Vec<u8>,
    /// notBefore and its format.
    pub not_before: (DateFormat, AtcaDate),
    /// notAfter and its format.
    pub not_after: (DateFormat, AtcaDate),
    /// Subject Name DER.
    pub subject: Vec<u8>,
    /// Subject public key.
    pub public_key: RawPublicKey,
    /// Extensions in order.
    pub extensions: Vec<Extension>,
}

impl TbsFields {
    /// The DER TBSCertificate (v3).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut parts = vec![
            tlv(0xA0, &tlv(0x02, &[2])),
            tlv(0x02, &self.serial),
            ecdsa_sha256(),
            self.issuer.clone(),
            seq(&[time(self.not_before.0, &self.not_before.1)?, time(self.not_after.0, &self.not_after.1)?]),
            self.subject.clone(),
            p256_spki(&self.public_key),
        ];
        if !self.extensions.is_empty() {
            let list: Vec<Vec<u8>> = self.extensions.iter().map(Extension::encode).collect();
            parts.push(tlv(0xA3, &seq(&list)));
        }
        Ok(seq(&parts))
    }
}

/// A signed certificate from a TBSCertificate and a raw R ‖ S signature.
pub fn assemble(tbs: &[u8], signature: &[u8; 64]) -> Vec<u8> {
    let mut body = tbs.to_vec();
    body.extend(ecdsa_sha256());
    body.extend(der_signature_value(signature));
    tlv(0x30, &body)
}

/// A placeholder signature whose DER is the longest possible (R and S with the high bit set), so
/// template buffers fit any real signature.
pub const LONGEST_SIGNATURE: [u8; 64] = [0xFF; 64];
