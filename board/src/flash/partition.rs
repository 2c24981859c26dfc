//! Strict parser for the ESP-IDF partition table (the 0xC00-byte table written at 0x8000).

use md5::{Digest, Md5};
use serde::Serialize;

use super::ImageRefusal;

/// Where ESP-IDF places the partition table.
pub const PARTITION_TABLE_OFFSET: u32 = 0x8000;
/// Largest partition table (one flash sector minus the bootloader's reserved tail).
pub const MAX_TABLE_BYTES: usize = 0xC00;
const ENTRY_LEN: usize = 32;
const ENTRY_MAGIC: [u8; 2] = [0xAA, 0x50];
const MD5_MAGIC: [u8; 2] = [0xEB, 0xEB];

/// One partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Partition {
    /// Label (`factory`, `ota_0`, `nvs`…).
    pub label: String,
    /// Type: 0 app, 1 data.
    pub kind: u8,
    /// Subtype.
    pub subtype: u8,
    /// Flash offset.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// A validated partition table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionTable {
    /// The entries in table order.
    pub partitions: Vec<Partition>,
}

fn bad(reason: impl Into<String>) -> ImageRefusal {
    ImageRefusal::PartitionTable { reason: reason.into() }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

impl PartitionTable {
    /// True when `bytes` start like a partition table (first entry's magic).
    pub fn looks_like(bytes: &[u8]) -> bool {
        bytes.starts_with(&ENTRY_MAGIC)
    }

    /// Parse `bytes` (the table file, or the 0xC00 bytes read from flash). Entries end at the
    /// first all-0xFF entry; an MD5 entry, when present, must match the entries before it;
    /// partitions must not overlap and must be 4 KiB aligned (apps 64 KiB).
    pub fn parse(bytes: &[u8]) -> Result<PartitionTable, ImageRefusal> {
        let bytes = &bytes[..bytes.len().min(MAX_TABLE_BYTES)];
        let mut partitions: Vec<Partition> = Vec::new();
        let mut md5_checked = false;
        for (index, entry) in bytes.chunks(ENTRY_LEN).enumerate() {
            if entry.len() < ENTRY_LEN {
                return Err(bad(format!("entry {index} is truncated ({} bytes)", entry.len())));
            }
            if entry.iter().all(|&b| b == 0xFF) {
                return finish(partitions);
            }
            if entry.starts_with(&MD5_MAGIC) {
                let digest = Md5::digest(&bytes[..index * ENTRY_LEN]);
                if entry[16..] != digest[..] {
                    return Err(bad("the MD5 entry does not match the table (corrupted)"));
                }
                md5_checked = true;
                continue;
            }
            if !entry.starts_with(&ENTRY_MAGIC) {
                return Err(bad(format!("entry {index} has magic {:02X}{:02X}, expected AA50", entry[0], entry[1])));
            }
            if md5_checked {
                return Err(bad(format!("entry {index} follows the MD5 entry")));
            }
            let label_bytes = &entry[12..28];
            let label_len = label_bytes.iter().position(|&b| b == 0).unwrap_or(16);
            let label = std::str::from_utf8(&label_bytes[..label_len])
                .ok()
                .filter(|l| l.chars().all(|c| c.is_ascii_graphic()))
                .ok_or_else(|| bad(format!("entry {index} has a label that is not printable ASCII")))?
                .to_string();
            let partition = Partition { label, kind: entry[2], subtype: entry[3], offset: u32_at(entry, 4), size: u32_at(entry, 8) };
            let align = if partition.kind == 0 { 0x10000 } else { 0x1000 };
            if !partition.offset.is_multiple_of(align) || partition.size == 0 {
                return Err(bad(format!("partition {} at {:#x} (size {:#x}) is not {align:#x}-aligned or is empty", partition.label, partition.offset, partition.size)));
            }
            partitions.push(partition);
        }
        Err(bad("the table has no end marker"))
    }

    /// The app partition that starts at `offset`, if any.
    pub fn app_at(&self, offset: u32) -> Option<&Partition> {
        self.partitions.iter().find(|p| p.kind == 0 && p.offset == offset)
    }
}

fn finish(partitions: Vec<Partition>) -> Result<PartitionTable, ImageRefusal> {
    if partitions.is_empty() {
        return Err(bad("the table has no partitions"));
    }
    let mut sorted: Vec<&Partition> = partitions.iter().collect();
    sorted.sort_by_key(|p| p.offset);
    for pair in sorted.windows(2) {
        if u64::from(pair[0].offset) + u64::from(pair[0].size) > u64::from(pair[1].offset) {
            return Err(bad(format!("partitions {} and {} overlap", pair[0].label, pair[1].label)));
        }
    }
    Ok(PartitionTable { partitions })
}

/// Build table bytes from `(label, type, subtype, offset, size)` rows, with the MD5 entry (for tests and practice mode).
pub fn build_table(rows: &[(&str, u8, u8, u32, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (label, kind, subtype, offset, size) in rows {
        out.extend_from_slice(&ENTRY_MAGIC);
        out.extend_from_slice(&[*kind, *subtype]);
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        let mut name = [0u8; 16];
        name[..label.len().min(16)].copy_from_slice(&label.as_bytes()[..label.len().min(16)]);
        out.extend_from_slice(&name);
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    let digest = Md5::digest(&out);
    out.extend_from_slice(&MD5_MAGIC);
    out.extend_from_slice(&[0xFF; 14]);
    out.extend_from_slice(&digest);
    out.resize(MAX_TABLE_BYTES, 0xFF);
    out
}
