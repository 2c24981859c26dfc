//! Reading the device public key from untrusted input: a PKCS#10 CSR (self-signature verified),
//! a SubjectPublicKeyInfo, or raw X ‖ Y; PEM or DER.

use super::error::DeviceCertError;
use crate::atcacert::der_walk::{self, CsrLayout};
use crate::atcacert::derived::RawPublicKey;
use p256::ecdsa::signature::Verifier;

/// Largest request accepted (CSR or key file).
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;

fn not_p256(reason: impl ToString) -> DeviceCertError {
    DeviceCertError::NotP256 { reason: reason.to_string() }
}

/// DER from PEM text with the given label, or the bytes themselves when they are not PEM.
pub fn der_from_pem_or_der(input: &[u8], label: &str) -> Result<Vec<u8>, DeviceCertError> {
    if input.len() > MAX_REQUEST_BYTES {
        return Err(not_p256(format!("input is {} bytes, more than {MAX_REQUEST_BYTES}", input.len())));
    }
    let Ok(text) = std::str::from_utf8(input) else { return Ok(input.to_vec()) };
    if !text.contains("-----BEGIN") {
        return Ok(input.to_vec());
    }
    let blocks = crate::pem_blocks("request", text).map_err(not_p256)?;
    let block = blocks.iter().find(|b| b.label == label || b.label.strip_prefix("NEW ") == Some(label)).ok_or_else(|| not_p256(format!("no -----BEGIN {label}----- block")))?;
    Ok(block.der.to_vec())
}

/// The P-256 public key of a CSR, after checking its ECDSA-SHA256 self-signature.
pub fn public_key_from_csr(input: &[u8]) -> Result<(RawPublicKey, Option<String>), DeviceCertError> {
    let der = der_from_pem_or_der(input, "CERTIFICATE REQUEST")?;
    let layout: CsrLayout = der_walk::walk_csr(&der).map_err(|e| match e {
        crate::atcacert::AtcaCertError::Der { reason, .. } if reason.contains("P-256") || reason.contains("ecdsa") => not_p256(reason),
        other => DeviceCertError::BadCsrSignature { reason: other.to_string() },
    })?;
    let key: RawPublicKey = layout.public_key.bytes(&der).try_into().expect("64-byte span");
    let verifying = verifying_key(&key)?;
    let signature = p256::ecdsa::Signature::from_der(layout.signature.bytes(&der))
        .map_err(|e| DeviceCertError::BadCsrSignature { reason: format!("malformed ECDSA signature: {e}") })?;
    verifying
        .verify(layout.info.bytes(&der), &signature)
        .map_err(|_| DeviceCertError::BadCsrSignature { reason: "ECDSA-SHA256 verification failed".into() })?;
    Ok((key, csr_common_name(&der)))
}

fn csr_common_name(der: &[u8]) -> Option<String> {
    let req = der_walk::read_whole(der).ok()?;
    let top = der_walk::children(der, &req, 0).ok()?;
    let parts = der_walk::children(der, top.first()?, 1).ok()?;
    let cn = der_walk::find_common_name(der, parts.get(1)?).ok()??;
    String::from_utf8(cn.bytes(der).to_vec()).ok()
}

/// A P-256 public key from a PEM/DER SubjectPublicKeyInfo, or 64/65 raw bytes (X ‖ Y, optional 04).
pub fn public_key_from_key_file(input: &[u8]) -> Result<RawPublicKey, DeviceCertError> {
    let text = std::str::from_utf8(input).unwrap_or("").trim();
    if !text.is_empty() && text.len() <= 132 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let raw = hex::decode(text).map_err(not_p256)?;
        return raw_key(&raw);
    }
    let der = der_from_pem_or_der(input, "PUBLIC KEY")?;
    if der.len() == 64 || der.len() == 65 {
        return raw_key(&der);
    }
    let spki = der_walk::read_whole(&der).map_err(not_p256)?;
    let span = der_walk::p256_public_key(&der, &spki).map_err(not_p256)?;
    let key: RawPublicKey = span.bytes(&der).try_into().expect("64-byte span");
    verifying_key(&key)?;
    Ok(key)
}

fn raw_key(raw: &[u8]) -> Result<RawPublicKey, DeviceCertError> {
    let raw = match raw {
        [0x04, rest @ ..] if rest.len() == 64 => rest,
        r if r.len() == 64 => r,
        r => return Err(not_p256(format!("{} raw bytes; expected 64 (X ‖ Y) or 65 (04 ‖ X ‖ Y)", r.len()))),
    };
    let key: RawPublicKey = raw.try_into().expect("length checked");
    verifying_key(&key)?;
    Ok(key)
}

/// Checks the point is on the P-256 curve and returns a verifier for it.
pub fn verifying_key(key: &RawPublicKey) -> Result<p256::ecdsa::VerifyingKey, DeviceCertError> {
    let mut sec1 = [0u8; 65];
    sec1[0] = 0x04;
    sec1[1..].copy_from_slice(key);
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| not_p256("the point is not on the P-256 curve"))
}
