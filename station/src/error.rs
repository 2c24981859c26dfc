//! The station's one error type, with stable codes and operator hints for the CLI and the UI.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Everything that can go wrong in a station operation.
///
/// Each variant has a stable snake-case [`code`](Error::code) the UI acts on, a message saying
/// what went wrong and a [`hint`](Error::hint) saying what to do. Never match on message text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The passphrase does not decrypt the CA key.
    #[error("wrong passphrase for CA \"{name}\"")]
    WrongPassphrase {
        /// CA name (or the file being imported).
        name: String,
    },
    /// The private key does not belong to the certificate.
    #[error("the private key does not match the certificate of \"{name}\"")]
    KeyMismatch {
        /// CA name being imported or checked.
        name: String,
    },
    /// The certificate is not a certificate authority.
    #[error("certificate \"{subject}\" is not a CA (no BasicConstraints CA:TRUE with keyCertSign)")]
    NotACa {
        /// Subject of the offending certificate.
        subject: String,
    },
    /// A PEM file could not be parsed.
    #[error("{what} is not valid PEM: {detail}")]
    CorruptPem {
        /// What was being read ("certificate file", "key file", a path...).
        what: String,
        /// Parser detail.
        detail: String,
    },
    /// The key or certificate uses an algorithm Keyline does not support.
    #[error("unsupported {what}: {detail}")]
    Unsupported {
        /// What was unsupported ("key", "certificate").
        what: String,
        /// Detail.
        detail: String,
    },
    /// A CA or file with that name already exists.
    #[error("{what} \"{name}\" already exists")]
    AlreadyExists {
        /// What kind of object ("CA", "verification certificate").
        what: String,
        /// Its name.
        name: String,
    },
    /// No CA with that name.
    #[error("no CA named \"{name}\" in {data_dir}")]
    NotFound {
        /// The requested name.
        name: String,
        /// The data directory searched.
        data_dir: PathBuf,
    },
    /// A name or code is not allowed.
    #[error("invalid {what} \"{value}\": {reason}")]
    InvalidName {
        /// What was named ("CA name", "registration code").
        what: String,
        /// The rejected value (already sanitised for display).
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Some other argument is out of range.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// The argument.
        what: String,
        /// Why.
        reason: String,
    },
    /// A signer CA cannot be placed in a firmware profile's slots (code `invalid_input`).
    #[error("invalid signer CA \"{ca}\" for the {profile} profile: {reason}")]
    SignerMisfit {
        /// The signer CA's store name.
        ca: String,
        /// The profile (`rainbowtype`, `esp-cryptoauthlib`, `trustflex`).
        profile: String,
        /// Why it does not fit.
        reason: String,
    },
    /// The OS keyring cannot be used.
    #[error("the OS keyring is not available: {reason}")]
    KeyringUnavailable {
        /// What the keyring backend reported.
        reason: String,
    },
    /// A new CA passphrase is shorter than [`MIN_PASSPHRASE_CHARS`](crate::MIN_PASSPHRASE_CHARS).
    #[error("the passphrase is too short: a CA key needs a passphrase of at least {min_chars} characters")]
    PassphraseTooShort {
        /// The minimum number of characters.
        min_chars: usize,
    },
    /// A passphrase is needed and none could be obtained.
    #[error("a passphrase is needed for {purpose} and none was given")]
    PassphraseRequired {
        /// What the passphrase is for ("CA \"root\"").
        purpose: String,
        /// Environment variable that can supply it.
        env_var: String,
    },
    /// The data directory is inconsistent (a file is missing or damaged).
    #[error("the data directory is damaged: {detail}")]
    CorruptStore {
        /// What is wrong.
        detail: String,
    },
    /// A certificate could not be built or signed.
    #[error("could not issue the certificate: {detail}")]
    Issue {
        /// Detail from the certificate builder.
        detail: String,
    },
    /// The device ledger failed (its own code and hint).
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// OTA: an image, signing key, signature or device-management exchange failed (its own code).
    #[error(transparent)]
    Ota(#[from] keyline_ota::Error),
    /// File-system failure.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("cannot write").
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// An error as it crosses to the UI or to `--json` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorReport {
    /// Stable snake-case code (see [`Error::code`]).
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// Result alias for station operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::WrongPassphrase { .. } => "wrong_passphrase",
            Error::KeyMismatch { .. } => "key_mismatch",
            Error::NotACa { .. } => "not_a_ca",
            Error::CorruptPem { .. } => "corrupt_pem",
            Error::Unsupported { .. } => "unsupported",
            Error::AlreadyExists { .. } => "already_exists",
            Error::NotFound { .. } => "not_found",
            Error::InvalidName { .. } => "invalid_name",
            Error::InvalidInput { .. } | Error::SignerMisfit { .. } => "invalid_input",
            Error::KeyringUnavailable { .. } => "keyring_unavailable",
            Error::PassphraseRequired { .. } => "passphrase_required",
            Error::PassphraseTooShort { .. } => "passphrase_too_short",
            Error::CorruptStore { .. } => "corrupt_store",
            Error::Issue { .. } => "issue_failed",
            Error::Io { .. } => "io",
            Error::Ota(error) => error.code(),
            Error::Ledger(error) => error.code(),
        }
    }

    /// What the operator should do next.
    pub fn hint(&self) -> String {
        match self {
            Error::WrongPassphrase { .. } => {
                "Check the passphrase (and KEYLINE_CA_PASSPHRASE if set) and try again.".into()
            }
            Error::KeyMismatch { .. } => {
                "Pass the private key that was generated together with this certificate.".into()
            }
            Error::NotACa { .. } => "Import a CA certificate (BasicConstraints CA:TRUE, key usage keyCertSign), not a device or server certificate.".into(),
            Error::CorruptPem { .. } => "Pass a PEM file (-----BEGIN ...-----); convert DER with `openssl x509 -inform der` or `openssl pkey -inform der`.".into(),
            Error::Unsupported { .. } => "Keyline CAs use ECDSA P-256 keys; legacy encrypted keys can be converted with `openssl pkcs8 -topk8 -v2 aes-256-cbc`.".into(),
            Error::AlreadyExists { .. } => "Choose another name; existing files were left untouched.".into(),
            Error::NotFound { .. } => "Run `keyline ca list` to see the CAs, or check --data-dir / KEYLINE_DATA_DIR.".into(),
            Error::InvalidName { .. } => "Use 1-64 characters from A-Z a-z 0-9 . _ -".into(),
            Error::InvalidInput { .. } => "Correct the value and try again.".into(),
            Error::SignerMisfit { profile, .. } => format!(
                "Create a signer made for this profile with `keyline ca create --name ROOT --org ORG --signer SIGNER --profile {profile}` \
                 (for trustflex its CN ends in four hex digits, the signer ID; choose the CN with `--signer-cn \"Device Signer 0001\"`), \
                 then run `keyline template cert-chain --ca SIGNER --profile {profile}`."
            ),
            Error::KeyringUnavailable { .. } => "Enter the passphrase when asked or set KEYLINE_CA_PASSPHRASE; on Linux start a Secret Service (e.g. gnome-keyring) in the desktop session to remember passphrases.".into(),
            Error::PassphraseRequired { env_var, .. } => format!(
                "Run in a terminal to be prompted, or set the {env_var} environment variable."
            ),
            Error::PassphraseTooShort { min_chars } => format!(
                "Choose a passphrase of {min_chars} or more characters; a few unrelated words are easy to type and hard to guess."
            ),
            Error::CorruptStore { .. } => "Restore the data directory from a backup or remove the damaged CA files.".into(),
            Error::Issue { .. } => "This is a bug if the CA files are intact; please report it with the log file.".into(),
            Error::Io { .. } => "Check that the path exists and is writable, and that the disk is not full.".into(),
            Error::Ledger(error) => error.hint(),
            Error::Ota(error) => crate::ota::hint(error),
        }
    }

    /// The serialisable form for the UI and `--json`.
    pub fn report(&self) -> ErrorReport {
        ErrorReport { code: self.code().into(), message: self.to_string(), hint: self.hint() }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { action, path: path.into(), source }
    }
}

impl From<Error> for ErrorReport {
    fn from(error: Error) -> Self {
        error.report()
    }
}

impl std::fmt::Display for ErrorReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.report().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_has_code_message_and_hint_in_camel_case_json() {
        let err = Error::PassphraseRequired { purpose: "CA \"root\"".into(), env_var: "KEYLINE_CA_PASSPHRASE".into() };
        let json = serde_json::to_value(err.report()).unwrap();
        assert_eq!(json["code"], "passphrase_required");
        assert!(json["hint"].as_str().unwrap().contains("KEYLINE_CA_PASSPHRASE"));
        assert!(json["message"].as_str().unwrap().contains("root"));
    }
}
