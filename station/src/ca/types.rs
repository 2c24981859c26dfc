//! Requests and results of CA operations, serialised in camelCase for the UI and `--json`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use keyline_certs::SecretPem;

use crate::Passphrase;

/// Default validity of a new CA, in years.
pub const DEFAULT_CA_YEARS: u32 = 10;

/// Request to create a root CA and, optionally, a signer CA under it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CreateCa {
    /// Name of the root CA in the store (also its Common Name).
    pub name: String,
    /// Organization (O) of both certificates.
    pub org: String,
    /// Name of a signer CA to create under the root (pathlen 0), if any.
    #[serde(default)]
    pub signer: Option<String>,
    /// Validity in years (1-50).
    #[serde(default = "default_years")]
    pub years: u32,
}

/// Make the signer CA of a [`CreateCa`] fit a firmware profile's slots (`keyline ca create
/// --profile`): serial, dates, validity and CN as that profile's `cert_chain.c` rebuilds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignerFit {
    /// Firmware profile: `rainbowtype`, `esp-cryptoauthlib` or `trustflex`.
    pub profile: String,
    /// The signer's Common Name. Default: the signer name, for trustflex followed by four hex
    /// digits (the signer ID) unless it already ends in them.
    #[serde(default)]
    pub signer_cn: Option<String>,
}

fn default_years() -> u32 {
    DEFAULT_CA_YEARS
}

/// Request to import an existing CA certificate and its private key.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImportCa {
    /// Name in the store.
    pub name: String,
    /// The CA certificate (PEM).
    pub cert_pem: String,
    /// The private key (PEM: SEC1, PKCS#8 or encrypted PKCS#8), zeroed on drop; `Debug`
    /// prints `[redacted]`.
    pub key_pem: SecretPem,
    /// Passphrase of `key_pem` when it is encrypted.
    #[serde(default)]
    pub key_passphrase: Option<Passphrase>,
}

/// Where the keys of a new CA are kept.
#[derive(Debug, Clone)]
pub enum NewKeyCustody<'a> {
    /// Encrypted PKCS#8 files in the store, under `passphrase`; the root under `root_passphrase` when given
    /// (so the line, which only needs the signer, never holds the root's passphrase).
    Files {
        /// Passphrase of the signer (and of the root without `root_passphrase`).
        passphrase: &'a Passphrase,
        /// The root's own passphrase.
        root_passphrase: Option<&'a Passphrase>,
    },
    /// Generated inside a PKCS#11 token (P-256, sensitive, not extractable), labelled with the CA names.
    Token {
        /// Path of the token's PKCS#11 library.
        module: PathBuf,
        /// Token label.
        token: String,
        /// The token's user PIN.
        pin: &'a Passphrase,
    },
}

/// Request to adopt a key that already exists in a PKCS#11 token as a CA.
#[derive(Debug, Clone)]
pub struct ImportTokenCa {
    /// Name in the store.
    pub name: String,
    /// Path of the token's PKCS#11 library.
    pub module: PathBuf,
    /// Token label.
    pub token: String,
    /// `CKA_LABEL` of the private key.
    pub key_label: String,
    /// The CA certificate (PEM); `None` takes the certificate the token holds under the key's label.
    pub cert_pem: Option<String>,
}

// The CA's role lives with the store's records and the keyring status with the secrets (no module cycles).
pub use crate::secrets::KeyringStatus;
pub use crate::store::CaRole;

/// Whether the station can use the CA key without asking for the passphrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum KeyStatus {
    /// The passphrase is needed.
    Locked,
    /// The passphrase is held by this process (until it exits or `lock_ca`).
    Unlocked,
    /// The passphrase is remembered in the OS keyring.
    Remembered,
}

/// One certificate in a CA's chain, from the CA itself up to the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ChainLink {
    /// Store name, when the certificate is in the store.
    pub name: Option<String>,
    /// Subject distinguished name.
    pub subject: String,
}

/// What the CA list shows for each CA.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CaSummary {
    /// Store name.
    pub name: String,
    /// Root or signer.
    pub role: CaRole,
    /// Subject DN (RFC 4514 style, as OpenSSL prints it).
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Store name of the issuing CA, when it is in the store.
    pub issuer_name: Option<String>,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Whole days until `not_after` (negative when expired).
    pub days_until_expiry: i64,
    /// SHA-256 fingerprint of the DER certificate, `AB:CD:..`.
    pub sha256: String,
    /// SHA-1 fingerprint of the DER certificate, `AB:CD:..`.
    pub sha1: String,
    /// Whether the key can be used without a passphrase (or token PIN) prompt.
    pub key_status: KeyStatus,
    /// Where the key is: a file on this station, a PKCS#11 token, or offline (not on this station).
    pub key_custody: super::KeyCustody,
    /// The CA itself first, then its issuers up to the root (or the first unknown issuer).
    pub chain: Vec<ChainLink>,
}

/// One X.509 extension, summarised for display.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ExtensionSummary {
    /// Extension name ("basicConstraints") or dotted OID when unknown.
    pub name: String,
    /// Whether it is marked critical.
    pub critical: bool,
    /// Human-readable value ("CA:TRUE, pathlen:0").
    pub value: String,
}

/// Everything `ca show` prints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CaDetails {
    /// The list entry.
    #[serde(flatten)]
    pub summary: CaSummary,
    /// Serial number, hex `01:AB:..`.
    pub serial: String,
    /// Signature algorithm ("ecdsa-with-SHA256").
    pub signature_algorithm: String,
    /// Public key algorithm and curve ("EC prime256v1").
    pub public_key: String,
    /// Extensions in certificate order.
    pub extensions: Vec<ExtensionSummary>,
    /// The certificate PEM.
    pub pem: String,
}

/// A verification certificate for AWS IoT CA registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationCert {
    /// `cloud/certs/<code>.pem`.
    pub cert_path: PathBuf,
    /// `cloud/keys/<code>.key`: its throwaway key, encrypted under the CA's passphrase (none for a CA whose
    /// key is in a PKCS#11 token).
    pub key_path: Option<PathBuf>,
    /// The certificate PEM (what AWS asks for).
    pub pem: String,
}

