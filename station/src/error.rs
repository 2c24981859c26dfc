//! The station's one error type, with stable codes and operator hints for the CLI and the UI.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error_code::{Audience, ErrorCode};

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
    /// A PKCS#11 token holding (or to hold) a CA key failed: module, token, PIN or key.
    #[error(transparent)]
    Token(#[from] keyline_certs::token::TokenError),
    /// The root CA's key was exported and removed from this station (`ca offline-root`).
    #[error("the key of root CA \"{name}\" is offline (exported and removed from this station)")]
    RootOffline {
        /// Root CA name.
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
    /// A station setting is out of range (code `invalid_setting`); nothing was saved.
    #[error("invalid {setting} \"{value}\": {reason}")]
    InvalidSetting {
        /// The setting ("loader baud", "esp-helper handshake timeout").
        setting: String,
        /// The refused value.
        value: String,
        /// The allowed values or range.
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
    /// AWS IoT (or the local emulator) failed; the cloud error's code and hint are passed through.
    #[cfg(feature = "cloud")]
    #[error(transparent)]
    Cloud(#[from] keyline_cloud::CloudError),
    /// The connection test ran but the device never got to publish and receive.
    #[error("device {serial} did not get to publish and receive ({attempts} attempt(s))")]
    ConnectionTestFailed {
        /// The test device's serial.
        serial: String,
        /// Connection attempts made.
        attempts: usize,
        /// The TLS handshake failed because the server's certificate has an unknown issuer (an emulator's broker
        /// CA without --emulator or --server-ca), not because of the device.
        server_untrusted: bool,
    },
    /// An operation was cancelled before it finished.
    #[error("the {operation} was cancelled before it finished")]
    Cancelled {
        /// What was cancelled ("connection test").
        operation: &'static str,
    },
    /// A background task panicked or was dropped.
    #[error("the {operation} task stopped unexpectedly: {detail}")]
    TaskFailed {
        /// What was running.
        operation: &'static str,
        /// What the runtime reported.
        detail: String,
    },
    /// The serial ports cannot be listed.
    #[error(transparent)]
    Ports(#[from] crate::ports::PortsError),
    /// The device ledger failed (its own code and hint).
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// OTA: an image, signing key, signature or device-management exchange failed (its own code).
    #[error(transparent)]
    Ota(#[from] keyline_ota::Error),
    /// Flashing or RAM-loading a board failed, or an image was refused (its own code).
    #[error(transparent)]
    Flash(#[from] keyline_board::flash::FlashError),
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
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ErrorReport {
    /// Stable snake-case code (see [`Error::code`]).
    pub code: ErrorCode,
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// Result alias for station operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Stable machine-readable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::WrongPassphrase { .. } => ErrorCode::WrongPassphrase,
            Error::KeyMismatch { .. } => ErrorCode::KeyMismatch,
            Error::NotACa { .. } => ErrorCode::NotACa,
            Error::CorruptPem { .. } => ErrorCode::CorruptPem,
            Error::Unsupported { .. } => ErrorCode::Unsupported,
            Error::AlreadyExists { .. } => ErrorCode::AlreadyExists,
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::InvalidName { .. } => ErrorCode::InvalidName,
            Error::InvalidInput { .. } | Error::SignerMisfit { .. } => ErrorCode::InvalidInput,
            Error::InvalidSetting { .. } => ErrorCode::InvalidSetting,
            Error::KeyringUnavailable { .. } => ErrorCode::KeyringUnavailable,
            Error::PassphraseRequired { .. } => ErrorCode::PassphraseRequired,
            Error::PassphraseTooShort { .. } => ErrorCode::PassphraseTooShort,
            Error::CorruptStore { .. } => ErrorCode::CorruptStore,
            Error::Issue { .. } => ErrorCode::IssueFailed,
            Error::RootOffline { .. } => ErrorCode::RootOffline,
            Error::Token(error) => token_code(error),
            Error::Io { .. } => ErrorCode::Io,
            #[cfg(feature = "cloud")]
            Error::Cloud(error) => crate::cloud_errors::code(error),
            Error::ConnectionTestFailed { .. } => ErrorCode::CloudConnectionTestFailed,
            Error::Cancelled { .. } => ErrorCode::Cancelled,
            Error::TaskFailed { .. } => ErrorCode::TaskFailed,
            Error::Ports(error) => error.code(),
            Error::Ota(error) => crate::ota::code(error),
            Error::Ledger(error) => error.code(),
            Error::Flash(error) => crate::flash::code(error),
        }
    }

    /// What the operator should do next, as the `keyline` CLI says it.
    pub fn hint(&self) -> String {
        self.hint_for(Audience::Cli)
    }

    /// What the operator should do next, written for the screen it appears on: the CLI names commands and flags,
    /// the desktop window names its own screens and buttons.
    pub fn hint_for(&self, audience: Audience) -> String {
        if audience == Audience::Gui {
            if let Some(hint) = self.gui_hint() {
                return hint;
            }
        }
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
            Error::InvalidSetting { .. } => "Nothing was saved: set a value in the range named, or see the current values with `keyline settings show`.".into(),
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
            Error::RootOffline { name } => format!(
                "Only issuing a new signer needs the root; bring its key back for that with `keyline ca restore-root {name} --key FILE` (the exported file), and take it offline again afterwards."
            ),
            Error::Token(error) => token_hint(error).into(),
            Error::Issue { .. } => "This is a bug if the CA files are intact; please report it with the log file.".into(),
            Error::Io { .. } => "Check that the path exists and is writable, and that the disk is not full.".into(),
            #[cfg(feature = "cloud")]
            Error::Cloud(error) => crate::cloud_errors::hint(error, Audience::Cli).into(),
            Error::ConnectionTestFailed { server_untrusted: true, .. } => {
                "The server's certificate is not trusted: against the local emulator pass --emulator (its broker CA is fetched) or --server-ca FILE.".into()
            }
            Error::ConnectionTestFailed { .. } => {
                "Check `keyline cloud jitr status`, the allow-list, and the CA's auto-registration; a device that is not allowed stays INACTIVE until `allow-list sync`.".into()
            }
            Error::Ports(error) => error.hint().into(),
            Error::Cancelled { .. } => "Run the test again when you are ready; a certificate it registered stays in AWS IoT.".into(),
            Error::TaskFailed { .. } => "Try again; if it keeps failing, download the log panel's lines and report them.".into(),
            Error::Ledger(error) => error.hint(),
            Error::Ota(error) => crate::ota::hint(error),
            Error::Flash(error) => crate::flash::hint(error),
        }
    }

    /// The desktop window's own hint where the CLI's would name commands or flags.
    fn gui_hint(&self) -> Option<String> {
        let hint = match self {
            #[cfg(feature = "cloud")]
            Error::Cloud(error) => return Some(crate::cloud_errors::hint(error, Audience::Gui).into()),
            Error::SignerMisfit { profile, .. } => {
                return Some(format!(
                    "Create a signer made for the {profile} profile on the Certificate authorities screen, then take its \
                     cert_chain.c from the Device template screen."
                ))
            }
            Error::ConnectionTestFailed { server_untrusted: true, .. } => {
                "The server's certificate is not trusted: for the local emulator choose \"Local emulator\" on the wizard's first step, so its broker CA is trusted."
            }
            Error::ConnectionTestFailed { .. } => {
                "Check the wizard's Deploy step (every piece healthy), the allow-list, and the CA's auto-registration; a device that is not allowed stays inactive until its serial is added to the allow-list."
            }
            _ => return self.code().window_hint().map(str::to_owned),
        };
        Some(hint.into())
    }

    /// The serialisable form for `--json` output (the CLI's hints).
    pub fn report(&self) -> ErrorReport {
        self.report_for(Audience::Cli)
    }

    /// The serialisable form with the hint for `audience`.
    pub fn report_for(&self, audience: Audience) -> ErrorReport {
        ErrorReport { code: self.code(), message: self.to_string(), hint: self.hint_for(audience) }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { action, path: path.into(), source }
    }
}

fn token_code(error: &keyline_certs::token::TokenError) -> ErrorCode {
    use keyline_certs::token::TokenError as T;
    match error {
        T::ModuleNotFound { .. } => ErrorCode::TokenModuleNotFound,
        T::ModuleLoad { .. } => ErrorCode::TokenModuleLoad,
        T::TokenNotFound { .. } => ErrorCode::TokenNotFound,
        T::WrongPin { .. } => ErrorCode::TokenWrongPin,
        T::PinLocked { .. } => ErrorCode::TokenPinLocked,
        T::KeyLabelMissing { .. } => ErrorCode::TokenKeyMissing,
        T::KeyLabelTaken { .. } => ErrorCode::TokenKeyExists,
        T::NotP256 { .. } => ErrorCode::TokenKeyWrongCurve,
        _ => ErrorCode::TokenFailed,
    }
}

/// The token errors' messages already say what to do; the hint names where the PIN comes from.
fn token_hint(error: &keyline_certs::token::TokenError) -> &'static str {
    use keyline_certs::token::TokenError as T;
    match error {
        T::WrongPin { .. } => "Check the token PIN (KEYLINE_TOKEN_PIN, the OS keyring entry, or what you typed); after a few wrong PINs the token locks.",
        T::ModuleNotFound { .. } | T::ModuleLoad { .. } => "Pass --pkcs11-module with the path of the token's PKCS#11 library (docs/security.md lists the usual paths).",
        T::TokenNotFound { .. } => "Check --token (the token label) and that the token is plugged in and initialised.",
        T::KeyLabelMissing { .. } | T::KeyLabelTaken { .. } => "Check --key-label against the keys in the token.",
        T::NotP256 { .. } => "Generate a P-256 key in the token (or let `keyline ca create --pkcs11-module ...` do it).",
        _ => "Check that the token is connected and its module is the vendor's current PKCS#11 library; the log has the module's return code.",
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

    #[test]
    fn a_server_certificate_the_device_does_not_trust_gets_the_trust_hint_for_each_screen() {
        let err = Error::ConnectionTestFailed { serial: "0123".into(), attempts: 1, server_untrusted: true };
        assert!(err.hint_for(Audience::Cli).contains("--emulator") && err.hint_for(Audience::Cli).contains("--server-ca"));
        assert!(err.hint_for(Audience::Gui).contains("Local emulator"), "{}", err.hint_for(Audience::Gui));
        let refused = Error::ConnectionTestFailed { serial: "0123".into(), attempts: 8, server_untrusted: false };
        assert!(refused.hint_for(Audience::Cli).contains("allow-list"));
        assert_eq!(err.code(), ErrorCode::CloudConnectionTestFailed);
    }

    #[test]
    fn window_hints_name_no_commands_or_flags() {
        let errors = [
            Error::NotFound { name: "root".into(), data_dir: "/data".into() },
            Error::PassphraseRequired { purpose: "CA \"root\"".into(), env_var: "KEYLINE_CA_PASSPHRASE".into() },
            Error::KeyringUnavailable { reason: "no bus".into() },
            Error::ConnectionTestFailed { serial: "0123".into(), attempts: 8, server_untrusted: false },
            Error::Ledger(crate::ledger::LedgerError::InvalidSerial { serial: "x".into() }),
            Error::WrongPassphrase { name: "root".into() },
            Error::SignerMisfit { ca: "signer".into(), profile: "trustflex".into(), reason: "the CN does not end in four hex digits".into() },
        ];
        for error in errors {
            let hint = error.hint_for(Audience::Gui);
            assert!(!hint.contains("--") && !hint.contains("`keyline"), "{}: {hint}", error.code());
            assert_ne!(hint, error.hint_for(Audience::Cli), "{}", error.code());
        }
    }
}
