//! `keyline flash` end to end against `keyline sim` boards in another process: images written and verified
//! (the simulated flash equals them), refusals that write nothing, and the published Espressif helper
//! RAM-loaded with `keyline flash --ram`, and by `keyline provision --ram-load`, which then provisions the
//! board through it on the same open port. The firmware steps of a run: a shift that RAM-loads the helper,
//! provisions and flashes the product images; a verified board only product-flashed on the rerun; a bad product
//! image that stops the shift before any board; a blank board flashed with the rainbowtype firmware, then provisioned.
#![cfg(feature = "sim")]

#[path = "provision/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../../board/tests/common/helper_bin.rs"]
mod helper_bin;

use keyline_ota::ImageBuilder;
use support::{Env, Sim};

fn app(chip_id: u16, payload: usize) -> Vec<u8> {
    ImageBuilder::new("keyline-product", "2.0.1").chip_id(chip_id).segment(0x3FFB_0000, vec![0xA5; payload]).build()
}

/// An ESP image without an app descriptor (a second-stage bootloader stand-in).
fn bootloader() -> Vec<u8> {
    ImageBuilder::new("x", "1").chip_id(0).segment(0x3FFF_0000, vec![0x11; 64]).build()
}

fn table() -> Vec<u8> {
    keyline_board::flash::build_table(&[("nvs", 1, 2, 0x9000, 0x6000), ("phy_init", 1, 1, 0xF000, 0x1000), ("factory", 0, 0, 0x10000, 0x40000)])
}

fn flash_of(sim: &Sim, offset: usize, len: usize) -> Vec<u8> {
    let config = keyline_sim::BoardConfig { state_dir: Some(sim.state_dir.join("board-0")), derive_templates: true, ..Default::default() };
    keyline_sim::Board::new(config).unwrap().hardware().flash.read(offset, len).unwrap().to_vec()
}

fn write(env: &Env, name: &str, bytes: &[u8]) -> String {
    let path = env.path(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn images_are_written_verified_and_in_the_simulated_flash() {
    let env = Env::with_cas();
    let mut sim = Sim::start(&env, "rom", 1, &[]);
    let images = [("bl.bin", 0x1000usize, bootloader()), ("pt.bin", 0x8000, table()), ("app.bin", 0x10000, app(0, 100_000))];
    let mut args = vec!["flash".to_string(), "--port".into(), sim.ports[0].clone(), "--baud".into(), "921600".into()];
    for (name, offset, bytes) in &images {
        args.push(format!("{}@{offset:#x}", write(&env, name, bytes)));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = env.json(&args);
    let total: usize = images.iter().map(|i| i.2.len()).sum();
    assert_eq!(outcome["bytes"], total, "{outcome}");
    assert_eq!(outcome["chip"]["chip"], "esp32");
    assert_eq!(outcome["images"][2]["kind"], "app");
    assert_eq!(outcome["images"][2]["version"], "2.0.1");
    assert_eq!(outcome["md5"].as_array().unwrap().len(), 3);
    sim.stop();
    for (name, offset, bytes) in &images {
        assert_eq!(&flash_of(&sim, *offset, bytes.len()), bytes, "{name} at {offset:#x}");
    }
}

#[test]
fn refused_images_and_bad_input_write_nothing_and_say_why() {
    let env = Env::with_cas();
    let mut sim = Sim::start(&env, "rom", 1, &[]);
    let port = sim.ports[0].clone();
    let pt = format!("{}@0x8000", write(&env, "pt.bin", &table()));
    let mut bad_magic = app(0, 1000);
    bad_magic[0] = 0xE8;
    let mut bad_sha = app(0, 1000);
    let last = bad_sha.len() - 1;
    bad_sha[last] ^= 0x40;
    let cases: Vec<(Vec<String>, &str, &str)> = vec![
        (vec![pt.clone(), format!("{}@0x10000", write(&env, "m.bin", &bad_magic))], "flash_bad_image", "magic byte is 0xE8"),
        (vec![pt.clone(), format!("{}@0x10000", write(&env, "s.bin", &bad_sha))], "flash_bad_image", "SHA-256"),
        (vec![pt.clone(), format!("{}@0x10000", write(&env, "c.bin", &app(9, 1000)))], "flash_wrong_chip", "esp32s3"),
        (vec![pt.clone(), format!("{}@0x10000", write(&env, "big.bin", &app(0, 0x40000)))], "flash_does_not_fit", "larger than partition factory"),
        (vec![format!("{}@0x10800", write(&env, "u.bin", &[1; 64]))], "flash_unaligned_offset", "0x10800"),
        (vec![format!("{}@0x20000", write(&env, "a.bin", &[1; 0x2000])), format!("{}@0x21000", write(&env, "b.bin", &[2; 16]))], "flash_overlapping_images", "overlaps"),
        (vec![format!("{}@0x10000", env.path("missing.bin").display())], "flash_file_unreadable", "missing.bin"),
    ];
    for (images, code, text) in cases {
        let mut args = vec!["flash", "--port", &port];
        args.extend(images.iter().map(String::as_str));
        let error = env.json_error(&args);
        assert_eq!(error["code"], code, "{error}");
        assert!(error["message"].as_str().unwrap().contains(text), "{error}");
    }
    let error = env.json_error(&["flash", "--port", &write(&env, "not-a-port", b"x"), &pt]);
    assert_eq!(error["code"], "port_open", "{error}");
    sim.stop();
    assert!(flash_of(&sim, 0, 4 * 1024 * 1024).iter().all(|&b| b == 0xFF), "nothing reached the board");
}

#[test]
fn the_published_helper_is_ram_loaded_and_the_board_provisioned_through_it() {
    let helper = helper_bin::esp32_helper();
    let env = Env::with_cas();
    let sim = Sim::start(&env, "rom", 1, &[]);
    let port = sim.ports[0].clone();
    let loaded = env.json(&["flash", "--port", &port, "--ram", helper.to_str().unwrap()]);
    assert_eq!(loaded["image"]["entry"], 0x4008_21A8u32, "{loaded}");
    assert_eq!(loaded["image"]["segments"].as_array().unwrap().len(), 4, "{loaded}");
    assert_eq!(loaded["bytes"], 202_840, "{loaded}");
    assert_eq!(loaded["chip"]["chip"], "esp32");
    assert_eq!(loaded["programBaud"], 115_200);
    // A second load: the helper is running, so the FIFO reset brings the ROM loader back first.
    let again = env.json(&["flash", "--port", &port, "--ram", helper.to_str().unwrap(), "--baud", "115200"]);
    assert_eq!(again["bytes"], 202_840, "{again}");
    // `keyline provision --ram-load` loads it and provisions on the same open port, in the helper's window.
    let outcome = env.json(&["provision", "--port", &port, "--ram-load", helper.to_str().unwrap(), "--firmware", "esp-helper", "--ca", "signer"]);
    assert_eq!(outcome["outcome"], "verified", "{outcome}");
    let shown = env.json(&["devices", "show", outcome["serial"].as_str().unwrap()]);
    let device = if shown["device"].is_object() { &shown["device"] } else { &shown };
    assert_eq!(device["status"], "verified", "{shown}");
}

/// The product image set of the firmware-step tests: a partition table and an app.
fn product_images(env: &Env) -> (Vec<String>, Vec<(usize, Vec<u8>)>) {
    let parts = vec![(0x8000usize, table()), (0x10000, app(0, 150_000))];
    let args = parts.iter().map(|(offset, bytes)| format!("{}@{offset:#x}", write(env, &format!("product-{offset:x}.bin"), bytes))).collect();
    (args, parts)
}

/// Byte progress of one step: monotonic, in bytes, ending at the total.
fn assert_progress(events: &[serde_json::Value], step: &str) -> u64 {
    let progress: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "board" && e["inner"]["event"] == "stepProgress" && e["inner"]["step"] == step).collect();
    assert!(progress.len() >= 2, "{step}: {} progress events", progress.len());
    let total = progress[0]["inner"]["total"].as_u64().unwrap();
    let done: Vec<u64> = progress.iter().map(|e| e["inner"]["done"].as_u64().unwrap()).collect();
    assert!(done.windows(2).all(|w| w[0] < w[1]), "{step}: not monotonic: {done:?}");
    assert_eq!(*done.last().unwrap(), total, "{step}: ends at the total");
    assert!(progress.iter().all(|e| e["inner"]["total"] == total));
    assert!(progress.len() < 60, "{step}: throttled, not per block ({} events)", progress.len());
    total
}

#[test]
fn a_shift_ram_loads_the_helper_provisions_and_flashes_the_product_firmware() {
    let helper = helper_bin::esp32_helper();
    let env = Env::with_cas();
    let mut sim = Sim::start(&env, "rom", 1, &[]);
    let (images, parts) = product_images(&env);
    let mut args = vec!["station", "--ports", &sim.ports[0], "--firmware", "esp-helper", "--ca", "signer", "--until-idle", "--json"];
    args.extend(["--ram-load", helper.to_str().unwrap(), "--flash-baud", "921600", "--product-firmware"]);
    args.extend(images.iter().map(String::as_str));
    let output = env.run(&args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let events: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(assert_progress(&events, "load_firmware"), 202_840);
    let product_bytes: usize = parts.iter().map(|p| p.1.len()).sum();
    assert_eq!(assert_progress(&events, "product_flash") as usize, product_bytes);
    let finished = events.iter().find(|e| e["event"] == "boardFinished").unwrap();
    let outcome = &finished["outcome"];
    assert_eq!(outcome["outcome"], "verified", "{finished}");
    let steps: Vec<&str> = outcome["steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(steps.first(), Some(&"load_firmware"));
    assert_eq!(&steps[steps.len() - 3..], ["verify", "product_flash", "finish"]);
    assert_eq!(outcome["productFlash"]["bytes"], product_bytes);
    let shown = env.json(&["devices", "show", outcome["serial"].as_str().unwrap()]);
    assert_eq!(shown["status"], "verified", "{shown}");
    let flashed = shown["events"].as_array().unwrap().iter().find(|e| e["kind"] == "product_flashed").expect("product_flashed on the timeline");
    assert_eq!(flashed["detail"]["images"][1]["sha256"], hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&parts[1].1)));
    assert_eq!(flashed["detail"]["certId"], outcome["certId"]);
    sim.stop();
    for (offset, bytes) in &parts {
        assert_eq!(&flash_of(&sim, *offset, bytes.len()), bytes, "product image at {offset:#x}");
    }
}

#[test]
fn a_verified_board_is_only_product_flashed_on_the_rerun_and_a_bad_image_never_reaches_a_board() {
    let helper = helper_bin::esp32_helper();
    let env = Env::with_cas();
    let mut sim = Sim::start(&env, "rom", 1, &[]);
    let port = sim.ports[0].clone();
    let (mut images, parts) = product_images(&env);
    // A bad product image stops the shift before it starts: nothing loaded, written or recorded.
    let mut bad = app(0, 1000);
    bad[40] ^= 0x01;
    let bad_arg = format!("{}@0x10000", write(&env, "bad.bin", &bad));
    let error = env.json_error(&["station", "--ports", &port, "--firmware", "esp-helper", "--ca", "signer", "--until-idle", "--ram-load", helper.to_str().unwrap(), "--product-firmware", &images[0], &bad_arg]);
    assert_eq!(error["code"], "flash_bad_image", "{error}");
    assert!(error["message"].as_str().unwrap().contains("product firmware image bad.bin"), "{error}");
    assert_eq!(env.json(&["devices", "list"]).as_array().unwrap().len(), 0);
    // Provisioned without the product firmware first …
    let first = env.json(&["provision", "--port", &port, "--ram-load", helper.to_str().unwrap(), "--firmware", "esp-helper", "--ca", "signer"]);
    assert_eq!(first["outcome"], "verified", "{first}");
    // … then the rerun recognises the verified board and only flashes it, with byte progress on --events.
    let mut args = vec!["provision", "--port", &port, "--ram-load", helper.to_str().unwrap(), "--firmware", "esp-helper", "--ca", "signer", "--events", "--json", "--product-firmware"];
    images.truncate(2);
    args.extend(images.iter().map(String::as_str));
    let stdout = env.ok(&args);
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let progress: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::json!({ "event": "board", "inner": l })).collect();
    assert_progress(&progress, "product_flash");
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "finished");
    assert_eq!(last["outcome"]["outcome"], "productFlashed", "{last}");
    assert_eq!(last["outcome"]["certId"], first["certId"], "the same certificate");
    assert!(!lines.iter().any(|l| l["event"] == "stepStarted" && (l["step"] == "issue" || l["step"] == "write")), "nothing rewritten");
    // A third run finds it flashed and leaves it alone.
    let mut again: Vec<&str> = args.iter().copied().filter(|a| *a != "--events" && *a != "--json").collect();
    again.push("--json");
    let third: serde_json::Value = serde_json::from_str(&env.ok(&again)).unwrap();
    assert_eq!(third["outcome"], "alreadyProvisioned", "{third}");
    sim.stop();
    for (offset, bytes) in &parts {
        assert_eq!(&flash_of(&sim, *offset, bytes.len()), bytes, "product image at {offset:#x}");
    }
}

#[test]
fn a_blank_board_is_flashed_with_the_rainbowtype_firmware_then_provisioned_through_it() {
    let env = Env::with_cas();
    let mut sim = Sim::start(&env, "rom", 1, &[]);
    // Blank flash: a flash boot finds no bootloader, so the firmware must be loaded first.
    let parts = [(0x1000usize, bootloader()), (0x8000, table()), (0x10000, app(0, 120_000))];
    let images: Vec<String> = parts.iter().map(|(offset, bytes)| format!("{}@{offset:#x}", write(&env, &format!("rt-{offset:x}.bin"), bytes))).collect();
    let mut args = vec!["provision", "--port", &sim.ports[0], "--firmware", "rainbowtype", "--ca", "signer", "--json", "--events", "--load-firmware"];
    args.extend(images.iter().map(String::as_str));
    let stdout = env.ok(&args);
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let progress: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::json!({ "event": "board", "inner": l })).collect();
    let total: usize = parts.iter().map(|p| p.1.len()).sum();
    assert_eq!(assert_progress(&progress, "load_firmware") as usize, total);
    let outcome = &lines.last().unwrap()["outcome"];
    assert_eq!(outcome["outcome"], "verified", "{outcome}");
    let steps: Vec<&str> = outcome["steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!((steps[0], steps[1], *steps.last().unwrap()), ("load_firmware", "open", "finish"), "{steps:?}");
    sim.stop();
    for (offset, bytes) in &parts {
        assert_eq!(&flash_of(&sim, *offset, bytes.len()), bytes, "provisioning firmware image at {offset:#x}");
    }
}
