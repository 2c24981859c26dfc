//! The drivers against simulated boards on real pseudo-terminals: handshake, lock, serial, key, uploads, refusals.

use std::sync::{Arc, Mutex};

use keyline_board::{open_driver, BoardErrorCode, CancelToken, CertUpload, Direction, FirmwareKind, ProvisioningFirmware, ResetStrategy, SystemClock};
use keyline_sim::transport::PtyBoard;
use keyline_sim::{Board, BoardConfig, FirmwareKind as SimFirmware};

fn board(firmware: SimFirmware) -> PtyBoard {
    spawn(Board::new(BoardConfig { firmware, derive_templates: true, ..BoardConfig::default() }).unwrap())
}

/// A strict simulated board with a reset FIFO in a fresh temporary directory (kept for the test's life).
fn spawn(sim: Board) -> PtyBoard {
    let dir = tempfile::tempdir().unwrap().keep();
    PtyBoard::spawn_with_reset(sim, Some(dir.join("reset"))).unwrap()
}

fn reset_of(pty: &PtyBoard) -> ResetStrategy {
    ResetStrategy::for_port(None, pty.reset_path())
}

fn driver(pty: &PtyBoard, kind: FirmwareKind) -> Box<dyn ProvisioningFirmware> {
    open_driver(kind, pty.path().to_str().unwrap(), &reset_of(pty), Arc::new(SystemClock), CancelToken::new(), None).unwrap()
}

#[test]
fn rainbowtype_driver_locks_reads_serial_and_key_and_logs_bytes() {
    let pty = board(SimFirmware::Rainbowtype);
    let log = Arc::new(Mutex::new((0usize, 0usize)));
    let sink = log.clone();
    let mut fw = open_driver(
        FirmwareKind::Rainbowtype,
        pty.path().to_str().unwrap(),
        &reset_of(&pty),
        Arc::new(SystemClock),
        CancelToken::new(),
        Some(Arc::new(move |dir, bytes: &[u8]| {
            let mut counts = sink.lock().unwrap();
            match dir {
                Direction::ToBoard => counts.0 += bytes.len(),
                Direction::FromBoard => counts.1 += bytes.len(),
            }
        })),
    )
    .unwrap();
    let hello = fw.handshake().unwrap();
    assert_eq!(hello.config_locked, Some(false));
    let lock = fw.configure_and_lock().unwrap();
    assert_eq!(lock.locked_now, Some(true));
    let serial = fw.read_serial().unwrap();
    assert_eq!(Some(serial), hello.serial);
    assert_eq!(&serial[..2], &[0x01, 0x23]);
    let key = fw.public_key(None).unwrap();
    assert!(key.csr_der.is_none());
    assert_eq!(pty.board().lock().unwrap().hardware().chip.get_pubkey(0).unwrap(), key.public_key);
    let stats = fw.link().stats();
    let counts = *log.lock().unwrap();
    assert_eq!((stats.bytes_out as usize, stats.bytes_in as usize), counts, "the byte log sees every byte");
}

#[test]
fn rainbowtype_uploads_are_echo_checked_but_junk_certificates_never_verify() {
    let pty = board(SimFirmware::Rainbowtype);
    let mut fw = driver(&pty, FirmwareKind::Rainbowtype);
    fw.handshake().unwrap();
    fw.configure_and_lock().unwrap();
    let upload = CertUpload {
        signer_der: vec![0x30; 300],
        device_der: vec![0x31; 320],
        root_public_key: [7; 64],
        device_cert_def: None,
        signer_cert_def: None,
    };
    let report = fw.write_certificates(&upload).unwrap();
    assert!(report.attempts >= 1 && report.attempts <= 3);
    let error = fw.verify(&upload).unwrap_err();
    assert_eq!(error.code(), BoardErrorCode::FirmwareFailure, "{error}");
}

#[test]
fn esp_helper_driver_handshakes_inits_and_gets_a_csr_for_the_chip_key() {
    let pty = board(SimFirmware::EspHelper);
    let mut fw = driver(&pty, FirmwareKind::EspHelper);
    let hello = fw.handshake().unwrap();
    assert_eq!(hello.version.as_deref(), Some("v1.2.0"));
    assert_eq!(fw.configure_and_lock().unwrap().chip_type, "TrustCustom");
    let serial = fw.read_serial().unwrap();
    assert_eq!(serial, pty.board().lock().unwrap().hardware().chip.serial());
    let key = fw.public_key(None).unwrap();
    assert!(key.generated);
    let csr = key.csr_der.unwrap();
    let mut point = vec![4u8];
    point.extend_from_slice(&key.public_key);
    assert!(csr.windows(65).any(|w| w == point.as_slice()), "the CSR carries the chip key");

    // A second host session that does not reset finds the helper at its command line and keeps the key.
    drop(fw);
    let mut again = open_driver(FirmwareKind::EspHelper, pty.path().to_str().unwrap(), &ResetStrategy::None, Arc::new(SystemClock), CancelToken::new(), None).unwrap();
    assert!(again.handshake().unwrap().resumed);
    again.configure_and_lock().unwrap();
    let kept = again.public_key(Some(&key.public_key)).unwrap();
    assert_eq!(kept.public_key, key.public_key);
    assert!(!kept.generated);
}

#[test]
fn each_driver_refuses_the_other_firmware() {
    let helper = board(SimFirmware::EspHelper);
    let error = driver(&helper, FirmwareKind::Rainbowtype).handshake().unwrap_err();
    assert_eq!(error.code(), BoardErrorCode::WrongFirmware, "{error}");
    let rainbow = board(SimFirmware::Rainbowtype);
    let error = driver(&rainbow, FirmwareKind::EspHelper).handshake().unwrap_err();
    assert_eq!(error.code(), BoardErrorCode::WrongFirmware, "{error}");
}

#[test]
fn a_chip_locked_with_a_foreign_configuration_is_refused_before_anything_is_sent() {
    let mut sim = Board::new(BoardConfig { derive_templates: true, ..BoardConfig::default() }).unwrap();
    let chip = &mut sim.hardware_mut().chip;
    let mut config = keyline_board::RAINBOWTYPE_CONFIG;
    config[20] = 0x83;
    chip.write_config_zone(&config).unwrap();
    chip.lock_zone(keyline_sim::atecc::Zone::Config).unwrap();
    let pty = spawn(sim);
    let mut fw = driver(&pty, FirmwareKind::Rainbowtype);
    let error = fw.handshake().unwrap_err();
    assert_eq!(error.code(), BoardErrorCode::ForeignConfig, "{error}");
    assert!(fw.link().stats().bytes_out == 0, "nothing was sent to the chip");
}

#[test]
fn the_port_list_picks_the_reset_strategy() {
    use std::path::Path;
    let fifo = Path::new("/tmp/sim/board-1/reset");
    assert_eq!(ResetStrategy::for_port(None, Some(fifo)), ResetStrategy::SimulatorFifo(fifo.to_path_buf()));
    assert_eq!(ResetStrategy::for_port(Some("303a:1001"), None), ResetStrategy::UsbJtag);
    assert_eq!(ResetStrategy::for_port(Some("10c4:ea60"), None), ResetStrategy::ClassicDtrRts);
    assert_eq!(ResetStrategy::for_port(None, None), ResetStrategy::None);
}

#[test]
fn a_strict_rainbowtype_board_opened_without_a_reset_shows_no_boot_dump_and_a_reset_brings_it() {
    let pty = board(SimFirmware::Rainbowtype);
    // Someone else saw the boot output: without a reset the driver gets no dump.
    drop(std::fs::File::open(pty.path()).unwrap());
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut link = keyline_board::SerialLink::open(pty.path().to_str().unwrap(), keyline_board::DEFAULT_BAUD, Arc::new(SystemClock), CancelToken::new()).unwrap();
    link.wait_quiet(std::time::Duration::from_millis(300), std::time::Duration::from_secs(2)).unwrap();
    assert!(!String::from_utf8_lossy(link.received()).contains("rst:"), "no boot output without a reset: {:?}", link.tail());
    reset_of(&pty).reset(&mut link, keyline_board::BootMode::Flash).unwrap();
    link.read_until("the boot banner", std::time::Duration::from_secs(5), |rx| String::from_utf8_lossy(rx).contains("rst:").then_some(())).unwrap();
    // Download mode shows the ROM's download banner.
    reset_of(&pty).reset(&mut link, keyline_board::BootMode::Download).unwrap();
    link.read_until("the download banner", std::time::Duration::from_secs(5), |rx| String::from_utf8_lossy(rx).contains("DOWNLOAD").then_some(())).unwrap();
}

#[test]
fn a_path_that_is_not_a_board_is_refused() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let error = open_driver(FirmwareKind::Rainbowtype, file.path().to_str().unwrap(), &ResetStrategy::None, Arc::new(SystemClock), CancelToken::new(), None).unwrap_err();
    assert_eq!(error.code(), BoardErrorCode::NotASerialPort);
    let error = open_driver(FirmwareKind::Rainbowtype, "/dev/null", &ResetStrategy::None, Arc::new(SystemClock), CancelToken::new(), None).unwrap_err();
    assert_eq!(error.code(), BoardErrorCode::NotASerialPort, "{error}");
}
