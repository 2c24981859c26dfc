//! `run_boards`: N boards on ptys, the published `boards.json`, restarts that keep chip state.

mod common;

use keyline_sim::{read_boards_file, run_boards, FirmwareKind, SimConfig, SimPort};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// The lenient derived-template build (these tests do not provision).
fn derived(mut config: SimConfig) -> SimConfig {
    config.derive_templates = true;
    config
}

fn serial_over_port(port: &SimPort) -> Vec<u8> {
    let mut tty = serialport::new(port.path.to_string_lossy(), 115_200)
        .timeout(Duration::from_millis(100))
        .open_native()
        .unwrap();
    let mut boot = Vec::new();
    let mut buf = [0u8; 2048];
    let start = Instant::now();
    while !common::normalise(&boot).contains("Config Zone data:") && start.elapsed() < Duration::from_secs(2) {
        if let Ok(n) = tty.read(&mut buf) {
            boot.extend_from_slice(&buf[..n]);
        }
    }
    std::thread::sleep(Duration::from_millis(100));
    let _ = tty.read(&mut buf);
    tty.write_all(b"s").unwrap();
    let mut serial = Vec::new();
    let start = Instant::now();
    while serial.len() < 18 && start.elapsed() < Duration::from_secs(2) {
        if let Ok(n) = tty.read(&mut buf) {
            serial.extend_from_slice(&buf[..n]);
        }
    }
    serial
}

#[test]
fn boards_are_published_and_keep_their_chips_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("sim");
    let handle = run_boards(derived(SimConfig::new(2, FirmwareKind::Rainbowtype, state_dir.clone()))).unwrap();
    let listed = read_boards_file(&state_dir.join("boards.json")).unwrap();
    assert_eq!(listed, handle.ports());
    assert_eq!(listed[1].label, "Simulated board 2");
    assert_eq!(listed[0].firmware, FirmwareKind::Rainbowtype);
    let first = serial_over_port(&listed[0]);
    let second = serial_over_port(&listed[1]);
    assert_eq!(first.len(), 18);
    assert_ne!(first, second, "every board has its own chip");
    drop(handle);
    assert!(!state_dir.join("boards.json").exists(), "the list disappears with the simulator");

    let handle = run_boards(derived(SimConfig::new(2, FirmwareKind::Rainbowtype, state_dir.clone()))).unwrap();
    assert_eq!(serial_over_port(&handle.ports()[0]), first, "chip state survives a simulator restart");
}

#[test]
fn board_counts_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run_boards(SimConfig::new(0, FirmwareKind::Rom, dir.path().to_path_buf())).is_err());
    assert!(run_boards(SimConfig::new(65, FirmwareKind::Rom, dir.path().to_path_buf())).is_err());
}

#[test]
fn rainbowtype_boards_need_their_compiled_cert_chain_or_an_explicit_derived_build() {
    let dir = tempfile::tempdir().unwrap();
    let error = run_boards(SimConfig::new(1, FirmwareKind::Rainbowtype, dir.path().to_path_buf())).unwrap_err();
    assert!(matches!(error, keyline_sim::SimError::NoCertChain), "{error}");
    assert!(matches!(run_boards(SimConfig::new(1, FirmwareKind::Rom, dir.path().to_path_buf())), Err(keyline_sim::SimError::NoCertChain)));
    assert!(run_boards(SimConfig::new(1, FirmwareKind::EspHelper, dir.path().to_path_buf())).is_ok());
}

#[test]
fn the_handle_can_live_in_app_state() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<keyline_sim::SimHandle>();
}

/// Everything the port delivers within `window`.
fn read_window(tty: &mut serialport::TTYPort, window: Duration) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    let start = Instant::now();
    while start.elapsed() < window {
        if let Ok(n) = tty.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    got
}

#[test]
fn boot_output_is_lost_without_a_host_and_resets_come_through_the_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("sim");
    let handle = run_boards(derived(SimConfig::new(1, FirmwareKind::Rainbowtype, state_dir.clone()))).unwrap();
    let listed = read_boards_file(&state_dir.join("boards.json")).unwrap();
    let fifo = listed[0].reset.clone().expect("boards.json lists the reset FIFO");
    assert_eq!(fifo, state_dir.join("board-0").join("reset"));
    let board = handle.board(0).unwrap().board().clone();
    while board.lock().unwrap().booting() {
        std::thread::sleep(Duration::from_millis(20));
    }
    // The board booted while no host had the port open: its dump is gone (a USB-UART bridge).
    let mut tty = serialport::new(listed[0].path.to_string_lossy(), 115_200)
        .timeout(Duration::from_millis(50))
        .open_native()
        .unwrap();
    assert!(read_window(&mut tty, Duration::from_millis(300)).is_empty(), "nothing buffered for a late host");

    // Another process resets the board through the FIFO; a byte sent during the boot is lost.
    keyline_sim::request_reset(&fifo, false).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    tty.write_all(b"s").unwrap();
    let boot = common::normalise(&read_window(&mut tty, Duration::from_millis(1800)));
    assert!(boot.contains("rst:0x1 (POWERON_RESET)") && boot.contains("Config Zone data:"), "{boot}");
    assert!(!boot.contains("0123"), "the early `s` got no serial: {boot}");
    tty.write_all(b"s").unwrap();
    assert_eq!(read_window(&mut tty, Duration::from_millis(300)).len(), 18);

    keyline_sim::request_reset(&fifo, true).unwrap();
    let rom = common::normalise(&read_window(&mut tty, Duration::from_millis(300)));
    assert!(rom.contains("waiting for download"), "{rom}");
}
