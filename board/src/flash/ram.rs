//! [`RamImage`]: an esptool `.bin` image to load into RAM (the Espressif provisioning helper), strictly checked.
//!
//! The file is parsed by `keyline_ota::AppImage` (magic 0xE9, segment table, XOR checksum,
//! appended SHA-256). On top of that a RAM image must have only segments in the chip's RAM (no
//! flash-mapped code or data, which the ROM cannot load), no overlapping segments, and an entry
//! point inside a loaded segment.

use keyline_ota::image::chip_name;
use keyline_ota::AppImage;
use serde::Serialize;

use super::ImageRefusal;

/// Most bytes a RAM image may hold (the ESP32 has 520 KiB of SRAM).
pub const MAX_RAM_IMAGE: usize = 1024 * 1024;

/// One segment to load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RamSegment {
    /// Load address.
    pub addr: u32,
    /// The bytes (a multiple of 4).
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Length in bytes.
    pub len: usize,
}

/// A validated RAM image.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RamImage {
    /// Display name.
    pub name: String,
    /// Chip ID from the header.
    pub chip_id: u16,
    /// Chip name.
    pub chip: &'static str,
    /// Entry point.
    pub entry: u32,
    /// Segments in file order.
    pub segments: Vec<RamSegment>,
    /// Appended SHA-256 (hex), when present.
    pub sha256: Option<String>,
}

impl RamImage {
    /// Parses `bytes`; `is_flash_addr` says whether an address is flash-mapped on the image's
    /// chip (from the loader's chip tables).
    pub fn parse(name: &str, bytes: &[u8], is_flash_addr: impl Fn(u16, u32) -> bool) -> Result<RamImage, ImageRefusal> {
        let bad = |reason: String| ImageRefusal::BadImage { name: name.to_string(), reason };
        if bytes.len() > MAX_RAM_IMAGE {
            return Err(bad(format!("{} bytes is larger than any ESP RAM ({MAX_RAM_IMAGE} bytes)", bytes.len())));
        }
        let image = AppImage::parse(bytes).map_err(|e| bad(e.to_string()))?;
        if image.signature.is_some() || image.file_len != image.image_len {
            return Err(bad(format!("{} bytes follow the image; a RAM image ends after its hash", image.file_len - image.image_len)));
        }
        let mut segments: Vec<RamSegment> = Vec::new();
        for (index, segment) in image.segments.iter().enumerate() {
            let end = u64::from(segment.load_addr) + segment.len as u64;
            if is_flash_addr(image.chip_id, segment.load_addr) || end > u64::from(u32::MAX) {
                return Err(bad(format!("segment {index} at {:#010x} is flash-mapped: the ROM loads RAM segments only", segment.load_addr)));
            }
            if segment.len == 0 {
                return Err(bad(format!("segment {index} is empty")));
            }
            for (other, seen) in segments.iter().enumerate() {
                if u64::from(seen.addr) < end && u64::from(segment.load_addr) < u64::from(seen.addr) + seen.len as u64 {
                    return Err(bad(format!("segment {index} at {:#010x} overlaps segment {other}", segment.load_addr)));
                }
            }
            let data = bytes[segment.file_offset..segment.file_offset + segment.len].to_vec();
            segments.push(RamSegment { addr: segment.load_addr, len: data.len(), data });
        }
        let entry_loaded = segments.iter().any(|s| (s.addr..s.addr + s.len as u32).contains(&image.entry));
        if !entry_loaded {
            return Err(bad(format!("the entry point {:#010x} is not inside a loaded segment", image.entry)));
        }
        Ok(RamImage { name: name.into(), chip_id: image.chip_id, chip: chip_name(image.chip_id), entry: image.entry, segments, sha256: image.sha256 })
    }

    /// Parses `bytes` with espflash's memory maps deciding what is flash-mapped.
    pub fn parse_for_loader(name: &str, bytes: &[u8]) -> Result<RamImage, ImageRefusal> {
        RamImage::parse(name, bytes, flash_mapped)
    }

    /// Bytes to load.
    pub fn total_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.len as u64).sum()
    }
}

/// Whether `addr` is flash-mapped on the chip with image chip ID `chip_id` (espflash's tables);
/// an unknown chip maps nothing, and is refused later by the chip check.
pub fn flash_mapped(chip_id: u16, addr: u32) -> bool {
    use espflash::target::Chip;
    let chips = [Chip::Esp32, Chip::Esp32c2, Chip::Esp32c3, Chip::Esp32c5, Chip::Esp32c6, Chip::Esp32c61, Chip::Esp32h2, Chip::Esp32p4, Chip::Esp32s2, Chip::Esp32s3];
    chips.iter().find(|chip| chip.id() == chip_id).is_some_and(|chip| chip.addr_is_flash(addr))
}
