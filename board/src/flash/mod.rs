//! Flashing plans: `IMAGE@OFFSET` arguments, and the validation every image passes before a byte is written.
//!
//! [`FlashPlan::validate`] refuses, with the reason, an image whose ESP header, segment table,
//! checksum, appended SHA-256 or app descriptor is bad (parsed by `keyline_ota::AppImage`, the one
//! image parser), whose chip ID is not the connected chip's, that does not fit its partition, that
//! sits at an offset that is not sector-aligned, or that overlaps another image. A merged image
//! (bootloader, table and apps in one file from offset 0) is split and each part checked.
//! [`RomSession`] then writes a validated plan (or RAM-loads a [`RamImage`]) through espflash.

mod error;
mod partition;
mod ram;
mod rom;

use serde::Serialize;

use keyline_ota::image::chip_name;
use keyline_ota::AppImage;
pub use error::FlashError;
pub use partition::{build_table, Partition, PartitionTable, MAX_TABLE_BYTES, PARTITION_TABLE_OFFSET};
pub use ram::{flash_mapped, RamImage, RamSegment, MAX_RAM_IMAGE};
pub use rom::{ChipInfo, ConnectOptions, FlashPhase, FlashProgress, RomSession, WriteSummary, FLASH_BLOCK, RAM_BLOCK};

/// Flash sector size: every image offset must be a multiple.
pub const SECTOR: u32 = 0x1000;
/// Largest flash Keyline writes (16 MiB).
pub const MAX_FLASH_BYTES: u64 = 16 * 1024 * 1024;

/// Why an image was refused before anything was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageRefusal {
    /// An `IMAGE@OFFSET` argument is malformed.
    #[error("{arg}: {reason}")]
    BadArgument {
        /// The argument.
        arg: String,
        /// Why.
        reason: String,
    },
    /// The ESP image header, segments, checksum, SHA-256 or app descriptor is bad.
    #[error("{name}: {reason}")]
    BadImage {
        /// The image (file name).
        name: String,
        /// What the parser said.
        reason: String,
    },
    /// The partition table is malformed.
    #[error("partition table: {reason}")]
    PartitionTable {
        /// Why.
        reason: String,
    },
    /// The image is built for another chip.
    #[error("{name} is built for {image_chip}, the board is {board_chip}")]
    WrongChip {
        /// The image.
        name: String,
        /// Chip in the image header.
        image_chip: String,
        /// The connected chip.
        board_chip: String,
    },
    /// The image is larger than its partition, or has no partition at its offset.
    #[error("{name} at {offset:#x}: {reason}")]
    DoesNotFit {
        /// The image.
        name: String,
        /// Its offset.
        offset: u32,
        /// Why.
        reason: String,
    },
    /// The offset is not a multiple of the 4 KiB sector.
    #[error("{name}: offset {offset:#x} is not a multiple of the {SECTOR:#x}-byte flash sector")]
    Unaligned {
        /// The image.
        name: String,
        /// Its offset.
        offset: u32,
    },
    /// Two images overlap.
    #[error("{first} ({first_start:#x}..{first_end:#x}) overlaps {second} (from {second_start:#x})")]
    Overlap {
        /// The earlier image.
        first: String,
        /// Its start.
        first_start: u32,
        /// Its end (exclusive).
        first_end: u64,
        /// The later image.
        second: String,
        /// Its start.
        second_start: u32,
    },
}

impl ImageRefusal {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ImageRefusal::BadArgument { .. } => "bad_argument",
            ImageRefusal::BadImage { .. } => "bad_image",
            ImageRefusal::PartitionTable { .. } => "bad_partition_table",
            ImageRefusal::WrongChip { .. } => "wrong_chip",
            ImageRefusal::DoesNotFit { .. } => "does_not_fit",
            ImageRefusal::Unaligned { .. } => "unaligned_offset",
            ImageRefusal::Overlap { .. } => "overlapping_images",
        }
    }
}

/// What an image was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    /// Second-stage bootloader (an ESP image at the chip's bootloader offset).
    Bootloader,
    /// Partition table.
    PartitionTable,
    /// Application image (has an app descriptor).
    App,
    /// Raw data (neither an ESP image nor a table, e.g. an NVS or SPIFFS image).
    Data,
}

/// One image and where it goes.
#[derive(Debug, Clone)]
pub struct FlashImage {
    /// Display name (the file name).
    pub name: String,
    /// Flash offset.
    pub offset: u32,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A checked image, as reported.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CheckedImage {
    /// Display name.
    pub name: String,
    /// Flash offset.
    pub offset: u32,
    /// Length in bytes.
    pub len: usize,
    /// What it is.
    pub kind: ImageKind,
    /// Chip from the header (ESP images only).
    pub chip: Option<&'static str>,
    /// App version from the descriptor (apps only).
    pub version: Option<String>,
}

/// What is known about the board before writing.
#[derive(Debug, Clone, Default)]
pub struct TargetInfo {
    /// Chip ID of the connected chip (image-header numbering), when known.
    pub chip_id: Option<u16>,
    /// The partition table on the board, when read (a table in the plan takes precedence).
    pub partition_table: Option<PartitionTable>,
    /// Flash size of the board, when detected (else [`MAX_FLASH_BYTES`]).
    pub flash_bytes: Option<u64>,
}

/// Parse an `IMAGE[@OFFSET]` argument; the offset is hex (`0x10000`) or decimal. Without an
/// offset the image goes to 0 (a merged image).
pub fn parse_image_arg(arg: &str) -> Result<(std::path::PathBuf, u32), ImageRefusal> {
    let bad = |reason: &str| ImageRefusal::BadArgument { arg: arg.to_string(), reason: reason.into() };
    let (path, offset) = match arg.rsplit_once('@') {
        Some((path, off)) => {
            let parsed = match off.strip_prefix("0x").or_else(|| off.strip_prefix("0X")) {
                Some(hex) => u32::from_str_radix(hex, 16),
                None => off.parse::<u32>(),
            };
            (path, parsed.map_err(|_| bad("the offset is not a number (write 0x10000 or 65536)"))?)
        }
        None => (arg, 0),
    };
    if path.is_empty() {
        return Err(bad("no file name before @"));
    }
    Ok((path.into(), offset))
}

/// Bootloader offset for a chip ID (ESP32 and S2 at 0x1000, P4 and C5 at 0x2000, the rest at 0).
pub fn bootloader_offset(chip_id: u16) -> u32 {
    match chip_id {
        0 | 2 => 0x1000,
        18 | 23 => 0x2000,
        _ => 0,
    }
}

/// A validated set of images, sorted by offset.
#[derive(Debug, Clone)]
pub struct FlashPlan {
    /// The images, sorted by offset.
    pub images: Vec<FlashImage>,
    /// What each was recognised as (same order).
    pub checked: Vec<CheckedImage>,
}

impl FlashPlan {
    /// Validate `images` against `target`. Nothing here touches the board.
    pub fn validate(mut images: Vec<FlashImage>, target: &TargetInfo) -> Result<FlashPlan, ImageRefusal> {
        images.sort_by_key(|image| image.offset);
        let flash_bytes = target.flash_bytes.unwrap_or(MAX_FLASH_BYTES).min(MAX_FLASH_BYTES);
        for image in &images {
            if !image.offset.is_multiple_of(SECTOR) {
                return Err(ImageRefusal::Unaligned { name: image.name.clone(), offset: image.offset });
            }
            if image.bytes.is_empty() || u64::from(image.offset) + image.bytes.len() as u64 > flash_bytes {
                let reason = format!("{} bytes do not fit the {flash_bytes}-byte flash", image.bytes.len());
                return Err(ImageRefusal::DoesNotFit { name: image.name.clone(), offset: image.offset, reason });
            }
        }
        for pair in images.windows(2) {
            let end = u64::from(pair[0].offset) + pair[0].bytes.len() as u64;
            if end > u64::from(pair[1].offset) {
                return Err(ImageRefusal::Overlap {
                    first: pair[0].name.clone(),
                    first_start: pair[0].offset,
                    first_end: end,
                    second: pair[1].name.clone(),
                    second_start: pair[1].offset,
                });
            }
        }
        // The table being written wins over the one on the board.
        let mut table = target.partition_table.clone();
        for image in &images {
            for (offset, part) in parts(image) {
                if offset == PARTITION_TABLE_OFFSET && PartitionTable::looks_like(part) {
                    table = Some(PartitionTable::parse(part)?);
                }
            }
        }
        let mut checked = Vec::new();
        for image in &images {
            for (offset, part) in parts(image) {
                checked.push(check_part(&image.name, offset, part, target.chip_id, table.as_ref())?);
            }
        }
        Ok(FlashPlan { images, checked })
    }

    /// Total bytes to write.
    pub fn total_bytes(&self) -> u64 {
        self.images.iter().map(|image| image.bytes.len() as u64).sum()
    }
}

/// The pieces of an image: itself, or for a merged image (offset 0, 0xFF-padded or holding a
/// bootloader, and long enough to hold the table) the bootloader, the table and each app region.
fn parts(image: &FlashImage) -> Vec<(u32, &[u8])> {
    let table_at = PARTITION_TABLE_OFFSET as usize;
    let merged = image.offset == 0 && image.bytes.len() > table_at && PartitionTable::looks_like(&image.bytes[table_at..]);
    if !merged {
        return vec![(image.offset, &image.bytes)];
    }
    let mut out = Vec::new();
    if let Some(start) = image.bytes[..table_at].iter().position(|&b| b != 0xFF) {
        out.push((start as u32, trim_ff(&image.bytes[start..table_at])));
    }
    out.push((PARTITION_TABLE_OFFSET, &image.bytes[table_at..(table_at + MAX_TABLE_BYTES).min(image.bytes.len())]));
    if let Ok(table) = PartitionTable::parse(&image.bytes[table_at..]) {
        for app in table.partitions.iter().filter(|p| p.kind == 0) {
            let start = app.offset as usize;
            if start < image.bytes.len() && image.bytes[start] != 0xFF {
                let end = (start + app.size as usize).min(image.bytes.len());
                out.push((app.offset, trim_ff(&image.bytes[start..end])));
            }
        }
    }
    out
}

/// Cut the 0xFF padding after an ESP image inside a merged image. An image's length is always a
/// multiple of 16 (the checksum ends a 16-byte block; the hash and signature keep the alignment),
/// so the cut is rounded up to 16 in case the image itself ends in 0xFF bytes.
fn trim_ff(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != 0xFF).map_or(0, |i| i + 1);
    &bytes[..end.div_ceil(16).saturating_mul(16).min(bytes.len())]
}

fn check_part(name: &str, offset: u32, bytes: &[u8], chip_id: Option<u16>, table: Option<&PartitionTable>) -> Result<CheckedImage, ImageRefusal> {
    let name = name.to_string();
    let entry = |kind, chip, version| CheckedImage { name: name.clone(), offset, len: bytes.len(), kind, chip, version };
    if offset == PARTITION_TABLE_OFFSET && PartitionTable::looks_like(bytes) {
        return Ok(entry(ImageKind::PartitionTable, None, None));
    }
    let app_slot = table.and_then(|t| t.app_at(offset));
    let is_bootloader = offset < PARTITION_TABLE_OFFSET;
    if bytes.first() != Some(&keyline_ota::image::IMAGE_MAGIC) && !is_bootloader && app_slot.is_none() {
        return Ok(entry(ImageKind::Data, None, None));
    }
    // Bootloader offsets and app partitions must hold an ESP image; the parser says why not.
    let image = AppImage::parse(bytes).map_err(|e| ImageRefusal::BadImage { name: name.clone(), reason: e.to_string() })?;
    if let Some(board) = chip_id.filter(|&id| id != image.chip_id) {
        return Err(ImageRefusal::WrongChip { name, image_chip: image.chip.to_string(), board_chip: chip_name(board).to_string() });
    }
    if is_bootloader {
        if offset != bootloader_offset(image.chip_id) {
            let reason = format!("an {} bootloader goes at {:#x}", image.chip, bootloader_offset(image.chip_id));
            return Err(ImageRefusal::DoesNotFit { name, offset, reason });
        }
        if offset as usize + bytes.len() > PARTITION_TABLE_OFFSET as usize {
            let reason = format!("{} bytes run into the partition table at {PARTITION_TABLE_OFFSET:#x}", bytes.len());
            return Err(ImageRefusal::DoesNotFit { name, offset, reason });
        }
        return Ok(entry(ImageKind::Bootloader, Some(image.chip), None));
    }
    let Some(desc) = image.app_desc.as_ref() else {
        return Err(ImageRefusal::BadImage { name, reason: "no app descriptor (magic 0xABCD5432) in the first segment".into() });
    };
    match (table, app_slot) {
        (None, _) => {
            let reason = "no partition table to check the size against (write one, or read it from the board)".into();
            Err(ImageRefusal::DoesNotFit { name, offset, reason })
        }
        (Some(_), None) => Err(ImageRefusal::DoesNotFit { name, offset, reason: "no app partition starts here".into() }),
        (Some(_), Some(slot)) if bytes.len() as u64 > u64::from(slot.size) => {
            let reason = format!("{} bytes are larger than partition {} ({} bytes)", bytes.len(), slot.label, slot.size);
            Err(ImageRefusal::DoesNotFit { name, offset, reason })
        }
        (Some(_), Some(_)) => Ok(entry(ImageKind::App, Some(image.chip), Some(desc.version.clone()))),
    }
}
