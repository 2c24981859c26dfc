//! `keyline sim`: boards on pseudo-terminals, listed in `<data_dir>/sim/boards.json`, stopped by Ctrl-C.
#![cfg(feature = "sim")]

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn keyline_sim_publishes_boards_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyline"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["sim", "--boards", "2", "--firmware", "rom", "--derive-templates", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut json = String::new();
    while !json.ends_with("]\n") {
        assert!(stdout.read_line(&mut json).unwrap() > 0, "keyline sim ended early: {json}");
    }
    let ports: serde_json::Value = serde_json::from_str(&json).unwrap();
    let ports = ports.as_array().unwrap();
    assert_eq!(ports.len(), 2);
    assert_eq!(ports[1]["label"], "Simulated board 2");
    assert_eq!(ports[0]["firmware"], "rom");
    let list_file = dir.path().join("sim").join("boards.json");
    let listed: serde_json::Value = serde_json::from_slice(&std::fs::read(&list_file).unwrap()).unwrap();
    assert_eq!(listed.as_array().unwrap(), ports);

    // A board's output reaches only a host that has its port open: open it, then reset the board into
    // download mode through the reset FIFO that boards.json names; the ROM banner follows.
    let path = ports[0]["path"].as_str().unwrap().to_string();
    let fifo = ports[0]["reset"].as_str().expect("boards.json names each board's reset FIFO").to_string();
    let (tx, rx) = mpsc::channel();
    let (opened_tx, opened) = mpsc::channel();
    std::thread::spawn(move || {
        let mut tty = std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
        opened_tx.send(()).unwrap();
        let mut buf = [0u8; 512];
        let n = tty.read(&mut buf).unwrap_or(0);
        let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
    });
    opened.recv_timeout(Duration::from_secs(5)).expect("the port opens");
    // The ROM talks at 115200; a host at another line rate would read only framing errors.
    let stty = Command::new("stty").args(["-F", ports[0]["path"].as_str().unwrap(), "115200", "raw", "-echo"]).status().unwrap();
    assert!(stty.success(), "stty sets the line rate");
    std::io::Write::write_all(&mut std::fs::OpenOptions::new().write(true).open(&fifo).unwrap(), b"download\n").unwrap();
    let banner = rx.recv_timeout(Duration::from_secs(5)).expect("the board talks after its reset");
    assert!(banner.contains("waiting for download"), "{banner}");

    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let start = std::time::Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "keyline sim did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "clean exit on Ctrl-C: {exit:?}");
    assert!(!list_file.exists(), "boards.json is removed when the simulator stops");
    assert!(dir.path().join("sim/board-0/chip.json").exists(), "chip state stays for the next run");
}
