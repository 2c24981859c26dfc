//! The one error type of the `atcacert` module: what went wrong with a compressed certificate,
//! a certificate definition or a template, and what to do about it.

/// Errors raised while encoding, decoding, walking or rebuilding ATECC certificates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[allow(missing_docs)] // variant fields are described by the messages
pub enum AtcaCertError {
    /// A date cannot be represented in the requested encoding.
    #[error("date {date} cannot be encoded as {format}: {reason}; choose a date inside the format's range")]
    DateOutOfRange { date: String, format: &'static str, reason: &'static str },

    /// A date text or number in a certificate could not be parsed.
    #[error("malformed {format} date {text:?} in the certificate; the template or device data is corrupt")]
    MalformedDate { format: &'static str, text: String },

    /// The compressed certificate is not 72 bytes or has an unknown format version.
    #[error("compressed certificate rejected: {reason}; read the 72 bytes again from the device slot")]
    BadCompressedCert { reason: String },

    /// The DER could not be walked.
    #[error("DER structure rejected at byte {offset}: {reason}; the certificate or template is malformed")]
    Der { offset: usize, reason: &'static str },

    /// The certificate does not have the element the definition needs.
    #[error("the certificate has no {element}; use a template that contains it")]
    MissingElement { element: &'static str },

    /// An element's bytes do not fit its location in the template.
    #[error("element {element} is {actual} bytes but its template location holds {expected}; keep every variable field at its template length")]
    ElementSize { element: String, expected: usize, actual: usize },

    /// An element's location lies outside the certificate.
    #[error("element {element} at {offset}+{count} lies outside the {size}-byte certificate; the definition does not match its template")]
    ElementOutOfBounds { element: String, offset: usize, count: usize, size: usize },

    /// The compressed certificate belongs to another definition.
    #[error("compressed certificate is for template {template_id}/chain {chain_id}/sn source {sn_source:#x}, the definition expects {expected}; pick the matching definition")]
    WrongCertDef { template_id: u8, chain_id: u8, sn_source: u8, expected: String },

    /// Data the definition needs was not supplied by the (emulated) device.
    #[error("device data for {what} is missing; write that slot before rebuilding the certificate")]
    MissingDeviceData { what: String },

    /// Anything else that makes a definition unusable.
    #[error("certificate definition rejected: {0}")]
    BadDefinition(String),
}

/// Shorthand result type for this module.
pub type Result<T> = std::result::Result<T, AtcaCertError>;
