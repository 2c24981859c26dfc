//! `keyline ports`: simulated boards from `<data_dir>/sim/boards.json` next to the real ports.
#![cfg(feature = "cli")]

use std::process::Command;

use serialport::SerialPort;

fn keyline_ports(data_dir: &std::path::Path) -> (serde_json::Value, String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_keyline"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["ports", "--json"])
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (json, String::from_utf8_lossy(&out.stderr).into_owned(), out.status.success())
}

#[test]
fn keyline_ports_lists_a_simulated_board_and_survives_a_corrupt_list() {
    let (_master, slave) = serialport::TTYPort::pair().expect("a pseudo-terminal pair");
    let pty = slave.name().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("sim")).unwrap();
    let list_file = dir.path().join("sim/boards.json");
    let entry = serde_json::json!([{ "index": 0, "label": "Simulated board 1", "path": pty, "firmware": "esp-helper" }]);
    std::fs::write(&list_file, entry.to_string()).unwrap();

    let (json, stderr, ok) = keyline_ports(dir.path());
    assert!(ok, "{stderr}");
    let ports = json["ports"].as_array().unwrap();
    assert_eq!(ports[0]["label"], "Simulated board 1");
    assert_eq!(ports[0]["path"], pty.as_str());
    assert_eq!(ports[0]["kind"], "simulated");
    assert_eq!(ports[0]["firmware"], "esp-helper");
    assert_eq!(json["warnings"], serde_json::json!([]));

    let text = Command::new(env!("CARGO_BIN_EXE_keyline")).arg("--data-dir").arg(dir.path()).arg("ports").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.starts_with(&pty) && text.contains("Simulated board 1 (firmware esp-helper) [simulated]"), "{text}");

    std::fs::write(&list_file, b"\x00not json").unwrap();
    let (json, stderr, ok) = keyline_ports(dir.path());
    assert!(ok, "a corrupt list does not fail the listing: {stderr}");
    assert!(json["ports"].as_array().unwrap().iter().all(|p| p["kind"] != "simulated"));
    let warning = json["warnings"][0].as_str().unwrap();
    assert!(warning.contains("boards.json") && warning.contains("restart the simulator"), "{warning}");
    assert!(stderr.contains("warning:"), "{stderr}");
}
