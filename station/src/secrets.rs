//! Remembering CA passphrases in the OS keyring (Secret Service, macOS Keychain, Windows
//! Credential Manager). Never falls back to keyring's in-memory mock store.

use std::path::Path;

use crate::{Error, Passphrase, Result};

/// Whether passphrases can be remembered in the OS keyring.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct KeyringStatus {
    /// True when the keyring answered.
    pub available: bool,
    /// Backend name ("Secret Service", "macOS Keychain", "Windows Credential Manager").
    pub backend: String,
    /// Why it is not available (empty when available).
    pub reason: String,
}

/// Keyring service name for every Keyline entry.
const SERVICE: &str = "keyline";

/// Name of the keyring backend compiled for this OS.
fn backend_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "macOS Keychain"
    } else if cfg!(target_os = "windows") {
        "Windows Credential Manager"
    } else if cfg!(target_os = "linux") {
        "Secret Service"
    } else {
        "none"
    }
}

fn backend_supported() -> bool {
    cfg!(any(target_os = "macos", target_os = "windows", target_os = "linux"))
}

/// The keyring user of a CA: the data directory plus the name, so two stores never collide.
fn entry(data_dir: &Path, name: &str) -> Result<keyring::Entry> {
    if !backend_supported() {
        return Err(Error::KeyringUnavailable { reason: "no keyring backend is built for this OS".into() });
    }
    let user = format!("ca:{name}@{}", data_dir.display());
    keyring::Entry::new(SERVICE, &user).map_err(unavailable)
}

fn unavailable(error: keyring::Error) -> Error {
    Error::KeyringUnavailable { reason: error.to_string() }
}

/// Ask the keyring whether it works (reading an entry that normally does not exist).
pub(crate) fn status() -> KeyringStatus {
    let backend = backend_name().to_owned();
    if !backend_supported() {
        return KeyringStatus { available: false, backend, reason: "no keyring backend is built for this OS".into() };
    }
    let probe = keyring::Entry::new(SERVICE, "keyline-availability-probe").and_then(|entry| entry.get_password());
    match probe {
        Ok(_) | Err(keyring::Error::NoEntry) => KeyringStatus { available: true, backend, reason: String::new() },
        Err(error) => KeyringStatus { available: false, backend, reason: error.to_string() },
    }
}

/// Store the passphrase of CA `name`.
pub(crate) fn remember(data_dir: &Path, name: &str, passphrase: &Passphrase) -> Result<()> {
    entry(data_dir, name)?.set_password(passphrase.expose()).map_err(unavailable)
}

/// The remembered passphrase of CA `name`, if any.
pub(crate) fn recall(data_dir: &Path, name: &str) -> Result<Option<Passphrase>> {
    match entry(data_dir, name)?.get_password() {
        Ok(secret) => Ok(Some(Passphrase::new(secret))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(error) => Err(unavailable(error)),
    }
}

/// Delete the remembered passphrase of CA `name` (no error if there was none).
pub(crate) fn forget(data_dir: &Path, name: &str) -> Result<()> {
    match entry(data_dir, name)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(error) => Err(unavailable(error)),
    }
}
