//! Conformance of the rainbowtype-provisioning2 emulation: exact bytes in and out.

mod common;

use common::{make_ca_chain, make_device_cert, normalise, openssl};
use keyline_sim::atecc::Zone;
use keyline_sim::{Board, BoardConfig, FaultSpec, FirmwareKind, Timing};

fn board() -> Board {
    Board::new(BoardConfig {
        index: 0,
        firmware: FirmwareKind::Rainbowtype,
        timing: Timing::Instant,
        realtime: false,
        faults: FaultSpec::default(),
        state_dir: None,
        derive_templates: true,
        ..BoardConfig::default()
    })
    .unwrap()
}

fn send(board: &mut Board, bytes: &[u8]) -> Vec<u8> {
    board.receive(bytes).output
}

/// Sends a PEM upload the way the reference host does: mode byte, then one chunk per line.
fn upload(board: &mut Board, mode: u8, pem: &str) {
    assert!(send(board, &[mode]).is_empty());
    for line in pem.split('\n') {
        assert!(send(board, format!("{line}\n").as_bytes()).is_empty());
    }
}

#[test]
fn boot_dump_shows_the_config_zone_and_serial() {
    let mut board = board();
    let boot = board.power_on();
    let text = normalise(&boot);
    let config = board.hardware().chip.read_config_zone();
    let dump_at = text.find("MAIN: Config Zone data:\n").expect("dump header");
    let lines: Vec<&str> = text[dump_at..].lines().skip(1).take(16).collect();
    let expected: Vec<String> = config.chunks(8).map(|r| r.iter().map(|b| format!("{b:02x} ")).collect()).collect();
    assert_eq!(lines, expected);
    assert!(boot.windows(4).any(|w| w == b"55 \r"), "printf output is CRLF-translated");
    assert_eq!(&config[86..88], &[0x55, 0x55]);
}

#[test]
fn serial_is_18_raw_hex_bytes_without_terminator() {
    let mut board = board();
    board.power_on();
    let reply = send(&mut board, b"s");
    let serial = board.hardware().chip.serial();
    let expected: String = serial.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(reply, expected.as_bytes());
    assert!(expected.starts_with("0123") && expected.ends_with("ee"));
}

#[test]
fn k_before_r_fails_and_r_configures_locks_and_says_ready() {
    let mut board = board();
    board.power_on();
    assert_eq!(send(&mut board, b"k"), b"get_pubkey on slot 0 failed: f4\r\r\n");
    assert_eq!(send(&mut board, b"r"), b"Ready.\r\n");
    let chip = &board.hardware().chip;
    assert!(chip.is_locked(Zone::Config) && chip.is_locked(Zone::Data));
    assert_eq!(&chip.read_config_zone()[16..84], &keyline_sim::atecc::config::RAINBOWTYPE_CONFIG[16..84]);
    assert_eq!(send(&mut board, b"r"), b"Ready.\r\n", "r is idempotent once locked");
}

#[test]
fn k_prints_the_slot0_key_as_pem_and_regenerates_slot1() {
    let mut board = board();
    board.power_on();
    send(&mut board, b"r");
    let public = board.hardware().chip.get_pubkey(0).unwrap();
    let reply = send(&mut board, b"k");
    let text = String::from_utf8(reply).unwrap();
    assert!(text.starts_with("-----BEGIN PUBLIC KEY-----\r\n"));
    assert!(text.ends_with("\r\n-----END PUBLIC KEY-----\r\n"));
    let lines: Vec<&str> = text.split('\n').collect();
    assert_eq!(lines[1].len(), 66, "64 base64 characters, then CryptoAuthLib's \\r\\n as \\r\\r\\n");
    assert!(lines[1].ends_with("\r\r"));
    assert_eq!(lines[2].len(), 61, "60 characters and the \\r of printf");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.pem"), text.replace('\r', "")).unwrap();
    let dump = openssl(dir.path(), &["pkey", "-pubin", "-in", "k.pem", "-text", "-noout"]);
    assert!(dump.contains("prime256v1"));
    let x_hex = public[..4].iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":");
    assert!(dump.replace(['\n', ' '], "").contains(&x_hex));
    let slot1_before = board.hardware().chip.get_pubkey(1).unwrap();
    send(&mut board, b"k");
    assert_ne!(board.hardware().chip.get_pubkey(1).unwrap(), slot1_before);
}

#[test]
fn uploads_end_on_a_footer_within_one_chunk_and_echo_in_65_byte_chunks() {
    let mut board = board();
    board.power_on();
    let root = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    upload(&mut board, b'b', root);
    let echo = send(&mut board, b"o");
    assert_eq!(echo.len(), 65 * (root.len() / 65 + 1));
    assert_eq!(&echo[..root.len()], root.as_bytes(), "the empty line after the footer is not stored");
    assert!(echo[root.len()..].iter().all(|&b| b == 0));

    // A footer split across two chunks is never seen: the board stays in accept mode.
    send(&mut board, b"c");
    send(&mut board, b"-----END CERTIF");
    send(&mut board, b"ICATE-----\n");
    assert!(send(&mut board, b"s").is_empty(), "s is stored as PEM data, not executed");
    send(&mut board, b"-----END CERTIFICATE-----\n");
    assert_eq!(send(&mut board, b"s").len(), 18, "back in command mode");
    // Only the first byte of a chunk is a command.
    assert!(send(&mut board, b"xs").is_empty());
    assert!(send(&mut board, b"z").is_empty(), "unknown bytes get no reply");
}

#[test]
fn q_on_an_unconfigured_chip_aborts_at_the_root_key() {
    let mut board = board();
    board.power_on();
    let text = normalise(&send(&mut board, b"q"));
    assert_eq!(
        text,
        "\nprovisioning start\nsigner cert conversion faileddevice cert conversion failedroot pubkey conversion failed\
         Writing Root Public Key\nFailed to write root ca public key\n"
    );
    assert!(send(&mut board, b"s").is_empty(), "nothing is processed after q");
}

#[test]
fn full_provisioning_writes_the_slots_and_reads_back_identical_certificates() {
    let dir = tempfile::tempdir().unwrap();
    make_ca_chain(dir.path());
    let mut board = board();
    board.power_on();
    assert_eq!(send(&mut board, b"r"), b"Ready.\r\n");
    let serial = String::from_utf8(send(&mut board, b"s")).unwrap();
    let key_pem = String::from_utf8(send(&mut board, b"k")).unwrap().replace('\r', "");
    std::fs::write(dir.path().join("device-pub.pem"), &key_pem).unwrap();
    let device_pem = make_device_cert(dir.path(), &serial);
    let signer_pem = std::fs::read_to_string(dir.path().join("signer.crt")).unwrap();
    let root_pem = std::fs::read_to_string(dir.path().join("root.pub.pem")).unwrap();
    upload(&mut board, b'c', &signer_pem);
    upload(&mut board, b'v', &device_pem);
    upload(&mut board, b'b', &root_pem);
    let echo = send(&mut board, b"p");
    assert!(echo.starts_with(signer_pem.as_bytes()));

    let transcript = normalise(&send(&mut board, b"q"));
    assert_eq!(
        transcript,
        "\nprovisioning start\nWriting Root Public Key\ndevice sn provisioning complete.\nWriting Signer Certificate\n\
         Writing Device Certificate\nReading Signer Certificate\nComparing Signer Certificate\n\
         Reading Device Certificate\nComparing Device Certificate\n\nDevice Provisioning Successful!\n"
    );
    let chip = &board.hardware().chip;
    assert_eq!(&chip.read_slot(13, 0, 18).unwrap(), serial.as_bytes());
    assert_eq!(chip.read_slot(10, 0, 72).unwrap()[69], 0x20, "device template id 2");
    assert_eq!(chip.read_slot(12, 0, 72).unwrap()[69], 0x10, "signer template id 1");
    assert_eq!(chip.read_slot(10, 0, 72).unwrap()[70], 0xA0, "SN from the public-key hash");
    assert_eq!(&chip.read_slot(14, 4, 16).unwrap(), &hex::decode("4a2b3c4d5e6f708192a3b4c5d6e7f801").unwrap());
}

#[test]
fn a_certificate_for_another_key_reads_back_as_a_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    make_ca_chain(dir.path());
    let mut board = board();
    board.power_on();
    send(&mut board, b"r");
    let serial = String::from_utf8(send(&mut board, b"s")).unwrap();
    openssl(dir.path(), &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "other.key"]);
    openssl(dir.path(), &["pkey", "-in", "other.key", "-pubout", "-out", "device-pub.pem"]);
    let device_pem = make_device_cert(dir.path(), &serial);
    upload(&mut board, b'c', &std::fs::read_to_string(dir.path().join("signer.crt")).unwrap());
    upload(&mut board, b'v', &device_pem);
    upload(&mut board, b'b', &std::fs::read_to_string(dir.path().join("root.pub.pem")).unwrap());
    let transcript = normalise(&send(&mut board, b"q"));
    assert!(transcript.contains("Comparing Device Certificate\nDevice certificate missmatch\n\n0000: "), "{transcript}");
    assert!(transcript.contains("*\n"), "rows with differences are starred");
    assert!(!transcript.contains("Signer certificate missmatch"));
    assert!(transcript.ends_with("\nDevice Provisioning Successful!\n"), "printed even after a mismatch");
}

/// Runs r, s, k, the three uploads and q on `board`; the device certificate gets subject O = `org`.
fn provision_with(board: &mut Board, dir: &std::path::Path, org: &str) -> String {
    board.power_on();
    send(board, b"r");
    let serial = String::from_utf8(send(board, b"s")).unwrap();
    let key = String::from_utf8(send(board, b"k")).unwrap().replace('\r', "");
    std::fs::write(dir.join("device-pub.pem"), key).unwrap();
    let device_pem = common::make_device_cert_for(dir, &serial, org);
    upload(board, b'c', &std::fs::read_to_string(dir.join("signer.crt")).unwrap());
    upload(board, b'v', &device_pem);
    upload(board, b'b', &std::fs::read_to_string(dir.join("root.pub.pem")).unwrap());
    normalise(&send(board, b"q"))
}

#[test]
fn a_build_with_compiled_templates_accepts_only_certificates_of_that_template() {
    let dir = tempfile::tempdir().unwrap();
    make_ca_chain(dir.path());
    // The firmware build's sample device certificate: another key, placeholder CN, O=Keyline.
    openssl(dir.path(), &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sample.key"]);
    openssl(dir.path(), &["pkey", "-in", "sample.key", "-pubout", "-out", "device-pub.pem"]);
    common::make_device_cert(dir.path(), "0123xxxxxxxxxxxxee");
    let chain = keyline_sim::firmware::CertChain {
        signer: {
            openssl(dir.path(), &["x509", "-in", "signer.crt", "-outform", "DER", "-out", "signer.der"]);
            std::fs::read(dir.path().join("signer.der")).unwrap()
        },
        device: std::fs::read(dir.path().join("device.der")).unwrap(),
    };
    let chain = std::sync::Arc::new(chain);
    let build = |chain: &std::sync::Arc<keyline_sim::firmware::CertChain>| {
        Board::new(BoardConfig { cert_chain: Some(chain.clone()), ..BoardConfig::default() }).unwrap()
    };

    let good = provision_with(&mut build(&chain), dir.path(), "Keyline");
    assert!(good.ends_with("Comparing Device Certificate\n\nDevice Provisioning Successful!\n"), "{good}");

    // A longer organisation shifts every later field: the signature is not where the compiled
    // definition expects it, so CryptoAuthLib cannot even compress the certificate.
    let other = provision_with(&mut build(&chain), dir.path(), "Another Org");
    assert!(other.ends_with("Writing Device Certificate\nFailed to write device certificate: 4\n"), "{other}");
    // Same length, other text: writes fine, reads back as the template's text.
    let same_length = provision_with(&mut build(&chain), dir.path(), "Keyl1ne");
    assert!(same_length.contains("Device certificate missmatch"), "{same_length}");
}

#[test]
fn a_slot_locked_chip_fails_the_device_certificate_write() {
    let dir = tempfile::tempdir().unwrap();
    make_ca_chain(dir.path());
    let mut board = board();
    board.power_on();
    send(&mut board, b"r");
    // Slot 10 is lockable in the rainbowtype table; a chip where someone locked it cannot take
    // a device certificate any more.
    board.hardware_mut().chip.lock_slot(10).unwrap();
    let serial = String::from_utf8(send(&mut board, b"s")).unwrap();
    let key = String::from_utf8(send(&mut board, b"k")).unwrap().replace('\r', "");
    std::fs::write(dir.path().join("device-pub.pem"), key).unwrap();
    let device_pem = make_device_cert(dir.path(), &serial);
    upload(&mut board, b'c', &std::fs::read_to_string(dir.path().join("signer.crt")).unwrap());
    upload(&mut board, b'v', &device_pem);
    upload(&mut board, b'b', &std::fs::read_to_string(dir.path().join("root.pub.pem")).unwrap());
    let transcript = normalise(&send(&mut board, b"q"));
    assert!(
        transcript.ends_with("Writing Signer Certificate\nWriting Device Certificate\nFailed to write device certificate: 244\n"),
        "{transcript}"
    );
}

// ---- The UART event model (issue #9): hosts that the real firmware punishes ----

fn pem_lines() -> String {
    let body: String = (0..10).map(|i| format!("{}\n", char::from(b'A' + i).to_string().repeat(64))).collect();
    format!("-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n")
}

#[test]
fn a_pem_written_in_one_burst_keeps_only_its_first_event_and_leaves_stale_ones() {
    let mut board = board();
    board.power_on();
    send(&mut board, b"c");
    let pem = pem_lines();
    send(&mut board, pem.as_bytes());
    // 120 bytes (one FIFO-threshold event) land, uart_flush() drops the rest; the footer is never seen.
    // The burst raised six events; the later five outlive the flush and take the next bytes sent.
    assert!(send(&mut board, b"p").is_empty(), "still in accept mode: the `p` is stored as PEM data");
    assert!(send(&mut board, b"-----END CERTIFICATE-----\n").is_empty(), "a stale 120-byte event waits for it");
    assert!(send(&mut board, b"q").is_empty(), "no provisioning: the board is lost until reset");
}

#[test]
fn input_during_a_handler_is_lost_and_its_stale_event_shrinks_the_next_line() {
    let mut board = board();
    board.power_on();
    send(&mut board, b"r");
    // The host sends `c` while `r` still runs: flushed, but its 1-byte event stays queued.
    assert!(board.receive_while_busy(b"c").is_empty());
    assert!(send(&mut board, b"c").is_empty(), "the stale event takes this `c` (accept mode now)");
    let pem = pem_lines();
    for line in pem.split_inclusive('\n') {
        send(&mut board, line.as_bytes());
    }
    // The second `c`'s own 1-byte event took the BEGIN line's first byte (the rest flushed); each
    // later event takes bytes of the line after its own, so the footer line never completes an
    // event: the firmware stays in accept mode and swallows the `p`.
    assert!(send(&mut board, b"p").is_empty(), "stuck in accept mode");
    assert!(board.hardware().chip.is_locked(Zone::Data), "the `r` itself ran");
}

#[test]
fn a_certificate_longer_than_its_buffer_overwrites_the_next_one() {
    let mut board = board();
    board.power_on();
    upload(&mut board, b'v', "-----BEGIN CERTIFICATE-----\nDEVICE\n-----END CERTIFICATE-----");
    let long: String = (0..17).map(|_| format!("{}\n", "S".repeat(64))).collect();
    upload(&mut board, b'c', &format!("-----BEGIN CERTIFICATE-----\n{long}-----END CERTIFICATE-----"));
    let echo = send(&mut board, b"p");
    let device_part = &echo[echo.len() - 65 * 2..];
    assert!(!String::from_utf8_lossy(device_part).contains("DEVICE"), "the device PEM was overwritten");
}

#[test]
fn a_trust_and_go_part_never_answers_the_firmware_at_0x60() {
    let mut board =
        Board::new(BoardConfig { trust_and_go: true, derive_templates: true, ..BoardConfig::default() }).unwrap();
    let boot = normalise(&board.power_on());
    assert!(boot.contains("MAIN: atcab_init() failed with ret=0x00000240"), "{boot}");
    assert_eq!(send(&mut board, b"s"), b"000000000000000000");
    assert_eq!(normalise(&send(&mut board, b"r")), "Unable to initialize interface: f0\nReady.\n");
    assert_eq!(normalise(&send(&mut board, b"k")), "Unable to initialize interface: f0\n");
    assert!(!board.hardware().chip.is_locked(Zone::Data) || board.hardware().chip.is_trust_and_go());
    let q = normalise(&send(&mut board, b"q"));
    assert!(q.contains("Failed to init: 240") && !q.contains("Successful"), "{q}");
}

#[test]
fn a_failure_text_without_a_newline_never_reaches_the_host() {
    // A chip configured elsewhere with slot 6 not writable (WriteConfig = Never): the IO
    // protection key write at the end of `q` fails. The firmware's last text has no newline, so
    // line-buffered stdout never sends it: a host that waits for a failure text waits forever; it
    // must decide by its deadline that `Device Provisioning Successful!` did not come.
    let dir = tempfile::tempdir().unwrap();
    make_ca_chain(dir.path());
    let mut board = board();
    let mut config = keyline_sim::atecc::config::RAINBOWTYPE_CONFIG;
    config[33] = 0x8F;
    board.hardware_mut().chip.write_config_zone(&config).unwrap();
    board.hardware_mut().chip.lock_zone(Zone::Config).unwrap();
    let transcript = provision_with(&mut board, dir.path(), "Keyline");
    assert!(transcript.ends_with("Comparing Device Certificate\n"), "{transcript}");
    assert!(!transcript.contains("IO Prot") && !transcript.contains("Successful"), "{transcript}");
    assert!(board.idle().is_empty() && board.advance(std::time::Duration::from_secs(5)).is_empty(), "and nothing follows");
}
