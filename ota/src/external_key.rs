//! TLS client authentication with a P-256 key that never leaves its holder (an ATECC608A, real
//! or simulated): rustls asks for a signature, the holder signs the SHA-256 digest.

use std::fmt;
use std::sync::Arc;

use rustls::client::ResolvesClientCert;
use rustls::pki_types::CertificateDer;
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{RootCertStore, SignatureAlgorithm, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::tls::certificates_from_pem;
use crate::{Error, Result};

/// Signs a SHA-256 digest with a P-256 private key held elsewhere; returns the raw `r ‖ s`.
pub trait P256DigestSigner: Send + Sync {
    /// The signature of `digest`, or why the holder refused.
    fn sign_digest(&self, digest: &[u8; 32]) -> std::result::Result<[u8; 64], String>;
}

#[derive(Clone)]
struct HeldKey(Arc<dyn P256DigestSigner>);

impl fmt::Debug for HeldKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HeldKey(P-256)")
    }
}

impl SigningKey for HeldKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered.contains(&SignatureScheme::ECDSA_NISTP256_SHA256).then(|| Box::new(self.clone()) as Box<dyn Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

impl Signer for HeldKey {
    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, rustls::Error> {
        let digest: [u8; 32] = Sha256::digest(message).into();
        let raw = self.0.sign_digest(&digest).map_err(|e| rustls::Error::General(format!("the key holder refused to sign: {e}")))?;
        Ok(ecdsa_der(&raw))
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP256_SHA256
    }
}

/// `r ‖ s` as the DER `ECDSA-Sig-Value` TLS carries.
pub fn ecdsa_der(raw: &[u8; 64]) -> Vec<u8> {
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len() - 1);
        let mut value = bytes[start..].to_vec();
        if value[0] & 0x80 != 0 {
            value.insert(0, 0);
        }
        let mut out = vec![0x02, value.len() as u8];
        out.extend(value);
        out
    }
    let body = [integer(&raw[..32]), integer(&raw[32..])].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

#[derive(Debug)]
struct Resolver(Arc<CertifiedKey>);

impl ResolvesClientCert for Resolver {
    fn resolve(&self, _hints: &[&[u8]], sigschemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        sigschemes.contains(&SignatureScheme::ECDSA_NISTP256_SHA256).then(|| self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Client side with a held key: trust `server_roots`, present `chain_pem` (leaf first) signed by `key`.
pub fn client_config(chain_pem: &str, key: Arc<dyn P256DigestSigner>, server_roots: Arc<RootCertStore>) -> Result<Arc<rustls::ClientConfig>> {
    let chain: Vec<CertificateDer<'static>> = certificates_from_pem(chain_pem)?;
    let certified = Arc::new(CertifiedKey::new(chain, Arc::new(HeldKey(key))));
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_root_certificates(server_roots)
        .with_client_cert_resolver(Arc::new(Resolver(certified)));
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::ecdsa_der;

    #[test]
    fn der_integers_are_minimal_and_positive() {
        let mut raw = [0u8; 64];
        raw[31] = 0x05;
        raw[32] = 0x80;
        assert_eq!(ecdsa_der(&raw)[..7], [0x30, 0x26, 0x02, 0x01, 0x05, 0x02, 0x21]);
        assert_eq!(ecdsa_der(&raw)[7], 0x00);
    }
}
