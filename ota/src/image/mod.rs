//! Parses and validates ESP32 application images (`firmware.bin`): header, segments, checksum,
//! appended SHA-256, app descriptor and an optional Secure Boot v2 signature sector. Strict and bounded.

mod app_desc;
mod builder;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use app_desc::AppDesc;
pub use builder::ImageBuilder;

use crate::secure_boot::{self, SignatureSector, SECTOR_SIZE};
use crate::{Error, Result};

/// First byte of every ESP image.
pub const IMAGE_MAGIC: u8 = 0xE9;
/// Largest image file accepted (the biggest OTA partition on 16 MiB flash).
pub const MAX_IMAGE_BYTES: usize = 16 * 1024 * 1024;
/// Most segments an image may have (the ROM loader's limit).
pub const MAX_SEGMENTS: usize = 16;
/// Size of the fixed image header (common header + extended header).
pub const HEADER_LEN: usize = 24;
/// Initial value of the XOR checksum over segment data.
const CHECKSUM_SEED: u8 = 0xEF;

/// One loadable segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    /// Address the segment is loaded at.
    pub load_addr: u32,
    /// File offset of the segment's data.
    pub file_offset: usize,
    /// Data length in bytes.
    pub len: usize,
}

/// A validated ESP32 application image.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AppImage {
    /// Chip ID from the extended header.
    pub chip_id: u16,
    /// Chip name for the ID (`esp32`, `esp32s3`…), `unknown` otherwise.
    pub chip: &'static str,
    /// Entry point address.
    pub entry: u32,
    /// SPI flash mode byte (0 QIO, 1 QOUT, 2 DIO, 3 DOUT).
    pub flash_mode: u8,
    /// Minimum chip revision (major·100 + minor).
    pub min_chip_rev_full: u16,
    /// Maximum chip revision (major·100 + minor).
    pub max_chip_rev_full: u16,
    /// The segments in file order.
    pub segments: Vec<Segment>,
    /// The stored XOR checksum (verified).
    pub checksum: u8,
    /// The appended SHA-256 (verified), hex, if the header says one follows.
    pub sha256: Option<String>,
    /// Length of the image proper (up to and including the appended hash).
    pub image_len: usize,
    /// Length of the whole file.
    pub file_len: usize,
    /// The application descriptor, when the first segment starts with one.
    pub app_desc: Option<AppDesc>,
    /// The Secure Boot v2 signature sector, when the file ends with one.
    pub signature: Option<SignatureSector>,
}

/// Chip name for an image header chip ID (esptool/espflash numbering).
pub fn chip_name(id: u16) -> &'static str {
    match id {
        0 => "esp32",
        2 => "esp32s2",
        5 => "esp32c3",
        9 => "esp32s3",
        12 => "esp32c2",
        13 => "esp32c6",
        16 => "esp32h2",
        18 => "esp32p4",
        20 => "esp32c61",
        23 => "esp32c5",
        _ => "unknown",
    }
}

fn bad(detail: impl Into<String>) -> Error {
    Error::Image(detail.into())
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

impl AppImage {
    /// Parse and validate `bytes`. Anything after the image must be a Secure Boot v2 signature
    /// sector (0xFF padding to a 4 KiB boundary, then 4096 bytes whose first block is valid).
    pub fn parse(bytes: &[u8]) -> Result<AppImage> {
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(bad(format!("{} bytes is larger than the {MAX_IMAGE_BYTES}-byte limit", bytes.len())));
        }
        if bytes.len() < HEADER_LEN {
            return Err(bad(format!("{} bytes is shorter than the {HEADER_LEN}-byte header", bytes.len())));
        }
        if bytes[0] != IMAGE_MAGIC {
            return Err(bad(format!("magic byte is 0x{:02X}, expected 0x{IMAGE_MAGIC:02X}", bytes[0])));
        }
        let count = usize::from(bytes[1]);
        if count == 0 || count > MAX_SEGMENTS {
            return Err(bad(format!("segment count {count} is outside 1..={MAX_SEGMENTS}")));
        }
        let hash_appended = match bytes[23] {
            0 => false,
            1 => true,
            other => return Err(bad(format!("hash-appended flag is {other}, expected 0 or 1"))),
        };
        let chip_id = u16_at(bytes, 12);
        let (min_chip_rev_full, max_chip_rev_full) = (u16_at(bytes, 15), u16_at(bytes, 17));
        let mut segments = Vec::with_capacity(count);
        let mut checksum = CHECKSUM_SEED;
        let mut at = HEADER_LEN;
        for index in 0..count {
            let header = bytes.get(at..at + 8).ok_or_else(|| bad(format!("segment {index} header runs past the end")))?;
            let load_addr = u32_at(header, 0);
            let len = u32_at(header, 4) as usize;
            if !len.is_multiple_of(4) {
                return Err(bad(format!("segment {index} length {len} is not a multiple of 4")));
            }
            let data_start = at + 8;
            let data = bytes
                .get(data_start..data_start.saturating_add(len))
                .ok_or_else(|| bad(format!("segment {index} ({len} bytes at offset {data_start}) runs past the end")))?;
            checksum = data.iter().fold(checksum, |acc, byte| acc ^ byte);
            segments.push(Segment { load_addr, file_offset: data_start, len });
            at = data_start + len;
        }
        // The checksum byte is the last byte of a 16-byte-aligned block.
        let checksum_at = at | 15;
        let stored = *bytes.get(checksum_at).ok_or_else(|| bad("the checksum byte is missing (truncated image)"))?;
        if stored != checksum {
            return Err(bad(format!("checksum is 0x{stored:02X}, the segments give 0x{checksum:02X}")));
        }
        let mut image_len = checksum_at + 1;
        let sha256 = if hash_appended {
            let stored = bytes.get(image_len..image_len + 32).ok_or_else(|| bad("the appended SHA-256 is missing (truncated image)"))?;
            let actual = Sha256::digest(&bytes[..image_len]);
            if stored != actual.as_slice() {
                return Err(bad("the appended SHA-256 does not match the image (corrupted or modified)"));
            }
            image_len += 32;
            Some(hex::encode(stored))
        } else {
            None
        };
        let signature = parse_trailer(bytes, image_len)?;
        let app_desc = match segments.first() {
            Some(first) if first.len >= app_desc::APP_DESC_LEN => {
                AppDesc::parse(&bytes[first.file_offset..first.file_offset + app_desc::APP_DESC_LEN])?
            }
            _ => None,
        };
        Ok(AppImage {
            chip_id,
            chip: chip_name(chip_id),
            entry: u32_at(bytes, 4),
            flash_mode: bytes[2],
            min_chip_rev_full,
            max_chip_rev_full,
            segments,
            checksum,
            sha256,
            image_len,
            file_len: bytes.len(),
            app_desc,
            signature,
        })
    }

    /// True when a Secure Boot v2 signature sector follows the image.
    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }
}

/// What follows the image: nothing, or 0xFF padding to a sector boundary and one signature sector.
fn parse_trailer(bytes: &[u8], image_len: usize) -> Result<Option<SignatureSector>> {
    if bytes.len() == image_len {
        return Ok(None);
    }
    let signed_len = image_len.div_ceil(SECTOR_SIZE) * SECTOR_SIZE;
    if bytes.len() != signed_len + SECTOR_SIZE {
        return Err(bad(format!(
            "{} bytes follow the image; expected none or a Secure Boot v2 signature sector ending at {}",
            bytes.len() - image_len,
            signed_len + SECTOR_SIZE
        )));
    }
    if bytes[image_len..signed_len].iter().any(|&byte| byte != 0xFF) {
        return Err(bad("the padding before the signature sector is not 0xFF"));
    }
    secure_boot::parse_sector(bytes).map(Some)
}
