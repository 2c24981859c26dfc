//! Firmware image inspection and Secure Boot v2 signing with a Keyline signing key.

use std::path::{Path, PathBuf};

use keyline_ota::{secure_boot, AppImage, SigningKey};
use serde::Serialize;

use crate::store::FileBatch;
use crate::{Passphrase, Result};

/// What `ota inspect` reports.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImageReport {
    /// The file.
    pub path: PathBuf,
    /// The parsed, validated image.
    pub image: AppImage,
    /// When signed: whether the Secure Boot v2 signature verifies with the key in its block.
    pub signature_valid: Option<bool>,
    /// Why the signature does not verify.
    pub signature_error: Option<String>,
}

/// Read and validate an image file.
pub fn inspect_image(path: &Path) -> Result<ImageReport> {
    let bytes = keyline_ota::read_file_bounded(path, keyline_ota::image::MAX_IMAGE_BYTES)?;
    let image = AppImage::parse(&bytes)?;
    let (signature_valid, signature_error) = if image.is_signed() {
        match secure_boot::verify_image(&bytes, None) {
            Ok(_) => (Some(true), None),
            Err(error) => (Some(false), Some(error.to_string())),
        }
    } else {
        (None, None)
    };
    Ok(ImageReport { path: path.to_path_buf(), image, signature_valid, signature_error })
}

/// Result of `ota key create`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyCreated {
    /// The encrypted key file.
    pub key_path: PathBuf,
    /// SHA-256 of the public key material in a signature block (the eFuse key digest), hex.
    pub key_digest: String,
}

/// Generate an RSA-3072 signing key and write it as encrypted PKCS#8 (0600, never overwriting).
pub fn create_signing_key(out: &Path, passphrase: &Passphrase) -> Result<KeyCreated> {
    let key = SigningKey::generate()?;
    let pem = key.to_encrypted_pem(passphrase.expose().as_bytes())?;
    let key_digest = key_digest(&key)?;
    let mut batch = FileBatch::new();
    batch.add_new(absolute(out), pem.as_bytes())?;
    batch.commit()?;
    Ok(KeyCreated { key_path: out.to_path_buf(), key_digest })
}

fn key_digest(key: &SigningKey) -> Result<String> {
    Ok(secure_boot::key_digest(&key.public()?)?)
}

pub(crate) fn read_key(key_path: &Path, passphrase: Option<&Passphrase>) -> Result<SigningKey> {
    let bytes = keyline_ota::read_file_bounded(key_path, keyline_ota::MAX_KEY_FILE_BYTES)?;
    let text = String::from_utf8(bytes).map_err(|_| keyline_ota::Error::Key(format!("{} is not a PEM text file", key_path.display())))?;
    Ok(SigningKey::from_pem(&text, passphrase.map(|p| p.expose().as_bytes()))?)
}

/// Write the public half of a signing key as SPKI PEM (for `espsecure`, `idf.py` and devices).
pub fn export_signing_public_key(key_path: &Path, passphrase: Option<&Passphrase>, out: &Path) -> Result<PathBuf> {
    let key = read_key(key_path, passphrase)?;
    let mut batch = FileBatch::new();
    batch.add_new(absolute(out), key.public_pem()?.as_bytes())?;
    batch.commit()?;
    Ok(out.to_path_buf())
}

/// Result of `ota sign`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SignedImage {
    /// The signed file.
    pub out: PathBuf,
    /// Its size in bytes.
    pub size: usize,
    /// SHA-256 of the signed file, hex.
    pub sha256: String,
    /// The eFuse key digest, hex.
    pub key_digest: String,
}

/// Validate `image`, sign it for Secure Boot v2 with the key, and write `out`.
pub fn sign_image(key_path: &Path, passphrase: Option<&Passphrase>, image: &Path, out: &Path) -> Result<SignedImage> {
    let key = read_key(key_path, passphrase)?;
    let bytes = keyline_ota::read_file_bounded(image, keyline_ota::image::MAX_IMAGE_BYTES)?;
    let signed = sign_bytes(&bytes, &key)?;
    let key_digest = secure_boot::verify_image(&signed, Some(&key.public()?))?;
    let mut batch = FileBatch::new();
    batch.add_new(absolute(out), &signed)?;
    batch.commit()?;
    Ok(SignedImage { out: out.to_path_buf(), size: signed.len(), sha256: sha256_hex(&signed), key_digest })
}

/// Sign image bytes in memory (used by `ota push --sign`).
pub(crate) fn sign_bytes(bytes: &[u8], key: &SigningKey) -> Result<Vec<u8>> {
    Ok(secure_boot::sign_image(bytes, key)?)
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A relative output path made absolute, so the staged temp file has a parent directory.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
