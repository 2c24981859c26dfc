//! What a flash boot checks before an app runs: the 2nd-stage bootloader image at 0x1000, the
//! partition table at 0x8000 and an app partition holding an image (ESP32 ROM + ESP-IDF bootloader).

use super::console::{self, Level};
use crate::board::flash::Flash;

/// Where the ESP32 ROM loads the 2nd-stage bootloader from.
pub const BOOTLOADER_OFFSET: usize = 0x1000;
/// Where the bootloader reads the partition table (default `CONFIG_PARTITION_TABLE_OFFSET`).
pub const PARTITION_TABLE_OFFSET: usize = 0x8000;
/// Image magic byte.
pub const IMAGE_MAGIC: u8 = 0xE9;
const ENTRY_MAGIC: [u8; 2] = [0xAA, 0x50];
const MD5_MAGIC: [u8; 2] = [0xEB, 0xEB];
const MAX_ENTRIES: usize = 95;
/// Chip id in the extended image header (bytes 12-13) of an ESP32 image.
const ESP32_CHIP_ID: u16 = 0;

/// The offset of the app the bootloader would run, or the boot log of a failed boot (after the
/// ROM banner), ending where the real board would reset or halt.
pub fn find_app(flash: &Flash, millis: u64) -> Result<usize, Vec<u8>> {
    let header = flash.read(BOOTLOADER_OFFSET, 16).unwrap_or(&[0xFF; 16]);
    let chip_id = u16::from_le_bytes([header[12], header[13]]);
    if header[0] != IMAGE_MAGIC || chip_id != ESP32_CHIP_ID {
        let word = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        return Err(format!("invalid header: 0x{word:08x}\r\n").into_bytes());
    }
    let mut out = console::log(Level::Info, millis, "boot", "ESP-IDF v4.2 2nd stage bootloader");
    let table = flash.read(PARTITION_TABLE_OFFSET, 32 * MAX_ENTRIES).unwrap_or(&[]);
    let mut apps = Vec::new();
    for (index, entry) in table.chunks_exact(32).enumerate() {
        match [entry[0], entry[1]] {
            ENTRY_MAGIC => {
                let (kind, offset) = (entry[2], u32::from_le_bytes([entry[4], entry[5], entry[6], entry[7]]));
                if kind == 0 {
                    apps.push(offset as usize);
                }
            }
            MD5_MAGIC => {}
            _ if index == 0 => {
                let magic = u16::from_le_bytes([entry[0], entry[1]]);
                out.extend(console::log(Level::Error, millis, "flash_parts", &format!("partition 0 invalid magic number 0x{magic:x}")));
                out.extend(console::log(Level::Error, millis, "boot", "Failed to verify partition table"));
                out.extend(console::log(Level::Error, millis, "boot", "load partition table error!"));
                return Err(out);
            }
            _ => break,
        }
    }
    match apps.into_iter().find(|&at| flash.read(at, 1) == Some(&[IMAGE_MAGIC])) {
        Some(at) => Ok(at),
        None => {
            out.extend(console::log(Level::Error, millis, "boot", "No bootable app partitions in the partition table"));
            Err(out)
        }
    }
}
