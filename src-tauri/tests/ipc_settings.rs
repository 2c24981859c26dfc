//! IPC tests of the Settings screen's commands: the station's settings round-trip through the window, and a value
//! out of range comes back as `invalid_setting` with nothing saved.

mod common;

use common::{harness, invoke};
use serde_json::json;

#[test]
fn settings_saved_over_ipc_are_what_the_station_reads_back() {
    let h = harness(false);
    let defaults = invoke(&h, "get_settings", json!({})).unwrap();
    assert_eq!(defaults["serial"]["consoleBaud"], 115_200);
    assert_eq!(defaults["serial"]["rainbowtype"]["configureMs"], 10_000);
    assert_eq!(defaults["serial"]["espHelper"]["keyMs"], 5_000);

    let mut changed = defaults.clone();
    changed["stationName"] = json!("Line 7");
    changed["serial"]["loaderBaud"] = json!(230_400);
    changed["serial"]["rainbowtype"]["handshakeMs"] = json!(1_500);
    let saved = invoke(&h, "save_settings", json!({ "settings": changed })).unwrap();
    assert_eq!(saved, changed);
    assert_eq!(invoke(&h, "get_settings", json!({})).unwrap(), changed);
    let station = h.station.settings().unwrap();
    assert_eq!(station.station_name.as_deref(), Some("Line 7"));
    assert_eq!(station.serial.rainbowtype.handshake_ms, 1_500);
}

#[test]
fn a_timeout_of_zero_or_hours_and_a_baud_the_firmware_cannot_use_are_refused_and_nothing_is_saved() {
    let h = harness(false);
    let before = invoke(&h, "get_settings", json!({})).unwrap();
    for (path, value) in [("handshakeMs", json!(0)), ("writeMs", json!(4 * 3_600_000))] {
        let mut bad = before.clone();
        bad["serial"]["espHelper"][path] = value;
        let error = invoke(&h, "save_settings", json!({ "settings": bad })).unwrap_err();
        assert_eq!(error["code"], "invalid_setting", "{error}");
        assert!(error["message"].as_str().unwrap().contains("timeout"), "{error}");
    }
    let mut bad = before.clone();
    bad["serial"]["consoleBaud"] = json!(57_600);
    let error = invoke(&h, "save_settings", json!({ "settings": bad })).unwrap_err();
    assert_eq!(error["code"], "invalid_setting");
    assert!(error["message"].as_str().unwrap().contains("115200"), "{error}");
    assert!(!error["hint"].as_str().unwrap().contains("keyline"), "the window's hint names no command: {error}");
    assert_eq!(invoke(&h, "get_settings", json!({})).unwrap(), before, "nothing was saved");
}
