//! The real `esptool` (PyPI, pinned in the project venv) against the simulated ESP32 ROM loader.
//!
//! Install the peer with `/work/main/.venv/bin/pip install esptool==4.8.1` (or set `KEYLINE_ESPTOOL`
//! to an `esptool.py` of that version, or `KEYLINE_VENV` to the venv holding it). Without it these tests fail
//! saying how to install it.

use keyline_sim::transport::PtyBoard;
use keyline_sim::{Board, BoardConfig, FirmwareKind};
use std::path::{Path, PathBuf};
use std::process::Command;

const PINNED: &str = "esptool==4.8.1";

fn esptool() -> PathBuf {
    let path = std::env::var_os("KEYLINE_ESPTOOL")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("KEYLINE_VENV").filter(|v| !v.is_empty()).map(|venv| PathBuf::from(venv).join("bin/esptool.py")))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/esptool.py"));
    assert!(
        path.exists(),
        "esptool not found at {}: install the pinned peer with `scripts/keyline-dev.sh setup` \
         (or `python3 -m venv .venv && .venv/bin/pip install {PINNED}` in the repository root), or set KEYLINE_ESPTOOL",
        path.display()
    );
    path
}

/// Runs esptool against `port` without the stub and without DTR/RTS resets (PTYs have no modem lines).
fn run(esptool: &Path, port: &Path, args: &[&str]) -> String {
    let out = Command::new(esptool)
        .args(["--chip", "auto", "--no-stub", "--port"])
        .arg(port)
        .args(["--before", "no_reset", "--after", "no_reset"])
        .args(args)
        .output()
        .expect("esptool runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "esptool {args:?} failed:\n{text}");
    text
}

fn rom_board(state_dir: &Path) -> PtyBoard {
    let board = Board::new(BoardConfig {
        firmware: FirmwareKind::Rom,
        state_dir: Some(state_dir.to_path_buf()),
        ..BoardConfig::default()
    })
    .unwrap();
    PtyBoard::spawn(board).unwrap()
}

#[test]
fn esptool_detects_writes_and_verifies_flash() {
    let esptool = esptool();
    let dir = tempfile::tempdir().unwrap();
    let pty = rom_board(&dir.path().join("board-0"));
    let mac = pty.board().lock().unwrap().hardware().mac;

    let chip = run(&esptool, pty.path(), &["chip_id"]);
    assert!(chip.contains("Detecting chip type... ESP32"), "{chip}");
    assert!(chip.contains("Chip is ESP32-D0WD-V3 (revision v3.0)"), "an ECO3 module: {chip}");
    let mac_text = mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":");
    assert!(chip.contains(&format!("MAC: {mac_text}")), "{chip}");

    let image: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let file = dir.path().join("app.bin");
    std::fs::write(&file, &image).unwrap();
    let file_arg = file.to_str().unwrap();
    let written = run(&esptool, pty.path(), &["write_flash", "0x10000", file_arg]);
    assert!(written.contains("Hash of data verified."), "{written}");
    let verified = run(&esptool, pty.path(), &["verify_flash", "0x10000", file_arg]);
    assert!(verified.contains("-- verify OK (digest matched)"), "{verified}");
    assert_eq!(pty.board().lock().unwrap().hardware().flash.read(0x10000, image.len()).unwrap(), &image[..]);

    // The flash survives a restart of the simulator.
    drop(pty);
    let pty = rom_board(&dir.path().join("board-0"));
    let verified = run(&esptool, pty.path(), &["verify_flash", "0x10000", file_arg]);
    assert!(verified.contains("-- verify OK (digest matched)"), "{verified}");
}

/// A minimal ESP32 app image (esptool format, one RAM segment, no appended hash).
fn ram_image(entry: u32, load: u32, code: &[u8]) -> Vec<u8> {
    let mut image = vec![0xE9, 1, 0x02, 0x20];
    image.extend(entry.to_le_bytes());
    image.extend([0xEE, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0]);
    image.extend(load.to_le_bytes());
    image.extend((code.len() as u32).to_le_bytes());
    image.extend_from_slice(code);
    while image.len() % 16 != 15 {
        image.push(0);
    }
    image.push(code.iter().fold(0xEF, |acc, b| acc ^ b));
    image
}

#[test]
fn esptool_load_ram_starts_the_helper() {
    let esptool = esptool();
    let dir = tempfile::tempdir().unwrap();
    let pty = rom_board(&dir.path().join("board-0"));
    let file = dir.path().join("helper.bin");
    std::fs::write(&file, ram_image(0x4008_0400, 0x4008_0000, &[0x5A; 256])).unwrap();
    let loaded = run(&esptool, pty.path(), &["load_ram", file.to_str().unwrap()]);
    assert!(loaded.contains("All segments done, executing at 40080400"), "{loaded}");

    let mut port = serialport::new(pty.path().to_string_lossy(), 115_200)
        .timeout(std::time::Duration::from_millis(200))
        .open_native()
        .unwrap();
    use std::io::{Read, Write};
    port.write_all(b"version").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    let start = std::time::Instant::now();
    while !got.ends_with(b"\n>>\n") && start.elapsed() < std::time::Duration::from_secs(3) {
        if let Ok(n) = port.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    assert!(got.ends_with(b"v1.2.0\n\n>>\n"), "{}", String::from_utf8_lossy(&got));
}
