//! The OTA crate's error type: one enum whose variants are the error codes.

use std::path::PathBuf;

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an image, a key, a signature or a protocol exchange was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not a valid ESP32 application image.
    #[error("not a valid ESP32 app image: {0}")]
    Image(String),
    /// The Secure Boot v2 signature sector is missing, malformed or does not verify.
    #[error("Secure Boot v2 signature: {0}")]
    Signature(String),
    /// A signing key could not be made, read or used.
    #[error("signing key: {0}")]
    Key(String),
    /// A certificate or key for TLS could not be used.
    #[error("TLS setup: {0}")]
    Tls(String),
    /// A peer sent a message that breaks the rainbowtype protocol.
    #[error("protocol: {0}")]
    Protocol(String),
    /// An upload is larger than the configured limit.
    #[error("upload of {size} bytes is larger than the limit of {limit} bytes")]
    TooLarge {
        /// Bytes offered.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A network connection failed or the peer refused it.
    #[error("connection to {peer}: {detail}")]
    Connection {
        /// Address or URL.
        peer: String,
        /// What went wrong.
        detail: String,
    },
    /// Waiting for the device or the server took too long.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The operation was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The device-state store failed.
    #[error("device state store: {0}")]
    Store(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}
