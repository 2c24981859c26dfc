//! Keyline PKI: the certificate-authority store, certificate issuance and CryptoAuthLib atcacert support.
//!
//! The common case first: [`EcKey::generate`] makes a P-256 key, [`create_root_ca`] and
//! [`create_signer_ca`] issue CA certificates, [`CertInfo`] reads any certificate, and
//! [`EcKey::to_encrypted_pem`] is the only way a private key leaves memory (encrypted PKCS#8).
//!
//! This crate does no file I/O; the station decides where things are stored.
#![warn(missing_docs)]

pub mod atcacert;
pub mod device;
mod error;
mod inspect;
mod issue;
mod key;
mod pem_blocks;

pub use error::{Error, Result};
pub use inspect::{certificate_id, colon_hex, CertInfo, ExtensionInfo};
pub use issue::{create_root_ca, create_signer_ca, issue_verification_cert, random_serial, CaSubject, Validity, SERIAL_LEN};
pub use key::EcKey;
pub use pem_blocks::{pem_blocks, to_pem, PemBlock, MAX_PEM_BYTES};
