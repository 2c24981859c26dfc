//! Keyline OTA: ESP32 application images, Secure Boot v2 signatures and the rainbowtype
//! device-management protocol (embedded server and operator client).
//!
//! The common case first: [`AppImage::parse`] validates a `firmware.bin`, [`SigningKey`] makes
//! and reads the encrypted RSA-3072 signing key, [`secure_boot::sign_image`] appends the
//! signature sector espsecure accepts, and [`secure_boot::verify_image`] checks one.
#![warn(missing_docs)]

pub mod client;
pub mod external_key;
mod error;
pub mod image;
pub mod protocol;
pub mod secure_boot;
pub mod server;
pub mod tls;
mod signing_key;
pub mod store;

pub use error::{Error, Result};
pub use image::{AppDesc, AppImage, ImageBuilder};
pub use signing_key::{RsaPublic, SigningKey, MAX_KEY_FILE_BYTES};

/// Read a whole file of at most `limit` bytes (images, keys, certificates from the operator).
pub fn read_file_bounded(path: &std::path::Path, limit: usize) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() > limit {
        return Err(Error::TooLarge { size: bytes.len(), limit });
    }
    Ok(bytes)
}

/// The async runtime the server and client run on (re-exported so callers need no own tokio).
pub use tokio;
