//! Refusals of device and signer certificate issuance.

use crate::atcacert::AtcaCertError;

/// Why a device (or profile signer) certificate was not issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[allow(missing_docs)] // variant fields are described by the messages
pub enum DeviceCertError {
    /// The CSR's self-signature does not verify.
    #[error("the CSR signature does not verify with its own public key ({reason}); regenerate the CSR on the device")]
    BadCsrSignature { reason: String },

    /// The key is not a P-256 public key.
    #[error("the key is not a P-256 public key ({reason}); the ATECC608A only holds P-256 keys")]
    NotP256 { reason: String },

    /// The subject does not fit the template.
    #[error("subject CN {common_name:?} is {actual} characters, the {profile} template holds {expected}; pass the 9-byte chip serial (18 hex digits) with --serial")]
    SubjectTooLong { profile: &'static str, common_name: String, expected: usize, actual: usize },

    /// No chip serial was given and none could be taken from the request.
    #[error("no chip serial: pass --serial with the 18 hex digits printed by the board")]
    MissingSerial,

    /// A date outside what the profile's firmware can decode.
    #[error("issue date {date} cannot be used with {profile}: {reason}")]
    BadIssueDate { profile: &'static str, date: String, reason: String },

    /// The signer certificate cannot be used with this profile.
    #[error("{0}")]
    SignerNotPlaceable(AtcaCertError),

    /// The signing callback failed or produced a signature that does not verify.
    #[error("signing failed: {0}; check that the signer key belongs to the signer certificate")]
    Signing(String),

    /// The issued certificate would not come back bit for bit from its compressed form.
    #[error("the certificate would not be rebuilt byte for byte from its compressed form (first difference at byte {offset}); it was not issued")]
    NotReproducible { offset: usize },

    /// A lower-level encoding problem.
    #[error(transparent)]
    AtcaCert(#[from] AtcaCertError),
}
