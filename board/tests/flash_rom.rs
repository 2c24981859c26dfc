//! Flashing and RAM-loading simulated boards through their reset FIFO and ROM loader (espflash, no stub).

mod common;

use std::sync::{Arc, Mutex};

use common::images::{app, bootloader, table};
use keyline_board::flash::{ConnectOptions, FlashError, FlashImage, FlashPhase, FlashPlan, RamImage, RomSession};
use keyline_board::{CancelToken, EspHelper, ProvisioningFirmware, ResetStrategy, SerialLink, SystemClock};
use keyline_sim::transport::PtyBoard;
use keyline_sim::{Board, BoardConfig, FirmwareKind};

/// A board on a pty with a reset FIFO, running `firmware`, its state in `dir`.
fn board(dir: &std::path::Path, firmware: FirmwareKind) -> PtyBoard {
    let config = BoardConfig { firmware, derive_templates: true, state_dir: Some(dir.join("board-0")), ..BoardConfig::default() };
    PtyBoard::spawn_with_reset(Board::new(config).unwrap(), Some(dir.join("reset"))).unwrap()
}

fn options(pty: &PtyBoard, baud: u32) -> ConnectOptions {
    ConnectOptions { baud, reset: ResetStrategy::SimulatorFifo(pty.reset_path().unwrap().to_path_buf()) }
}

fn connect(pty: &PtyBoard, baud: u32, cancel: CancelToken) -> Result<RomSession, FlashError> {
    RomSession::connect(&pty.path().to_string_lossy(), &options(pty, baud), Arc::new(SystemClock), cancel)
}

fn img(name: &str, offset: u32, bytes: Vec<u8>) -> FlashImage {
    FlashImage { name: name.into(), offset, bytes }
}

fn flash_of(pty: &PtyBoard, offset: usize, len: usize) -> Vec<u8> {
    pty.board().lock().unwrap().hardware().flash.read(offset, len).unwrap().to_vec()
}

#[test]
fn an_app_board_is_reset_into_the_loader_flashed_verified_and_boots_the_images() {
    let dir = tempfile::tempdir().unwrap();
    // The board runs an app: only the reset FIFO gets it into the ROM loader.
    let pty = board(dir.path(), FirmwareKind::Rainbowtype);
    let mut session = connect(&pty, 460_800, CancelToken::new()).expect("connects");
    assert_eq!(session.info().chip, "esp32");
    // Like esptool, Keyline scales its CHANGE_BAUDRATE request by the ROM's own crystal estimate,
    // so the loader's UART lands on 460800 rather than 1.3 % low.
    let rate = pty.board().lock().unwrap().hardware().baud;
    assert!(rate.abs_diff(460_800) < 100, "the ROM runs at {rate}");
    assert_eq!(session.info().flash_bytes, Some(4 * 1024 * 1024));
    let images = vec![img("app.bin", 0x10000, app(0, 20_000)), img("bl.bin", 0x1000, bootloader()), img("pt.bin", 0x8000, table())];
    let plan = FlashPlan::validate(images.clone(), &session.target(None)).expect("valid plan");
    let mut seen = Vec::new();
    let summary = session.write(&plan, &mut |p| seen.push(p.clone())).expect("written and verified");
    session.boot().unwrap();
    let total: u64 = images.iter().map(|i| i.bytes.len() as u64).sum();
    assert_eq!(summary.bytes, total);
    let writes: Vec<u64> = seen.iter().filter(|p| p.phase == FlashPhase::Writing).map(|p| p.done).collect();
    assert!(writes.windows(2).all(|w| w[0] < w[1]), "progress in bytes only grows");
    assert_eq!(writes.last(), Some(&total), "progress ends at the byte total");
    assert!(seen.iter().all(|p| p.total == total));
    assert_eq!(seen.iter().filter(|p| p.phase == FlashPhase::Verifying).count(), 3);
    for image in &images {
        assert_eq!(flash_of(&pty, image.offset as usize, image.bytes.len()), image.bytes, "{} is in flash at {:#x}", image.name, image.offset);
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(pty.board().lock().unwrap().running(), Some(FirmwareKind::Rainbowtype), "FLASH_END boots the written app");
}

#[test]
fn refused_images_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let pty = board(dir.path(), FirmwareKind::Rom);
    let session = connect(&pty, 115_200, CancelToken::new()).unwrap();
    let target = session.target(None);
    let mut bad_magic = app(0, 100);
    bad_magic[0] = 0xE8;
    let mut bad_hash = app(0, 100);
    let last = bad_hash.len() - 1;
    bad_hash[last] ^= 1;
    let cases = [
        (app(0, 100), 0x10000, ""),
        (bad_magic, 0x10000, "bad_image"),
        (bad_hash, 0x10000, "bad_image"),
        (app(9, 100), 0x10000, "wrong_chip"),
        (app(0, 0x10000), 0x10000, "does_not_fit"),
        (vec![1; 0x2000], 0x3FF000, "does_not_fit"), // past the detected 4 MiB
    ];
    for (bytes, offset, code) in cases {
        let mut images = vec![img("pt.bin", 0x8000, table()), img("x.bin", offset, bytes)];
        if code.is_empty() {
            images.pop();
        }
        match FlashPlan::validate(images, &target) {
            Ok(_) => assert!(code.is_empty()),
            Err(refusal) => assert_eq!(refusal.code(), code, "{refusal}"),
        }
    }
    drop(session);
    assert!(flash_of(&pty, 0, 4 * 1024 * 1024).iter().all(|&b| b == 0xFF), "nothing reached the board");
}

#[test]
fn a_board_that_is_not_a_rom_loader_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let pty = board(dir.path(), FirmwareKind::EspHelper);
    let no_reset = ConnectOptions { baud: 115_200, reset: ResetStrategy::None };
    let err = RomSession::connect(&pty.path().to_string_lossy(), &no_reset, Arc::new(SystemClock), CancelToken::new()).unwrap_err();
    assert_eq!(err.code(), "not_rom_loader", "{err}");
    assert!(err.to_string().contains("is not an ESP ROM loader"), "{err}");
    let err = RomSession::connect("/nonexistent/ttyUSB9", &no_reset, Arc::new(SystemClock), CancelToken::new()).unwrap_err();
    assert_eq!(err.code(), "port_open", "{err}");
}

#[test]
fn a_board_vanishing_mid_write_is_reported_and_cancel_stops_between_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let pty = board(dir.path(), FirmwareKind::Rom);
    let path = pty.path().to_string_lossy().into_owned();
    let mut session = connect(&pty, 115_200, CancelToken::new()).unwrap();
    let plan = FlashPlan::validate(vec![img("pt.bin", 0x8000, table()), img("app.bin", 0x10000, app(0, 30_000))], &session.target(None)).unwrap();
    let holder = Arc::new(Mutex::new(Some(pty)));
    let start = std::time::Instant::now();
    let err = session
        .write(&plan, &mut |p| {
            if p.done > 8_000 {
                holder.lock().unwrap().take(); // the board is unplugged
            }
        })
        .unwrap_err();
    assert_eq!(err.code(), "board_vanished", "{err}");
    assert!(err.to_string().contains(&path), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(15), "reported, not hung: {:?}", start.elapsed());

    let pty = board(dir.path(), FirmwareKind::Rom);
    let cancel = CancelToken::new();
    let mut session = connect(&pty, 115_200, cancel.clone()).unwrap();
    let err = session
        .write(&plan, &mut |p| {
            if p.done >= 4096 {
                cancel.cancel();
            }
        })
        .unwrap_err();
    assert_eq!(err, FlashError::Cancelled { written: 4096 });
}

#[test]
fn the_published_helper_is_ram_loaded_and_answers_its_handshake() {
    let helper = common::helper_bin::esp32_helper();
    let bytes = std::fs::read(&helper).unwrap();
    let image = RamImage::parse("secure_cert_mfg_esp32.bin", &bytes, |_, addr| (0x3F40_0000..0x3F80_0000).contains(&addr) || (0x400D_0000..0x4040_0000).contains(&addr)).unwrap();
    assert_eq!(image.segments.len(), 4);
    assert_eq!(image.entry, 0x4008_21A8);

    let dir = tempfile::tempdir().unwrap();
    let pty = board(dir.path(), FirmwareKind::Rom);
    let session = connect(&pty, 460_800, CancelToken::new()).unwrap();
    let mut last = 0;
    let port = session.load_ram(&image, &mut |p| last = p.done).expect("loaded and started");
    assert_eq!(last, image.total_bytes());
    let link = SerialLink::from_port(Box::new(port), &pty.path().to_string_lossy(), Arc::new(SystemClock), CancelToken::new());
    let mut driver = EspHelper::new(link);
    let hello = driver.handshake().expect("the RAM-loaded helper answers at 115200");
    assert!(hello.version.is_some(), "{hello:?}");
    assert_eq!(pty.board().lock().unwrap().running(), Some(FirmwareKind::EspHelper));
}
