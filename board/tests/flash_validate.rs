//! Image validation before flashing: each refusal with its reason, and good plans (separate and merged) accepted.

mod common;

use common::images::{app, bootloader, table};
use keyline_board::flash::{parse_image_arg, FlashImage, FlashPlan, ImageKind, ImageRefusal, TargetInfo};

fn img(name: &str, offset: u32, bytes: Vec<u8>) -> FlashImage {
    FlashImage { name: name.into(), offset, bytes }
}

fn esp32() -> TargetInfo {
    TargetInfo { chip_id: Some(0), partition_table: None, flash_bytes: None }
}

#[test]
fn separate_images_are_accepted_and_classified() {
    let plan = FlashPlan::validate(
        vec![img("app.bin", 0x10000, app(0, 4000)), img("bl.bin", 0x1000, bootloader()), img("pt.bin", 0x8000, table())],
        &esp32(),
    )
    .expect("valid plan");
    let kinds: Vec<ImageKind> = plan.checked.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ImageKind::Bootloader, ImageKind::PartitionTable, ImageKind::App]);
    assert_eq!(plan.checked[2].version.as_deref(), Some("1.2.3"));
    assert_eq!(plan.images[0].offset, 0x1000, "sorted by offset");
}

#[test]
fn merged_image_is_split_and_checked() {
    let mut merged = vec![0xFF; 0x10000];
    let bl = bootloader();
    merged[0x1000..0x1000 + bl.len()].copy_from_slice(&bl);
    merged[0x8000..0x8000 + 0xC00].copy_from_slice(&table());
    merged.extend_from_slice(&app(0, 4000));
    let plan = FlashPlan::validate(vec![img("merged.bin", 0, merged.clone())], &esp32()).expect("valid merged");
    assert_eq!(plan.checked.len(), 3);
    // A corrupt app inside the merged image is found.
    let last = merged.len() - 1;
    merged[last] ^= 1;
    let err = FlashPlan::validate(vec![img("merged.bin", 0, merged)], &esp32()).unwrap_err();
    assert_eq!(err.code(), "bad_image", "{err}");
}

fn refusal(images: Vec<FlashImage>) -> ImageRefusal {
    FlashPlan::validate(images, &esp32()).unwrap_err()
}

#[test]
fn corrupt_magic_is_refused() {
    let mut bytes = app(0, 100);
    bytes[0] = 0xE8;
    let err = refusal(vec![img("pt.bin", 0x8000, table()), img("app.bin", 0x10000, bytes)]);
    assert_eq!(err.code(), "bad_image");
    assert!(err.to_string().contains("magic byte is 0xE8"), "{err}");
}

#[test]
fn corrupt_sha256_is_refused() {
    let mut bytes = app(0, 100);
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    let err = refusal(vec![img("pt.bin", 0x8000, table()), img("app.bin", 0x10000, bytes)]);
    assert!(err.to_string().contains("SHA-256 does not match"), "{err}");
}

#[test]
fn wrong_chip_is_refused() {
    let err = refusal(vec![img("pt.bin", 0x8000, table()), img("app.bin", 0x10000, app(9, 100))]);
    assert_eq!(err.to_string(), "app.bin is built for esp32s3, the board is esp32");
}

#[test]
fn oversize_image_is_refused() {
    let err = refusal(vec![img("pt.bin", 0x8000, table()), img("app.bin", 0x10000, app(0, 0x10000))]);
    assert_eq!(err.code(), "does_not_fit");
    assert!(err.to_string().contains("larger than partition factory"), "{err}");
    // The board's own table is used when the plan has none.
    let target = TargetInfo { chip_id: Some(0), partition_table: Some(keyline_board::flash::PartitionTable::parse(&table()).unwrap()), flash_bytes: None };
    let err = FlashPlan::validate(vec![img("app.bin", 0x10000, app(0, 0x10000))], &target).unwrap_err();
    assert_eq!(err.code(), "does_not_fit");
    // An app at an offset with no app partition.
    let err = refusal(vec![img("pt.bin", 0x8000, table()), img("app.bin", 0x20000, app(0, 100))]);
    assert!(err.to_string().contains("no app partition starts here"), "{err}");
}

#[test]
fn unaligned_and_overlapping_offsets_are_refused() {
    let err = refusal(vec![img("app.bin", 0x10800, app(0, 100))]);
    assert_eq!(err.code(), "unaligned_offset");
    let err = refusal(vec![img("a.bin", 0x10000, vec![1; 0x2000]), img("b.bin", 0x11000, vec![2; 16])]);
    assert_eq!(err.code(), "overlapping_images");
}

#[test]
fn corrupt_partition_table_is_refused() {
    let mut pt = table();
    pt[5] ^= 1; // first entry's offset, caught by the MD5 entry
    let err = refusal(vec![img("pt.bin", 0x8000, pt)]);
    assert_eq!(err.code(), "bad_partition_table");
}

#[test]
fn image_arguments_parse_strictly() {
    assert_eq!(parse_image_arg("fw.bin@0x10000").unwrap(), ("fw.bin".into(), 0x10000));
    assert_eq!(parse_image_arg("merged.bin").unwrap(), ("merged.bin".into(), 0));
    assert_eq!(parse_image_arg("a@b.bin@4096").unwrap(), ("a@b.bin".into(), 4096));
    assert_eq!(parse_image_arg("fw.bin@0xZZ").unwrap_err().code(), "bad_argument");
    assert_eq!(parse_image_arg("@0x1000").unwrap_err().code(), "bad_argument");
}
