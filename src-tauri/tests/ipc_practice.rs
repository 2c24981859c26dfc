//! IPC tests of practice mode: real simulated boards on ptys started and stopped through the commands, seen by
//! `list_ports`; the emulator's state when ministack is missing, and a real ministack started on loopback and
//! stopped again (in a loopback-only network namespace when possible).

mod common;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{harness, invoke, window_with};
use keyline_app_lib::practice::emulator::EmulatorSource;
use keyline_app_lib::practice::Practice;
use serde_json::{json, Value};
use tauri::Manager;

fn simulated(ports: &Value) -> Vec<(String, String)> {
    ports["ports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "simulated")
        .map(|p| (p["label"].as_str().unwrap().to_string(), p["path"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn boards_started_through_the_app_are_listed_as_ports_and_disappear_after_stop() {
    let h = harness(true);
    let status = invoke(&h, "practice_status", json!({})).unwrap();
    assert_eq!(status["enabled"], true);
    assert_eq!(status["simAvailable"], true);
    assert_eq!(status["boards"], json!([]));
    assert_eq!(status["emulator"]["state"], "off");
    assert_eq!(status["emulator"]["version"], "1.5.33");

    let status = invoke(&h, "start_sim_boards", json!({ "count": 2, "firmware": "rom", "timing": "instant" })).unwrap();
    let boards = status["boards"].as_array().unwrap();
    assert_eq!(boards.len(), 2);
    assert_eq!(status["timing"], "instant");
    assert_eq!(boards[1]["label"], "Simulated board 2");
    assert_eq!(boards[0]["firmware"], "rom");
    let paths: Vec<String> = boards.iter().map(|b| b["path"].as_str().unwrap().to_string()).collect();
    assert!(h.dir.path().join("sim/boards.json").is_file());

    let listed = simulated(&invoke(&h, "list_ports", json!({})).unwrap());
    assert_eq!(
        listed,
        vec![("Simulated board 1".to_string(), paths[0].clone()), ("Simulated board 2".to_string(), paths[1].clone())]
    );

    // The pty is a live board: reset into download mode through its reset FIFO (named in boards.json, as a
    // separate process finds it), it prints the ROM banner to the host that has the port open.
    let mut tty = std::fs::OpenOptions::new().read(true).write(true).open(&paths[0]).unwrap();
    let listing: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(h.dir.path().join("sim/boards.json")).unwrap()).unwrap();
    let fifo = listing.as_array().or_else(|| listing["boards"].as_array()).and_then(|b| b[0]["reset"].as_str().map(str::to_string)).unwrap_or_else(|| panic!("boards.json names no reset FIFO: {listing}"));
    // The ROM talks at 115200; a host at another line rate would read only framing errors.
    let stty = std::process::Command::new("stty").args(["-F", &paths[0], "115200", "raw", "-echo"]).status().unwrap();
    assert!(stty.success(), "stty sets the line rate");
    std::io::Write::write_all(&mut std::fs::OpenOptions::new().write(true).open(&fifo).unwrap(), b"download\n").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        let n = std::io::Read::read(&mut tty, &mut buf).unwrap_or(0);
        let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
    });
    let banner = rx.recv_timeout(Duration::from_secs(5)).expect("the simulated board talks");
    assert!(banner.contains("waiting for download"), "{banner}");

    let status = invoke(&h, "stop_sim_boards", json!({})).unwrap();
    assert_eq!(status["boards"], json!([]));
    assert!(simulated(&invoke(&h, "list_ports", json!({})).unwrap()).is_empty());
    assert!(!h.dir.path().join("sim/boards.json").exists(), "the list file goes with the boards");
    assert!(h.dir.path().join("sim/board-0/chip.json").exists(), "chip state stays for the next start");
}

#[test]
fn bad_requests_and_factory_mode_are_refused_with_coded_errors() {
    let h = harness(true);
    let error = invoke(&h, "start_sim_boards", json!({ "count": 0, "firmware": "rom", "timing": "instant" })).unwrap_err();
    assert_eq!(error["code"], "invalid_input");
    let error = invoke(&h, "start_sim_boards", json!({ "count": 1, "firmware": "doom", "timing": "instant" })).unwrap_err();
    assert_eq!(error["code"], "invalid_input");
    assert!(error["message"].as_str().unwrap().contains("doom"), "{error}");

    let factory = harness(false);
    let error = invoke(&factory, "start_sim_boards", json!({ "count": 2, "firmware": "rom", "timing": "instant" })).unwrap_err();
    assert_eq!(error["code"], "practice_off");
    assert!(error["hint"].as_str().unwrap().contains("--practice"));
    assert_eq!(invoke(&factory, "start_emulator", json!({})).unwrap_err()["code"], "practice_off");
    assert!(simulated(&invoke(&factory, "list_ports", json!({})).unwrap()).is_empty());
}

/// Set inside the loopback-only network namespace the live emulator test re-runs itself in.
const IN_NETNS: &str = "KEYLINE_TEST_IN_NETNS";

fn project_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

#[test]
fn a_missing_ministack_is_reported_with_how_to_install_it() {
    let empty_venv = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let h = window_with(dir, data, true, EmulatorSource { venv: Some(empty_venv.path().to_path_buf()), project_dir: None });
    let status = invoke(&h, "start_emulator", json!({})).unwrap();
    assert_eq!(status["emulator"]["state"], "notInstalled");
    let error = &status["emulator"]["error"];
    assert_eq!(error["code"], "emulator_not_installed");
    assert!(error["message"].as_str().unwrap().contains("1.5.33"), "{error}");
    assert!(error["hint"].as_str().unwrap().contains("keyline-dev.sh setup"), "{error}");
    assert!(h.app.state::<Arc<Practice>>().emulator().settings().is_none());
}

/// ministack's MQTT listener binds every interface, so the live test runs in its own loopback-only network
/// namespace (`unshare -n`, as root) when it can; otherwise on the host if port 4566 is free; else it fails saying so.
/// A missing ministack is a failure that says how to install it.
#[test]
fn ministack_starts_on_loopback_and_stops() {
    let test = "ministack_starts_on_loopback_and_stops";
    assert!(
        project_dir().join(".venv/bin/ministack").is_file(),
        "ministack is not installed in {}/.venv: run `scripts/keyline-dev.sh setup` (or `.venv/bin/pip install ministack==1.5.33`)",
        project_dir().display()
    );
    let inside = std::env::var_os(IN_NETNS).is_some();
    let can_unshare = Command::new("unshare").args(["-n", "true"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if !inside && can_unshare {
        let status = Command::new("unshare")
            .args(["-n", "sh", "-c", r#"ip link set lo up && exec "$0" --exact "$1" --nocapture"#])
            .arg(std::env::current_exe().unwrap())
            .arg(test)
            .env(IN_NETNS, "1")
            .status()
            .unwrap();
        assert!(status.success(), "the live emulator test failed inside its network namespace");
        return;
    }
    assert!(
        inside || TcpStream::connect(("127.0.0.1", 4566)).is_err(),
        "port 4566 is busy and no network namespace is available: run the test as root (for `unshare -n`) or stop the program on port 4566"
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let h = window_with(dir, data, true, EmulatorSource { venv: None, project_dir: Some(project_dir()) });
    let status = invoke(&h, "start_emulator", json!({})).unwrap();
    assert_eq!(status["emulator"]["state"], "starting");
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        let status = invoke(&h, "practice_status", json!({})).unwrap();
        if status["emulator"]["state"] != "starting" || Instant::now() > deadline {
            break status;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(status["emulator"]["state"], "running", "{status}");
    eprintln!("ministack running: {}", status["emulator"]);
    assert_eq!(status["emulator"]["endpointUrl"], "http://127.0.0.1:4566");
    assert_eq!(status["emulator"]["mqttAddress"], "127.0.0.1:8883");
    assert!(TcpStream::connect(("127.0.0.1", 4566)).is_ok(), "the API answers on loopback");
    let settings = h.app.state::<Arc<Practice>>().emulator().settings().expect("settings point at the running emulator");
    assert!(settings.emulator && settings.endpoint_url.as_deref() == Some("http://127.0.0.1:4566"));

    let status = invoke(&h, "stop_emulator", json!({})).unwrap();
    assert_eq!(status["emulator"]["state"], "off");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", 4566)).is_ok() {
        assert!(Instant::now() < deadline, "ministack still listens after stop");
        std::thread::sleep(Duration::from_millis(100));
    }
}
