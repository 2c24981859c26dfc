//! IPC tests of the Factory line and Devices commands: a shift started through `start_line` provisions two
//! simulated boards (real ptys, the firmware simulators) with progress on its channel and `stop_line` returns the
//! counters; a board in download mode fails with its error and, once reset, `retry_board` provisions it; the devices
//! are then found, opened and exported through `search_devices`, `device_detail` and `export_devices`.

mod common;

use std::time::{Duration, Instant};

use common::{harness, invoke, messages_on, window_with_dialogs, Harness};
use keyline_app_lib::file_dialog::FileDialogs;
use keyline_app_lib::practice::emulator::EmulatorSource;
use serde_json::{json, Value};

const SHIFT_CHANNEL: u32 = 21;

/// Creates the `line-root`/`line-signer` CAs over IPC (the signer stays unlocked in this station).
fn create_cas(h: &Harness) {
    invoke(
        h,
        "create_ca",
        json!({
            "request": { "name": "line-root", "org": "Acme", "signer": "line-signer", "years": 1 },
            "passphrase": "line passphrase 123",
            "remember": false,
            "onEvent": "__CHANNEL__:1",
        }),
    )
    .unwrap();
}

/// The `boardFinished` events seen so far on the shift channel.
fn finished(h: &Harness) -> Vec<Value> {
    messages_on(h, SHIFT_CHANNEL).into_iter().filter(|m| m["event"] == "boardFinished").collect()
}

fn wait_for_finished(h: &Harness, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = finished(h);
        if done.len() >= count {
            return done;
        }
        assert!(Instant::now() < deadline, "only {} of {count} boards finished: {:#?}", done.len(), messages_on(h, SHIFT_CHANNEL));
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_shift_over_ipc_provisions_two_simulated_boards_and_the_devices_screen_finds_them() {
    // The save dialog (scripted) answers the three exports in turn: CSV, JSON, then a folder that does not exist.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let (csv_path, json_path, unwritable_path) = (data.join("devices.csv"), data.join("devices.json"), data.join("missing/devices.csv"));
    let answers = [Some(csv_path.clone()), Some(json_path.clone()), Some(unwritable_path)];
    let h = window_with_dialogs(dir, data, true, EmulatorSource::default(), FileDialogs::scripted(answers));
    create_cas(&h);
    // Nothing to stop or retry before a shift.
    assert_eq!(invoke(&h, "retry_board", json!({ "port": "/dev/null" })).unwrap(), json!(false));
    assert_eq!(invoke(&h, "stop_line", json!({ "abort": false })).unwrap()["passed"], 0);

    let status = invoke(&h, "start_sim_boards", json!({ "count": 2, "firmware": "rainbowtype", "timing": "instant" })).unwrap();
    let ports: Vec<String> = status["boards"].as_array().unwrap().iter().map(|b| b["path"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ports.len(), 2);

    let settings = json!({ "firmware": "rainbowtype", "ca": "line-signer", "ports": ports, "stationName": "ipc-line" });
    invoke(&h, "start_line", json!({ "settings": settings, "onEvent": format!("__CHANNEL__:{SHIFT_CHANNEL}") })).unwrap();
    let done = wait_for_finished(&h, 2);
    let mut serials = Vec::new();
    for event in &done {
        assert!(event["error"].is_null(), "{event}");
        assert_eq!(event["outcome"]["outcome"], "verified", "{event}");
        assert!(ports.contains(&event["port"].as_str().unwrap().to_owned()));
        serials.push(event["outcome"]["serial"].as_str().unwrap().to_owned());
    }
    serials.sort();
    serials.dedup();
    assert_eq!(serials.len(), 2, "two boards, two serials: {serials:?}");

    // Each board's steps and its serial bytes streamed before it finished.
    let messages = messages_on(&h, SHIFT_CHANNEL);
    let board_events = |kind: &str| messages.iter().filter(|m| m["event"] == "board" && m["inner"]["event"] == kind).count();
    assert!(board_events("stepStarted") >= 2 * 9, "{}", board_events("stepStarted"));
    assert!(board_events("stepDone") >= 2 * 9);
    assert!(board_events("serialBytes") > 0, "the serial log streams");
    assert_eq!(messages.iter().filter(|m| m["event"] == "portAppeared").count(), 2);

    let counters = invoke(&h, "stop_line", json!({ "abort": true })).unwrap();
    assert_eq!(counters["passed"], 2, "{counters}");
    assert_eq!(counters["failed"], 0, "{counters}");
    assert_eq!(counters["inFlight"], 0, "{counters}");

    // Devices: a page of the ledger, a search by serial, one device with its certificate, chain and timeline.
    let page = invoke(&h, "search_devices", json!({ "query": { "limit": 50 } })).unwrap();
    assert_eq!(page["total"], 2, "{page}");
    let listed: Vec<&str> = page["devices"].as_array().unwrap().iter().map(|d| d["serial"].as_str().unwrap()).collect();
    assert_eq!(listed, serials.iter().map(String::as_str).collect::<Vec<_>>());
    let one = invoke(&h, "search_devices", json!({ "query": { "text": serials[1], "limit": 10 } })).unwrap();
    assert_eq!(one["total"], 1);
    assert_eq!(one["devices"][0]["caName"], "line-signer");

    let detail = invoke(&h, "device_detail", json!({ "serial": serials[1] })).unwrap();
    assert_eq!(detail["device"]["serial"], serials[1].as_str());
    assert!(detail["cert"]["subject"].as_str().unwrap().contains(detail["device"]["commonName"].as_str().unwrap()), "{detail}");
    assert!(detail["cert"]["issuer"].as_str().unwrap().contains("line-signer") || detail["chainPem"].as_str().unwrap().contains("BEGIN CERTIFICATE"));
    assert!(detail["chainPem"].as_str().unwrap().matches("BEGIN CERTIFICATE").count() >= 2, "signer and root");
    assert!(!detail["events"].as_array().unwrap().is_empty(), "a timeline");
    let unknown = invoke(&h, "device_detail", json!({ "serial": "0123abcdef01020304" })).unwrap_err();
    assert_eq!(unknown["code"], "device_not_found", "{unknown}");
    let malformed = invoke(&h, "device_detail", json!({ "serial": "00" })).unwrap_err();
    assert_eq!(malformed["code"], "invalid_serial", "{malformed}");

    // Export of the current search to CSV and JSON, at the path the save dialog gave.
    let exported = invoke(&h, "export_devices", json!({ "query": { "limit": 50 }, "format": "csv" })).unwrap();
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(exported["path"], json!(csv_path));
    assert_eq!(exported["bytes"].as_u64().unwrap() as usize, csv.len());
    assert!(csv.starts_with("serial,"), "{csv}");
    let rows: Vec<&str> = csv.lines().filter(|line| serials.iter().any(|serial| line.starts_with(&format!("{serial},")))).collect();
    assert_eq!(rows.len(), 2, "one row per device: {csv}");
    invoke(&h, "export_devices", json!({ "query": { "text": serials[0], "limit": 50 }, "format": "json" })).unwrap();
    let exported: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let rows = exported.as_array().or_else(|| exported["devices"].as_array()).unwrap();
    assert_eq!(rows.len(), 1, "{exported}");
    assert_eq!(rows[0]["serial"], serials[0].as_str());
    let unwritable = invoke(&h, "export_devices", json!({ "query": { "limit": 50 }, "format": "csv" }));
    assert_eq!(unwritable.unwrap_err()["code"], "write_failed");

    invoke(&h, "stop_sim_boards", json!({})).unwrap();
}

#[test]
fn a_shift_with_an_unknown_firmware_or_a_locked_ca_is_refused_with_a_code() {
    let h = harness(true);
    let channel = format!("__CHANNEL__:{SHIFT_CHANNEL}");
    let bad = invoke(&h, "start_line", json!({ "settings": { "firmware": "nope", "ca": "x" }, "onEvent": channel })).unwrap_err();
    assert_eq!(bad["code"], "invalid_input", "{bad}");
    assert!(bad["message"].as_str().unwrap().contains("rainbowtype"), "{bad}");
    let missing = invoke(&h, "start_line", json!({ "settings": { "firmware": "rainbowtype", "ca": "nobody" }, "onEvent": channel })).unwrap_err();
    assert_eq!(missing["code"], "not_found", "{missing}");
    create_cas(&h);
    invoke(&h, "lock_ca", json!({ "name": "line-signer", "forget": false })).unwrap();
    let locked = invoke(&h, "start_line", json!({ "settings": { "firmware": "rainbowtype", "ca": "line-signer" }, "onEvent": channel })).unwrap_err();
    assert_eq!(locked["code"], "passphrase_required", "{locked}");
    assert!(messages_on(&h, SHIFT_CHANNEL).is_empty(), "a refused shift sends nothing");
}

#[test]
fn firmware_files_come_from_pick_file_by_handle_and_a_bad_image_stops_the_shift_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let app = keyline_ota::ImageBuilder::new("product", "3.1.0").chip_id(0).segment(0x3FFB_0000, vec![0xA5; 4000]).build();
    let mut bad = app.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x40; // the appended SHA-256 no longer matches
    let (good_path, bad_path) = (data.join("product.bin"), data.join("bad.bin"));
    std::fs::write(&good_path, &app).unwrap();
    std::fs::write(&bad_path, &bad).unwrap();
    let dialogs = FileDialogs::scripted([Some(good_path), Some(bad_path), None]);
    let h = window_with_dialogs(dir, data, true, EmulatorSource::default(), dialogs);
    create_cas(&h);
    let good = invoke(&h, "pick_file", json!({ "purpose": "flashImage" })).unwrap();
    assert_eq!(good["name"], "product.bin", "{good}");
    let facts = &good["image"];
    assert_eq!((facts["chip"].as_str(), facts["version"].as_str(), facts["bytes"].as_u64()), (Some("esp32"), Some("3.1.0"), Some(app.len() as u64)));
    let bad = invoke(&h, "pick_file", json!({ "purpose": "flashImage" })).unwrap();
    assert_eq!(invoke(&h, "pick_file", json!({ "purpose": "flashImage" })).unwrap(), Value::Null, "cancelled");
    let channel = format!("__CHANNEL__:{SHIFT_CHANNEL}");
    let start = |file: &Value, offset: u32| {
        let steps = json!({ "productImages": [{ "file": file["handle"], "offset": offset }], "flashBaud": 921600 });
        invoke(&h, "start_line", json!({ "settings": { "firmware": "rainbowtype", "ca": "line-signer", "firmwareSteps": steps }, "onEvent": channel }))
    };
    let refused = start(&bad, 0x10000).unwrap_err();
    assert_eq!(refused["code"], "flash_bad_image", "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("product firmware image bad.bin"), "{refused}");
    // An app with no partition table to check its size against is refused too.
    assert_eq!(start(&good, 0x10000).unwrap_err()["code"], "flash_does_not_fit");
    let unknown = invoke(&h, "start_line", json!({ "settings": { "firmware": "rainbowtype", "ca": "line-signer", "firmwareSteps": { "ramLoad": 99 } }, "onEvent": channel }));
    assert_eq!(unknown.unwrap_err()["code"], "invalid_input");
    // A flash image is not the helper to RAM-load: a handle picked for another purpose is refused.
    let as_helper = invoke(&h, "start_line", json!({ "settings": { "firmware": "esp-helper", "ca": "line-signer", "firmwareSteps": { "ramLoad": good["handle"] } }, "onEvent": channel }));
    let as_helper = as_helper.unwrap_err();
    assert_eq!(as_helper["code"], "invalid_input", "{as_helper}");
    assert!(as_helper["message"].as_str().unwrap().contains("not chosen"), "{as_helper}");
    assert!(messages_on(&h, SHIFT_CHANNEL).is_empty(), "a refused shift touches no board");
}

#[test]
fn a_board_in_download_mode_fails_with_its_error_and_retry_after_a_reset_provisions_it() {
    let h = harness(true);
    create_cas(&h);
    let mut config = keyline_sim::SimConfig::new(1, keyline_sim::FirmwareKind::Rainbowtype, h.dir.path().join("strapped-sim"));
    config.derive_templates = true; // as practice mode's boards

    let sim = keyline_sim::run_boards(config).unwrap();
    // The board was plugged in with IO0 held: it sits in the ROM bootloader, not the provisioning firmware.
    assert!(sim.reset(0, true));
    let port = sim.ports()[0].path.display().to_string();

    let settings = json!({ "firmware": "rainbowtype", "ca": "line-signer", "ports": [port] });
    invoke(&h, "start_line", json!({ "settings": settings, "onEvent": format!("__CHANNEL__:{SHIFT_CHANNEL}") })).unwrap();
    let failed = wait_for_finished(&h, 1).remove(0);
    assert_eq!(failed["port"], port.as_str());
    assert!(failed["outcome"].is_null(), "a board in download mode fails: {failed}");
    let error = &failed["error"];
    for field in ["code", "message", "hint"] {
        assert!(!error[field].as_str().unwrap().is_empty(), "{field} in {error}");
    }
    let hint = error["hint"].as_str().unwrap();
    assert!(!hint.contains("keyline ") && !hint.contains("--"), "the window's hint names no command or flag: {hint}");
    assert_eq!(failed["counters"]["failed"], 1, "{failed}");
    let step_failed = messages_on(&h, SHIFT_CHANNEL).into_iter().find(|m| m["inner"]["event"] == "stepFailed").expect("the failed step");
    assert_eq!(step_failed["inner"]["message"], error["message"]);

    // The operator presses the board's reset button (a flash boot) and retries: the same board, on the same port,
    // runs to the end.
    assert!(sim.reset(0, false));
    assert_eq!(invoke(&h, "retry_board", json!({ "port": port })).unwrap(), json!(true));
    let retried = wait_for_finished(&h, 2).remove(1);
    assert_eq!(retried["port"], port.as_str());
    assert!(retried["error"].is_null(), "{retried}");
    assert_eq!(retried["outcome"]["outcome"], "verified", "{retried}");
    let serial = retried["outcome"]["serial"].as_str().unwrap();
    let page = invoke(&h, "search_devices", json!({ "query": { "text": serial, "limit": 5 } })).unwrap();
    assert_eq!(page["devices"][0]["status"], "verified", "{page}");
    invoke(&h, "stop_line", json!({ "abort": true })).unwrap();
    drop(sim);
}
