//! The real `espflash` 4 library (no stub), as the station uses it, against the simulated ROM loader.

mod common;

use espflash::connection::{Connection, ResetAfterOperation, ResetBeforeOperation};
use espflash::flasher::Flasher;
use espflash::target::{Chip, DefaultProgressCallback};
use keyline_sim::transport::PtyBoard;
use keyline_sim::{Board, BoardConfig, FirmwareKind};
use md5::Digest;

fn connect(pty: &PtyBoard, before: ResetBeforeOperation, chip: Option<Chip>) -> Flasher {
    connect_at(pty, before, chip, None)
}

/// Connects at 115200, then (with `baud`) has espflash send CHANGE_BAUDRATE and follow it.
fn connect_at(pty: &PtyBoard, before: ResetBeforeOperation, chip: Option<Chip>, baud: Option<u32>) -> Flasher {
    let port = serialport::new(pty.path().to_string_lossy(), 115_200)
        .flow_control(serialport::FlowControl::None)
        .open_native()
        .unwrap();
    let info = serialport::UsbPortInfo { vid: 0, pid: 0, serial_number: None, manufacturer: None, product: None };
    let connection = Connection::new(port, info, ResetAfterOperation::NoResetNoStub, before, 115_200);
    Flasher::connect(connection, false, true, false, chip, baud).expect("espflash connects to the simulated ROM")
}

fn rom_board() -> PtyBoard {
    let board = Board::new(BoardConfig { firmware: FirmwareKind::Rom, derive_templates: true, ..BoardConfig::default() }).unwrap();
    PtyBoard::spawn(board).unwrap()
}

#[test]
fn espflash_detects_flashes_verifies_and_the_board_boots_the_image() {
    let pty = rom_board();
    let mut flasher = connect(&pty, ResetBeforeOperation::NoReset, None);
    assert_eq!(flasher.chip(), Chip::Esp32, "detected through the GET_SECURITY_INFO fallback and the magic register");
    let mac = pty.board().lock().unwrap().hardware().mac;
    let info = flasher.device_info().unwrap();
    assert_eq!(info.mac_address, Some(mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")));

    let mut image: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_246_822_519) >> 11) as u8).collect();
    image[0] = 0xE9;
    // verify = true: espflash checks SPI_FLASH_MD5 itself, then FLASH_END leaves the loader. The
    // board boots only with a bootloader and a partition table beside the app.
    flasher.write_bin_to_flash(0x1000, &common::bootloader_image(), &mut DefaultProgressCallback).unwrap();
    drop(flasher);
    pty.reset(true);
    let mut flasher = connect(&pty, ResetBeforeOperation::NoReset, Some(Chip::Esp32));
    flasher.write_bin_to_flash(0x8000, &common::partition_table(0x10000), &mut DefaultProgressCallback).unwrap();
    drop(flasher);
    pty.reset(true);
    let mut flasher = connect(&pty, ResetBeforeOperation::NoReset, Some(Chip::Esp32));
    flasher.write_bin_to_flash(0x10000, &image, &mut DefaultProgressCallback).unwrap();
    drop(flasher);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(pty.board().lock().unwrap().hardware().flash.read(0x10000, image.len()).unwrap(), &image[..]);
    assert_eq!(pty.board().lock().unwrap().running(), Some(FirmwareKind::Rainbowtype), "the flashed app runs");
    assert!(pty.board().lock().unwrap().booting(), "and is still booting");

    // Back into download mode (what an IO0 + EN pulse does) and read the MD5 again.
    pty.reset(true);
    let mut flasher = connect(&pty, ResetBeforeOperation::NoReset, Some(Chip::Esp32));
    let md5 = flasher.checksum_md5(0x10000, image.len() as u32).unwrap();
    assert_eq!(md5.to_be_bytes(), <[u8; 16]>::from(md5::Md5::digest(&image)));
}

#[test]
fn espflash_without_sync_and_with_a_known_chip() {
    let pty = rom_board();
    let mut flasher = connect(&pty, ResetBeforeOperation::NoResetNoSync, Some(Chip::Esp32));
    flasher.write_bin_to_flash(0x20000, &[0x42; 1000], &mut DefaultProgressCallback).unwrap();
    drop(flasher);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(pty.board().lock().unwrap().hardware().flash.read(0x20000, 1000).unwrap(), &[0x42; 1000][..]);
    assert_eq!(pty.board().lock().unwrap().running(), None, "no app image at 0x10000: the board does not boot");
}

#[test]
fn espflash_changes_the_rate_to_460800_and_writes_the_flash() {
    let pty = rom_board();
    // espflash asks the ESP32 ROM for 460800 as is; the ROM's 1.3 % high crystal estimate puts its
    // UART 1.3 % low, still inside the 8N1 tolerance.
    let mut flasher = connect_at(&pty, ResetBeforeOperation::NoReset, Some(Chip::Esp32), Some(460_800));
    let rate = pty.board().lock().unwrap().hardware().baud;
    assert!((450_000..460_000).contains(&rate), "the ROM runs at {rate}");
    let image: Vec<u8> = (0..40_000u32).map(|i| (i.wrapping_mul(2_246_822_519) >> 19) as u8).collect();
    flasher.write_bin_to_flash(0x20000, &image, &mut DefaultProgressCallback).unwrap();
    drop(flasher);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(pty.board().lock().unwrap().hardware().flash.read(0x20000, image.len()).unwrap(), &image[..]);
}
