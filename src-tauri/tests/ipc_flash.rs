//! IPC tests of the Flash tool: images picked in the (scripted) open dialog are checked one by one, then written to a
//! simulated board in ROM download mode with byte progress on the channel; the simulated flash holds them after.
//! A handle the user did not pick for flashing is refused, and a refused image writes nothing.

mod common;

use std::path::{Path, PathBuf};

use common::{invoke, messages_on, window_with_dialogs};
use keyline_app_lib::file_dialog::FileDialogs;
use keyline_app_lib::practice::emulator::EmulatorSource;
use keyline_ota::ImageBuilder;
use serde_json::{json, Value};

const PROGRESS: u32 = 41;

fn app(payload: usize) -> Vec<u8> {
    ImageBuilder::new("flash-tool", "3.1.4").chip_id(0).segment(0x3FFB_0000, vec![0x5A; payload]).build()
}

/// A loadable RAM image (the helper's shape: DRAM data and the entry point in IRAM). The builder puts its descriptor
/// in flash-mapped DROM: that segment moves to DRAM, and the image carries no SHA-256 (the checksum covers data only).
fn ram_image() -> Vec<u8> {
    let mut image = ImageBuilder::new("helper", "1.2.0").chip_id(0).segment(0x4008_0000, vec![0x22; 0x800]).build();
    image[24..28].copy_from_slice(&0x3FFB_1000u32.to_le_bytes());
    image[23] = 0; // no hash appended
    image.truncate(image.len() - 32);
    image
}

fn table() -> Vec<u8> {
    keyline_board::flash::build_table(&[("nvs", 1, 2, 0x9000, 0x6000), ("factory", 0, 0, 0x10000, 0x40000), ("ota_0", 0, 0x10, 0x50000, 0x40000)])
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn pick(h: &common::Harness, purpose: &str) -> u32 {
    let picked = invoke(h, "pick_file", json!({ "purpose": purpose })).unwrap();
    picked["handle"].as_u64().unwrap() as u32
}

#[test]
fn picked_images_are_checked_then_written_to_a_simulated_board_with_byte_progress() {
    let files = tempfile::tempdir().unwrap();
    let table_file = write(files.path(), "partitions.bin", &table());
    let app_bytes = app(150_000);
    let app_file = write(files.path(), "product.bin", &app_bytes);
    let mut bad = app(1_000);
    bad[0] = 0xE8;
    let bad_file = write(files.path(), "corrupt.bin", &bad);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let dialogs = FileDialogs::scripted([Some(table_file), Some(app_file), Some(bad_file)]);
    let h = window_with_dialogs(dir, data.clone(), true, EmulatorSource::default(), dialogs);

    let (pt, product, corrupt) = (pick(&h, "flashImage"), pick(&h, "flashImage"), pick(&h, "flashImage"));
    let checked = invoke(&h, "check_flash_images", json!({ "images": [{ "file": pt, "offset": 0x8000 }, { "file": product, "offset": 0x10000 }, { "file": corrupt, "offset": 0x50000 }] })).unwrap();
    assert_eq!(checked["images"][0]["parts"][0]["kind"], "partition_table", "{checked}");
    assert_eq!(checked["images"][1]["parts"][0]["kind"], "app", "{checked}");
    assert_eq!(checked["images"][1]["parts"][0]["chip"], "esp32");
    assert_eq!(checked["images"][1]["parts"][0]["version"], "3.1.4");
    assert_eq!(checked["images"][1]["sha256"].as_str().unwrap().len(), 64);
    assert!(checked["images"][1]["refusal"].is_null());
    assert_eq!(checked["images"][2]["refusal"]["code"], "flash_bad_image", "{checked}");
    assert_eq!(checked["refusal"]["code"], "flash_bad_image", "the plan is refused while one image is");

    let status = invoke(&h, "start_sim_boards", json!({ "count": 1, "firmware": "rom", "timing": "instant" })).unwrap();
    let port = status["boards"][0]["path"].as_str().unwrap().to_owned();
    let channel = format!("__CHANNEL__:{PROGRESS}");
    // The corrupt image is refused before the board is touched.
    let refused = invoke(&h, "flash_board", json!({ "port": port, "baud": 921_600, "images": [{ "file": pt, "offset": 0x8000 }, { "file": corrupt, "offset": 0x50000 }], "onProgress": channel })).unwrap_err();
    assert_eq!(refused["code"], "flash_bad_image", "{refused}");
    assert!(messages_on(&h, PROGRESS).is_empty(), "nothing was sent for a refused image");

    let images = json!([{ "file": pt, "offset": 0x8000 }, { "file": product, "offset": 0x10000 }]);
    let outcome = invoke(&h, "flash_board", json!({ "port": port, "baud": 921_600, "images": images, "onProgress": channel })).unwrap();
    let total = (table().len() + app_bytes.len()) as u64;
    assert_eq!(outcome["bytes"], total, "{outcome}");
    assert_eq!(outcome["chip"]["chip"], "esp32");
    let progress: Vec<Value> = messages_on(&h, PROGRESS);
    assert!(progress.len() > 3, "byte progress arrived block by block: {}", progress.len());
    let writing: Vec<u64> = progress.iter().filter(|p| p["phase"] == "writing").map(|p| p["done"].as_u64().unwrap()).collect();
    assert!(writing.windows(2).all(|w| w[0] <= w[1]), "progress only grows: {writing:?}");
    assert_eq!(progress.iter().map(|p| p["done"].as_u64().unwrap()).max(), Some(total));
    assert!(progress.iter().all(|p| p["total"] == total));

    invoke(&h, "stop_sim_boards", json!({})).unwrap();
    let config = keyline_sim::BoardConfig { state_dir: Some(data.join("sim/board-0")), derive_templates: true, ..Default::default() };
    let board = keyline_sim::Board::new(config).unwrap();
    assert_eq!(board.hardware().flash.read(0x10000, app_bytes.len()).unwrap(), &app_bytes[..], "the app is in the simulated flash");
    assert_eq!(board.hardware().flash.read(0x8000, table().len()).unwrap(), &table()[..], "the table is in the simulated flash");
}

#[test]
fn a_handle_not_picked_for_flashing_is_refused_and_the_baud_is_checked() {
    let files = tempfile::tempdir().unwrap();
    let helper = write(files.path(), "helper.bin", &ram_image());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let not_ram = write(files.path(), "app.bin", &app(100));
    let h = window_with_dialogs(dir, data, true, EmulatorSource::default(), FileDialogs::scripted([Some(helper), Some(not_ram), None]));
    let ram = pick(&h, "ramImage");
    // An app whose entry point lies in no loaded segment is refused as the helper when it is picked.
    let refused = invoke(&h, "pick_file", json!({ "purpose": "ramImage" })).unwrap_err();
    assert_eq!(refused["code"], "flash_bad_image", "{refused}");
    let error = invoke(&h, "check_flash_images", json!({ "images": [{ "file": ram, "offset": 0x10000 }] })).unwrap_err();
    assert_eq!(error["code"], "invalid_input", "{error}");
    let error = invoke(&h, "check_flash_images", json!({ "images": [{ "file": 999, "offset": 0x10000 }] })).unwrap_err();
    assert!(error["message"].as_str().unwrap().contains("not chosen"), "{error}");
    assert_eq!(invoke(&h, "pick_file", json!({ "purpose": "flashImage" })).unwrap(), Value::Null, "a cancelled dialog picks nothing");
    let error = invoke(&h, "ram_load_board", json!({ "port": "/dev/null", "baud": 12345, "file": ram, "onProgress": "__CHANNEL__:7" })).unwrap_err();
    assert_eq!(error["code"], "invalid_setting", "{error}");
    assert_eq!(invoke(&h, "cancel_flash", json!({})).unwrap(), json!(false), "nothing to cancel");
}
