//! The real `esptool` (PyPI, pinned in the project venv) against the simulated ESP32 ROM loader.
//!
//! Install the peer with `/work/main/.venv/bin/pip install esptool==4.8.1` (or set `KEYLINE_ESPTOOL`
//! to an `esptool.py` of that version, or `KEYLINE_VENV` to the venv). A missing peer is a failure.

use keyline_sim::transport::PtyBoard;
use keyline_sim::{Board, BoardConfig, FirmwareKind};
use std::path::{Path, PathBuf};
use std::process::Command;

const PINNED: &str = "esptool==4.8.1";

/// The pinned esptool: `KEYLINE_ESPTOOL`, else `$KEYLINE_VENV/bin/esptool.py`, else the repository's
/// `.venv`. A missing peer fails the test with how to install it (tests never pass by skipping).
fn esptool() -> Option<PathBuf> {
    let venv = std::env::var_os("KEYLINE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv"));
    let path = std::env::var_os("KEYLINE_ESPTOOL").map(PathBuf::from).unwrap_or_else(|| venv.join("bin/esptool.py"));
    assert!(
        path.exists(),
        "esptool not found at {}: install the pinned peer with `python3 -m venv .venv && .venv/bin/pip install {PINNED}` \
         (or set KEYLINE_VENV / KEYLINE_ESPTOOL)",
        path.display()
    );
    Some(path)
}

/// Runs esptool against `port` without the stub and without DTR/RTS resets (PTYs have no modem lines).
fn run(esptool: &Path, port: &Path, args: &[&str]) -> String {
    run_at(esptool, port, 115_200, args)
}

/// Like `run`, with `--baud`: above 115200 esptool sends CHANGE_BAUDRATE after connecting.
fn run_at(esptool: &Path, port: &Path, baud: u32, args: &[&str]) -> String {
    let out = Command::new(esptool)
        .args(["--chip", "auto", "--no-stub", "--baud", &baud.to_string(), "--port"])
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
        derive_templates: true,
        ..BoardConfig::default()
    })
    .unwrap();
    PtyBoard::spawn(board).unwrap()
}

#[test]
fn esptool_detects_writes_and_verifies_flash() {
    let Some(esptool) = esptool() else { return };
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

#[test]
fn esptool_changes_the_rate_to_460800_and_writes_the_flash() {
    let Some(esptool) = esptool() else { return };
    let dir = tempfile::tempdir().unwrap();
    let pty = rom_board(&dir.path().join("board-0"));

    // esptool reads the ROM's crystal estimate (RTCCALICFG1, eFuse CK8M_FREQ) and asks for a
    // compensated rate, so the ROM's UART lands on 460800 although its estimate is 1.3 % high.
    let mac = run_at(&esptool, pty.path(), 460_800, &["read_mac"]);
    assert!(mac.contains("Changing baud rate to 460800\nChanged.") && mac.contains("MAC: "), "{mac}");
    let rate = pty.board().lock().unwrap().hardware().baud;
    assert!(rate.abs_diff(460_800) < 100, "the ROM runs at {rate}");

    let image: Vec<u8> = (0..40_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 17) as u8).collect();
    let file = dir.path().join("app.bin");
    std::fs::write(&file, &image).unwrap();
    let written = run_at(&esptool, pty.path(), 460_800, &["write_flash", "0x20000", file.to_str().unwrap()]);
    assert!(written.contains("Changed.") && written.contains("Hash of data verified."), "{written}");
    assert_eq!(pty.board().lock().unwrap().hardware().flash.read(0x20000, image.len()).unwrap(), &image[..]);
}

/// A minimal ESP32 RAM app image (esptool format): a DRAM data segment and an IRAM code segment
/// holding the entry point, no appended hash.
fn ram_image(entry: u32, segments: &[(u32, &[u8])]) -> Vec<u8> {
    let mut image = vec![0xE9, segments.len() as u8, 0x02, 0x20];
    image.extend(entry.to_le_bytes());
    image.extend([0xEE, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0]);
    let mut checksum = 0xEFu8;
    for (load, code) in segments {
        image.extend(load.to_le_bytes());
        image.extend((code.len() as u32).to_le_bytes());
        image.extend_from_slice(code);
        checksum = code.iter().fold(checksum, |acc, b| acc ^ b);
    }
    while image.len() % 16 != 15 {
        image.push(0);
    }
    image.push(checksum);
    image
}

#[test]
fn esptool_load_ram_starts_the_helper() {
    let Some(esptool) = esptool() else { return };
    let dir = tempfile::tempdir().unwrap();
    let pty = rom_board(&dir.path().join("board-0"));
    let file = dir.path().join("helper.bin");
    std::fs::write(&file, ram_image(0x4008_0400, &[(0x3FFB_0000, &[0x11; 64]), (0x4008_0000, &[0x5A; 0x800])])).unwrap();
    let loaded = run(&esptool, pty.path(), &["load_ram", file.to_str().unwrap()]);
    assert!(loaded.contains("All segments done, executing at 40080400"), "{loaded}");

    let mut port = serialport::new(pty.path().to_string_lossy(), 115_200)
        .timeout(std::time::Duration::from_millis(200))
        .open_native()
        .unwrap();
    use std::io::{Read, Write};
    // A correct host: reopen at 115200 at once, wait for the prompt (the helper boots ~300 ms), answer.
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    let start = std::time::Instant::now();
    while !got.ends_with(b"Initializing Command line: >>") && start.elapsed() < std::time::Duration::from_secs(3) {
        if let Ok(n) = port.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    assert!(got.ends_with(b"Initializing Command line: >>"), "{}", String::from_utf8_lossy(&got));
    port.write_all(b"version").unwrap();
    let start = std::time::Instant::now();
    while !got.ends_with(b"\n>>\n") && start.elapsed() < std::time::Duration::from_secs(3) {
        if let Ok(n) = port.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    assert!(got.ends_with(b"v1.2.0\n\n>>\n"), "{}", String::from_utf8_lossy(&got));
}
