//! CHANGE_BAUDRATE over a real pty: the ROM replies at the old rate and then listens only at the
//! new one; a host that keeps talking at the old rate (or asks for a rate it never sets) gets silence.

use keyline_sim::board::uart;
use keyline_sim::firmware::slip::{encode, Decoder};
use keyline_sim::transport::PtyBoard;
use keyline_sim::{Board, BoardConfig, FirmwareKind};
use serialport::SerialPort;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

const READ_REG: u8 = 0x0A;
const SYNC: u8 = 0x08;
const CHANGE_BAUDRATE: u8 = 0x0F;
const CHIP_DETECT_MAGIC_REG: u32 = 0x4000_1000;

fn rom_board() -> PtyBoard {
    let board = Board::new(BoardConfig { firmware: FirmwareKind::Rom, derive_templates: true, ..BoardConfig::default() }).unwrap();
    PtyBoard::spawn(board).unwrap()
}

fn request(op: u8, values: &[u32]) -> Vec<u8> {
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut frame = vec![0x00, op];
    frame.extend((data.len() as u16).to_le_bytes());
    frame.extend([0u8; 4]);
    frame.extend(data);
    encode(&frame)
}

fn sync_request() -> Vec<u8> {
    let mut frame = vec![0x00, SYNC, 36, 0, 0, 0, 0, 0, 0x07, 0x07, 0x12, 0x20];
    frame.extend([0x55; 32]);
    encode(&frame)
}

/// Sends `bytes`, then collects response frames for `op` until `wait` passed.
fn exchange(port: &mut serialport::TTYPort, bytes: &[u8], op: u8, wait: Duration) -> Vec<Vec<u8>> {
    port.write_all(bytes).unwrap();
    let mut decoder = Decoder::default();
    let mut frames = Vec::new();
    let mut buf = [0u8; 512];
    let start = Instant::now();
    while start.elapsed() < wait {
        if let Ok(n) = port.read(&mut buf) {
            frames.extend(decoder.feed(&buf[..n]).into_iter().filter(|f| f.len() >= 2 && f[0] == 0x01 && f[1] == op));
            if op != SYNC && !frames.is_empty() {
                break;
            }
        }
    }
    frames
}

fn magic(port: &mut serialport::TTYPort) -> Option<u32> {
    let frames = exchange(port, &request(READ_REG, &[CHIP_DETECT_MAGIC_REG]), READ_REG, Duration::from_millis(600));
    frames.first().map(|f| u32::from_le_bytes([f[4], f[5], f[6], f[7]]))
}

fn synced_port(pty: &PtyBoard) -> serialport::TTYPort {
    let mut port = serialport::new(pty.path().to_string_lossy(), 115_200).timeout(Duration::from_millis(50)).open_native().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    port.clear(serialport::ClearBuffer::Input).unwrap();
    assert!(!exchange(&mut port, &sync_request(), SYNC, Duration::from_millis(300)).is_empty(), "SYNC answered");
    port
}

#[test]
fn a_host_that_keeps_the_old_rate_after_change_baudrate_gets_silence() {
    let pty = rom_board();
    let mut port = synced_port(&pty);
    assert_eq!(magic(&mut port), Some(0x00F0_1D83), "at 115200 before the change");

    let reply = exchange(&mut port, &request(CHANGE_BAUDRATE, &[460_800, 0]), CHANGE_BAUDRATE, Duration::from_millis(600));
    assert_eq!(reply.len(), 1, "the reply comes at the old rate");
    assert_eq!(magic(&mut port), None, "a command still sent at 115200 is noise to a ROM at ~460800");

    port.set_baud_rate(460_800).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    port.clear(serialport::ClearBuffer::Input).unwrap();
    assert_eq!(magic(&mut port), Some(0x00F0_1D83), "the host that follows the change is answered");
}

#[test]
fn a_rate_the_rom_cannot_reach_leaves_the_host_alone() {
    // A host computing the request from calibration registers it could not read asks for 0 (what
    // esptool does when RTCCALICFG1 reads 0): the ROM's divider saturates and nobody hears it again.
    let pty = rom_board();
    let mut port = synced_port(&pty);
    let reply = exchange(&mut port, &request(CHANGE_BAUDRATE, &[0, 0]), CHANGE_BAUDRATE, Duration::from_millis(600));
    assert_eq!(reply.len(), 1);
    for rate in [115_200, 460_800] {
        port.set_baud_rate(rate).unwrap();
        assert_eq!(magic(&mut port), None, "at {rate}");
    }
    assert!(uart::rom_changed_rate(0) < 100);
}

#[test]
fn a_host_more_than_three_percent_off_the_changed_rate_gets_silence() {
    // Asking for 921600 uncompensated lands the ROM 1.3 % low; a host 4 % off that is not understood.
    let pty = rom_board();
    let mut port = synced_port(&pty);
    exchange(&mut port, &request(CHANGE_BAUDRATE, &[921_600, 0]), CHANGE_BAUDRATE, Duration::from_millis(600));
    let board_rate = uart::rom_changed_rate(921_600);
    port.set_baud_rate(board_rate * 104 / 100).unwrap();
    assert_eq!(magic(&mut port), None);
    port.set_baud_rate(921_600).unwrap();
    assert_eq!(magic(&mut port), Some(0x00F0_1D83), "1.3 % off is inside the tolerance");
}
