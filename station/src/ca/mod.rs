//! Certificate authorities in the station's data directory: create, import, inspect, export,
//! unlock and issue AWS IoT verification certificates.
//!
//! All operations are methods on [`Station`](crate::Station).

mod types;

pub use types::*;

use crate::{Error, Passphrase, Result, Station};

fn not_yet(what: &str) -> Error {
    Error::Issue { detail: format!("{what} is not implemented yet") }
}

impl Station {
    /// Create a root CA and, if `request.signer` is set, a signer CA under it. Both keys are
    /// encrypted under `passphrase`, and both CAs stay unlocked in this process.
    pub fn create_ca(&self, request: CreateCa, passphrase: &Passphrase) -> Result<Vec<CaSummary>> {
        let _ = (request, passphrase);
        Err(not_yet("create_ca"))
    }

    /// Import an existing CA certificate and key; the key is re-encrypted under `passphrase`.
    pub fn import_ca(&self, request: ImportCa, passphrase: &Passphrase) -> Result<CaSummary> {
        let _ = (request, passphrase);
        Err(not_yet("import_ca"))
    }

    /// Every CA in the store, in creation order.
    pub fn list_cas(&self) -> Result<Vec<CaSummary>> {
        Err(not_yet("list_cas"))
    }

    /// One CA with its extensions and PEM.
    pub fn show_ca(&self, name: &str) -> Result<CaDetails> {
        let _ = name;
        Err(not_yet("show_ca"))
    }

    /// The CA certificate followed by its issuers up to the root, as PEM.
    pub fn export_ca_pem(&self, name: &str) -> Result<String> {
        let _ = name;
        Err(not_yet("export_ca_pem"))
    }

    /// Check `passphrase` against the CA key and keep it in this process; with
    /// `remember_in_keyring` also store it in the OS keyring (error `keyring_unavailable`
    /// leaves the CA locked).
    pub fn unlock_ca(&self, name: &str, passphrase: &Passphrase, remember_in_keyring: bool) -> Result<CaSummary> {
        let _ = (name, passphrase, remember_in_keyring);
        Err(not_yet("unlock_ca"))
    }

    /// If the OS keyring remembers the passphrase of `name`, unlock with it and return true.
    /// Returns false when nothing is remembered.
    pub fn unlock_ca_from_keyring(&self, name: &str) -> Result<bool> {
        let _ = name;
        Err(not_yet("unlock_ca_from_keyring"))
    }

    /// Drop the passphrase held by this process (the keyring entry, if any, stays).
    pub fn lock_ca(&self, name: &str) -> Result<CaSummary> {
        let _ = name;
        Err(not_yet("lock_ca"))
    }

    /// Remove the passphrase from the OS keyring and from this process.
    pub fn forget_passphrase(&self, name: &str) -> Result<CaSummary> {
        let _ = name;
        Err(not_yet("forget_passphrase"))
    }

    /// Issue an AWS IoT verification certificate (CN = `code`) from the unlocked CA `ca`.
    pub fn make_verification_cert(&self, ca: &str, code: &str) -> Result<VerificationCert> {
        let _ = (ca, code);
        Err(not_yet("make_verification_cert"))
    }

    /// Whether the OS keyring can remember passphrases here, and why not.
    pub fn keyring_status(&self) -> KeyringStatus {
        crate::secrets::status()
    }
}
