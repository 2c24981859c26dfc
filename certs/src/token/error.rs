//! Errors of PKCS#11 tokens, each with what to do about it.

use std::path::PathBuf;

/// What went wrong with a PKCS#11 module, token or key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// No file at the module path.
    #[error("the PKCS#11 module {} does not exist; install the token's PKCS#11 library (SoftHSM2: `apt-get install softhsm2`, /usr/lib/softhsm/libsofthsm2.so) and pass its path", path.display())]
    ModuleNotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The file exists but is not a loadable PKCS#11 library, or it refused to start.
    #[error("the PKCS#11 module {} cannot be loaded: {detail}; pass the token vendor's PKCS#11 library (a .so/.dylib/.dll)", path.display())]
    ModuleLoad {
        /// The path given.
        path: PathBuf,
        /// Loader or module detail.
        detail: String,
    },
    /// No slot holds a token with this label.
    #[error("no PKCS#11 token is labelled \"{token}\" (tokens present: {}); check --token, or create it (SoftHSM2: `softhsm2-util --init-token --free --label {token}`)", if available.is_empty() { "none".to_owned() } else { available.join(", ") })]
    TokenNotFound {
        /// The label asked for.
        token: String,
        /// Labels of the tokens the module sees.
        available: Vec<String>,
    },
    /// The token refused the user PIN.
    #[error("the token \"{token}\" refused the PIN; check it and try again (tokens lock after a few wrong PINs)")]
    WrongPin {
        /// Token label.
        token: String,
    },
    /// The token has locked its user PIN after too many wrong attempts.
    #[error("the token \"{token}\" has locked its user PIN after too many wrong attempts; the token's security officer must unlock or reset it")]
    PinLocked {
        /// Token label.
        token: String,
    },
    /// No private key with this label in the token.
    #[error("the token \"{token}\" holds no private key labelled \"{label}\"; list its keys (`pkcs11-tool --module MODULE --token-label {token} --login --list-objects`) and pass the right --key-label")]
    KeyLabelMissing {
        /// Token label.
        token: String,
        /// Key label.
        label: String,
    },
    /// A key with this label already exists (refused rather than making two keys with one label).
    #[error("the token \"{token}\" already holds a key labelled \"{label}\"; adopt it with `keyline ca import --pkcs11-module ... --key-label {label}` or choose another CA name")]
    KeyLabelTaken {
        /// Token label.
        token: String,
        /// Key label.
        label: String,
    },
    /// The key is not an ECDSA P-256 key (Keyline's CAs and the ATECC608A are P-256 only).
    #[error("the key \"{label}\" in the token is not an EC P-256 key ({detail}); Keyline CAs need P-256 (secp256r1)")]
    NotP256 {
        /// Key label.
        label: String,
        /// What it is instead.
        detail: String,
    },
    /// Any other failure of a PKCS#11 call.
    #[error("the PKCS#11 token failed to {operation}: {detail}")]
    Pkcs11 {
        /// What Keyline was doing ("sign", "generate a key pair").
        operation: &'static str,
        /// The module's return value.
        detail: String,
    },
}
