//! Keyline PKI: the certificate-authority store, certificate issuance and CryptoAuthLib atcacert support.
//!
//! The common case first: [`EcKey::generate`] makes a P-256 key, [`create_root_ca`] and
//! [`create_signer_ca`] issue CA certificates, [`CertInfo`] reads any certificate, and
//! [`EcKey::to_encrypted_pem`] is the only way a private key leaves memory (encrypted PKCS#8).
//!
//! The station decides where things are stored; the only file I/O here is
//! [`read_bounded_file`], the one bounded reader every file Keyline reads goes through.
#![warn(missing_docs)]

pub mod atcacert;
mod ca_key;
pub mod device;
mod error;
mod file;
mod inspect;
mod issue;
mod issue_tls;
mod key;
mod pem_blocks;
mod secret_pem;
mod sealed;
mod signature_check;
pub mod token;

pub use ca_key::{CaKey, CaSigner};
pub use error::{Error, Result};
pub use file::{read_bounded_file, ReadFileError};
pub use inspect::{certificate_id, colon_hex, CertInfo, ExtensionInfo};
pub use issue::{create_root_ca, create_signer_ca, issue_verification_cert, random_serial, CaSubject, Validity, SERIAL_LEN};
pub use issue_tls::{issue_tls_client_cert, issue_tls_server_cert};
pub use key::EcKey;
pub use sealed::{open_sealed_pkcs8, seal_pkcs8_der, MAX_KDF_MEMORY_BYTES};
pub use pem_blocks::{pem_blocks, to_pem, PemBlock, MAX_PEM_BYTES};
pub use secret_pem::SecretPem;
