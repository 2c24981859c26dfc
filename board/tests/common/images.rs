//! Test images: ESP app images, a bootloader stand-in and a partition table, built in-process.
#![allow(dead_code)]

use keyline_board::flash::build_table;
use keyline_ota::ImageBuilder;

/// An app image for `chip_id` with a `payload`-byte data segment.
pub fn app(chip_id: u16, payload: usize) -> Vec<u8> {
    ImageBuilder::new("keyline-test", "1.2.3").chip_id(chip_id).segment(0x3FFB_0000, vec![0x5A; payload]).build()
}

/// An ESP image without an app descriptor, standing in for the second-stage bootloader.
pub fn bootloader() -> Vec<u8> {
    let mut image = app(0, 64);
    image[24 + 8] = 0; // break the descriptor magic in the first segment
    refresh(&mut image);
    image
}

/// Recompute checksum and SHA-256 after editing segment data.
pub fn refresh(image: &mut [u8]) {
    use sha2::{Digest, Sha256};
    let parsed_len = image.len() - 32;
    let count = image[1] as usize;
    let (mut at, mut checksum) = (24usize, 0xEFu8);
    for _ in 0..count {
        let len = u32::from_le_bytes(image[at + 4..at + 8].try_into().unwrap()) as usize;
        checksum = image[at + 8..at + 8 + len].iter().fold(checksum, |a, b| a ^ b);
        at += 8 + len;
    }
    image[at | 15] = checksum;
    let hash = Sha256::digest(&image[..parsed_len]);
    image[parsed_len..].copy_from_slice(&hash);
}

/// nvs, phy_init and a 64 KiB factory app at 0x10000 (`app_size` bytes).
pub fn table_with(app_size: u32) -> Vec<u8> {
    build_table(&[("nvs", 1, 2, 0x9000, 0x6000), ("phy_init", 1, 1, 0xF000, 0x1000), ("factory", 0, 0, 0x10000, app_size)])
}

/// The default table: a 64 KiB factory partition.
pub fn table() -> Vec<u8> {
    table_with(0x10000)
}
