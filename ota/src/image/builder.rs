//! [`ImageBuilder`]: writes well-formed ESP32 app images (for tests, practice mode and fuzz seeds).

use sha2::{Digest, Sha256};

use super::{AppDesc, HEADER_LEN, IMAGE_MAGIC};

/// Builds an application image: header, segments (the first carries the app descriptor),
/// checksum and appended SHA-256, laid out as esptool `elf2image` does.
#[derive(Debug, Clone)]
pub struct ImageBuilder {
    chip_id: u16,
    desc: AppDesc,
    segments: Vec<(u32, Vec<u8>)>,
}

impl ImageBuilder {
    /// An ESP32 image for `project` at `version` with a DROM segment holding the descriptor.
    pub fn new(project: &str, version: &str) -> ImageBuilder {
        ImageBuilder {
            chip_id: 0,
            desc: AppDesc {
                secure_version: 0,
                version: version.into(),
                project_name: project.into(),
                time: "12:00:00".into(),
                date: "Dec  4 2026".into(),
                idf_version: "v4.2".into(),
                elf_sha256: hex::encode([0x5Au8; 32]),
            },
            segments: Vec::new(),
        }
    }

    /// Set the chip ID (0 = ESP32).
    pub fn chip_id(mut self, chip_id: u16) -> Self {
        self.chip_id = chip_id;
        self
    }

    /// Add a segment; its data is zero-padded to a multiple of 4.
    pub fn segment(mut self, load_addr: u32, mut data: Vec<u8>) -> Self {
        data.resize(data.len().div_ceil(4) * 4, 0);
        self.segments.push((load_addr, data));
        self
    }

    /// The image bytes.
    pub fn build(&self) -> Vec<u8> {
        let mut first = self.desc.to_bytes().to_vec();
        first.extend_from_slice(&[0u8; 32]);
        let mut segments = vec![(0x3F40_0020u32, first)];
        segments.extend(self.segments.iter().cloned());
        let mut out = Vec::with_capacity(HEADER_LEN + segments.iter().map(|(_, d)| d.len() + 8).sum::<usize>() + 48);
        out.push(IMAGE_MAGIC);
        out.push(segments.len() as u8);
        out.extend_from_slice(&[2, 0x20]); // DIO, 4 MB / 40 MHz
        out.extend_from_slice(&0x4008_0400u32.to_le_bytes()); // entry
        out.push(0xEE); // WP pin disabled
        out.extend_from_slice(&[0, 0, 0]); // drive strengths
        out.extend_from_slice(&self.chip_id.to_le_bytes());
        out.push(0); // min chip rev (legacy)
        out.extend_from_slice(&0u16.to_le_bytes()); // min chip rev full
        out.extend_from_slice(&399u16.to_le_bytes()); // max chip rev full
        out.extend_from_slice(&[0; 4]);
        out.push(1); // hash appended
        let mut checksum = 0xEFu8;
        for (addr, data) in &segments {
            out.extend_from_slice(&addr.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(data);
            checksum = data.iter().fold(checksum, |acc, b| acc ^ b);
        }
        out.resize(out.len() | 15, 0);
        out.push(checksum);
        let hash = Sha256::digest(&out);
        out.extend_from_slice(&hash);
        out
    }
}
