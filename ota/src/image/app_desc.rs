//! The ESP-IDF application descriptor (`esp_app_desc_t`, 256 bytes at the start of the first segment).

use serde::Serialize;

use crate::{Error, Result};

/// `esp_app_desc_t` magic word.
pub const APP_DESC_MAGIC: u32 = 0xABCD_5432;
/// Size of `esp_app_desc_t`.
pub const APP_DESC_LEN: usize = 256;

/// The fields of the application descriptor that identify a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AppDesc {
    /// Anti-rollback security version.
    pub secure_version: u32,
    /// Application version (`PROJECT_VER`).
    pub version: String,
    /// Project name.
    pub project_name: String,
    /// Compile time.
    pub time: String,
    /// Compile date.
    pub date: String,
    /// ESP-IDF version.
    pub idf_version: String,
    /// SHA-256 of the application ELF, hex.
    pub elf_sha256: String,
}

impl AppDesc {
    /// Parse the 256 descriptor bytes; `None` when the magic word is absent (a RAM-only or
    /// non-IDF image). A descriptor with the magic word but unreadable text is an error.
    pub fn parse(bytes: &[u8]) -> Result<Option<AppDesc>> {
        let bytes = bytes.get(..APP_DESC_LEN).ok_or_else(|| Error::Image("app descriptor is truncated".into()))?;
        if u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) != APP_DESC_MAGIC {
            return Ok(None);
        }
        Ok(Some(AppDesc {
            secure_version: u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
            version: text(bytes, 16, 32, "version")?,
            project_name: text(bytes, 48, 32, "project_name")?,
            time: text(bytes, 80, 16, "time")?,
            date: text(bytes, 96, 16, "date")?,
            idf_version: text(bytes, 112, 32, "idf_ver")?,
            elf_sha256: hex::encode(&bytes[144..176]),
        }))
    }

    /// Write this descriptor's fields into 256 bytes (for building test and practice images).
    pub fn to_bytes(&self) -> [u8; APP_DESC_LEN] {
        let mut out = [0u8; APP_DESC_LEN];
        out[0..4].copy_from_slice(&APP_DESC_MAGIC.to_le_bytes());
        out[4..8].copy_from_slice(&self.secure_version.to_le_bytes());
        for (at, len, value) in [
            (16, 32, &self.version),
            (48, 32, &self.project_name),
            (80, 16, &self.time),
            (96, 16, &self.date),
            (112, 32, &self.idf_version),
        ] {
            let value = value.as_bytes();
            let n = value.len().min(len - 1);
            out[at..at + n].copy_from_slice(&value[..n]);
        }
        if let Ok(elf) = hex::decode(&self.elf_sha256) {
            let n = elf.len().min(32);
            out[144..144 + n].copy_from_slice(&elf[..n]);
        }
        out
    }
}

/// A NUL-terminated printable ASCII field of `len` bytes at `at`.
fn text(bytes: &[u8], at: usize, len: usize, field: &str) -> Result<String> {
    let raw = &bytes[at..at + len];
    let end = raw.iter().position(|&b| b == 0).ok_or_else(|| Error::Image(format!("app descriptor {field} is not NUL-terminated")))?;
    let value = &raw[..end];
    if !value.iter().all(|b| (0x20..0x7F).contains(b)) {
        return Err(Error::Image(format!("app descriptor {field} is not printable ASCII")));
    }
    Ok(String::from_utf8_lossy(value).into_owned())
}
