//! Conformance of the esp_cryptoauth_utility helper v1.2.0 emulation: exact bytes in and out.

mod common;

use common::{make_ca_chain, normalise, openssl};
use keyline_sim::atcacert::der::locate;
use keyline_sim::atecc::Zone;
use keyline_sim::{Board, BoardConfig, FirmwareKind, WallClock};

fn helper_board(trust_and_go: bool) -> Board {
    let mut board =
        Board::new(BoardConfig { firmware: FirmwareKind::EspHelper, trust_and_go, ..BoardConfig::default() }).unwrap();
    let boot = board.power_on();
    assert!(boot.ends_with(b"Initializing Command line: >>"), "prompt without newline");
    assert_eq!(board.receive(b"version").output, b"v1.2.0\n\n>>\n");
    board
}

/// Sends `line\r` and returns the normalised reply.
fn cmd(board: &mut Board, line: &str) -> String {
    normalise(&board.receive(format!("{line}\r").as_bytes()).output)
}

fn status_and_result(reply: &str) -> (&str, &str) {
    let at = reply.find("Status: ").expect("a Status line");
    let status = &reply[at + 8..at + 15];
    let rest = &reply[at..];
    (status, rest[rest.find('\n').unwrap() + 1..].trim_end_matches("\n>>\n"))
}

#[test]
fn echo_prompt_and_ungated_commands() {
    let mut board = helper_board(false);
    let raw = board.receive(b"version\r").output;
    assert_eq!(raw, b"version\r\nv1.2.0\r\n\n>>\n", "echo with \\r as \\r\\n, printf translated, raw prompt");
    assert_eq!(board.receive(b"frobnicate\r").output, b"frobnicate\r\n\n>>\n", "unknown: no Status line");
    let gated = cmd(&mut board, "print-chip-info");
    assert!(gated.contains("secure_element: Please Initialize device before calling this function"));
    assert!(!gated.contains("Status:"));
}

#[test]
fn a_wrong_handshake_never_starts_the_cli() {
    let mut board = Board::new(BoardConfig { firmware: FirmwareKind::EspHelper, ..BoardConfig::default() }).unwrap();
    board.power_on();
    let reply = normalise(&board.receive(b"hello!!").output);
    assert!(reply.contains("Failed to initialize"), "{reply}");
    assert!(board.receive(b"version\r").output.is_empty());
}

#[test]
fn init_locks_both_zones_and_reports_the_device_type() {
    let mut board = helper_board(false);
    let reply = cmd(&mut board, "init 21 22");
    assert!(reply.starts_with("init 21 22\n"));
    assert!(reply.contains("I2C pins selected are SDA = 21, SCL = 22"));
    let (status, _) = status_and_result(&reply);
    assert_eq!(status, "Success");
    assert!(reply.contains("ATECC608 Device Type: TrustCustom"));
    assert!(board.hardware().chip.is_locked(Zone::Config) && board.hardware().chip.is_locked(Zone::Data));
    let usage = cmd(&mut board, "init");
    assert!(usage.contains("Status: Failure") && usage.contains("Reason: Invalid Usage"));
    let wrong_pins = cmd(&mut board, "init 4 5");
    assert!(wrong_pins.contains("Status: Failure") && wrong_pins.contains("Initilization of ATECC failed, returned f0"));
}

#[test]
fn chip_info_keys_and_csr() {
    let mut board = helper_board(false);
    cmd(&mut board, "init 21 22");
    let serial = board.hardware().chip.serial();
    let info = cmd(&mut board, "print-chip-info");
    let spaced: String = serial.iter().map(|b| format!("{b:02x} ")).collect();
    assert!(info.contains(&format!("Status: Success\n\n\n Serial Number:\n{spaced}\n>>\n")), "{info}");

    let keys = cmd(&mut board, "generate-keys 0");
    let (status, result) = status_and_result(&keys);
    assert_eq!(status, "Success");
    let public = board.hardware().chip.get_pubkey(0).unwrap();
    assert_eq!(result.trim(), format!("Public Key:\n{}", hex::encode(public)));
    let pubkey = cmd(&mut board, "generate-pubkey 0");
    let spaced_key: String = public.iter().map(|b| format!("{b:02x} ")).collect();
    assert!(pubkey.contains(&format!("Public Key:\n{spaced_key}\n>>")));
    assert!(cmd(&mut board, "generate-keys 3").contains("Reason: Invalid Usage"));

    let csr = cmd(&mut board, "generate-csr");
    let pem = &csr[csr.find("-----BEGIN CERTIFICATE REQUEST-----").unwrap()..csr.find("\n>>").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dev.csr"), pem).unwrap();
    let text = openssl(dir.path(), &["req", "-in", "dev.csr", "-verify", "-noout", "-subject"]);
    assert!(text.contains("O = ESP, CN = Sample Device FFFF"), "{text}");
}

#[test]
fn programming_needs_a_csr_first_and_checks_the_crc() {
    let dir = tempfile::tempdir().unwrap();
    make_ca_chain(dir.path());
    let mut board = helper_board(false);
    cmd(&mut board, "init 21 22");
    assert!(cmd(&mut board, "program-dev-cert 0 1").contains("Generate the CSR before calling this function."));
    cmd(&mut board, "generate-keys 0");
    cmd(&mut board, "generate-csr");

    // The device certificate for the chip's key, signed by the signer CA (real openssl).
    let public = board.hardware().chip.get_pubkey(0).unwrap();
    let mut spki = keyline_sim::firmware::rainbowtype::SPKI_HEADER.to_vec();
    spki.extend_from_slice(&public);
    std::fs::write(dir.path().join("device-pub.der"), &spki).unwrap();
    openssl(dir.path(), &["pkey", "-pubin", "-inform", "DER", "-in", "device-pub.der", "-out", "device-pub.pem"]);
    let serial_upper = hex::encode_upper(board.hardware().chip.serial());
    let device_pem = common::make_device_cert(dir.path(), &serial_upper);
    let der = std::fs::read(dir.path().join("device.der")).unwrap();
    let layout = locate(&der).unwrap();
    let field = |o: usize, c: usize| format!("{o:04}{c:04}");
    let cert_def = [
        field(layout.public_key.offset, 64),
        field(layout.signature.offset, layout.signature.count),
        field(layout.not_before.offset, layout.not_before.count),
        field(0, 0),
        field(0, 0),
        field(layout.serial.offset, layout.serial.count),
        field(layout.authority_key_id.offset, 20),
        field(layout.subject_key_id.offset, 20),
        field(layout.tbs.offset, layout.tbs.count),
        hex::encode(&der),
    ]
    .concat();

    let provide = cmd(&mut board, "provide-cert-def 0");
    assert_eq!(provide, "provide-cert-def 0\n", "waits for the payload");
    let mut payload = cert_def.into_bytes();
    payload.push(0);
    let reply = normalise(&board.receive(&payload).output);
    assert_eq!(status_and_result(&reply).0, "Success");

    let crc = crc32fast::hash(device_pem.as_bytes());
    cmd(&mut board, &format!("program-dev-cert 0 {}", crc ^ 1));
    let reply = normalise(&board.receive(&[device_pem.as_bytes(), b"\0"].concat()).output);
    assert!(reply.contains(&format!("CRC32 mismatch! Expected: {}, Received: {crc}", crc ^ 1)), "{reply}");
    assert!(reply.contains("Status: Failure") && reply.contains("Programming device cert failed, returned -1"));

    cmd(&mut board, &format!("program-dev-cert 1 {crc}"));
    let reply = normalise(&board.receive(&[device_pem.as_bytes(), b"\0"].concat()).output);
    assert_eq!(status_and_result(&reply).0, "Success", "{reply}");
    assert!(reply.contains("Slot 10 has been locked, and cannot be used again"));
    let chip = &board.hardware().chip;
    assert!(chip.is_slot_locked(10));
    let comp = chip.read_slot(10, 0, 72).unwrap();
    assert_eq!((comp[69], comp[70]), (0x20, 0xA0), "template 2, SN from the public-key hash");

    // Slot 10 is locked now: a second write fails with the chip's execution error.
    cmd(&mut board, &format!("program-dev-cert 0 {crc}"));
    let reply = normalise(&board.receive(&[device_pem.as_bytes(), b"\0"].concat()).output);
    assert!(reply.contains("writecert failed , ret is f4") && reply.contains("Status: Failure"), "{reply}");
}

#[test]
fn an_oversized_payload_spills_into_the_next_command_line() {
    let mut board = helper_board(false);
    cmd(&mut board, "init 21 22");
    cmd(&mut board, "provide-cert-def 1");
    let mut payload = vec![b'0'; 1199];
    payload.extend_from_slice(b"version\r\0");
    let reply = normalise(&board.receive(&payload).output);
    assert!(reply.contains("Status: Success"), "the handler runs on the first 1199 bytes");
    assert!(reply.contains("version\nv1.2.0\n"), "the tail becomes a command line: {reply}");
}

#[test]
fn tngtls_commands_need_a_trust_and_go_part_and_the_signer_first() {
    let mut custom = helper_board(false);
    cmd(&mut custom, "init 21 22");
    assert!(cmd(&mut custom, "get-tngtls-device-cert")
        .contains("Please execute get-tngtls-signer-cert command as this command requires signer cert"));
    let root = cmd(&mut custom, "get-tngtls-root-cert");
    assert!(root.contains("Status: Success") && root.contains("Root Cert Len:"), "the root is compiled into the library");
    let reply = cmd(&mut custom, "get-tngtls-signer-cert");
    assert!(reply.contains("Status: Failure") && reply.contains("Failed to obtain tngtls_signer cert, returned 0c"));

    let mut tng = helper_board(true);
    assert!(cmd(&mut tng, "init 21 22").contains("ATECC608 Device Type: Trust&Go"));
    let dir = tempfile::tempdir().unwrap();
    let mut ders = Vec::new();
    for (command, label) in [("get-tngtls-root-cert", "Root"), ("get-tngtls-signer-cert", "Signer"), ("get-tngtls-device-cert", "Device")] {
        let reply = cmd(&mut tng, command);
        let (status, result) = status_and_result(&reply);
        assert_eq!(status, "Success", "{reply}");
        let (len_line, cert) = result.trim_start().split_once("\n\nCertificate:\n").unwrap();
        let der = hex::decode(cert.trim()).unwrap();
        assert_eq!(len_line, format!("{label} Cert Len:{}", der.len()));
        std::fs::write(dir.path().join(format!("{label}.der")), &der).unwrap();
        openssl(dir.path(), &["x509", "-inform", "DER", "-in", &format!("{label}.der"), "-out", &format!("{label}.pem")]);
        ders.push(der);
    }
    let verdict = openssl(dir.path(), &["verify", "-CAfile", "Root.pem", "-untrusted", "Signer.pem", "Device.pem"]);
    assert!(verdict.contains("Device.pem: OK"), "{verdict}");
    let device = locate(&ders[2]).unwrap();
    assert_eq!(&ders[2][device.public_key.offset..device.public_key.offset + 64], &tng.hardware().chip.get_pubkey(0).unwrap());
}

#[test]
fn a_ram_loaded_helper_gives_up_on_a_late_handshake() {
    // The window is wall-clock time: a clock the test moves stands in for waiting 1.2 s.
    let offset = std::sync::Arc::new(std::sync::Mutex::new(std::time::Duration::ZERO));
    let base = std::time::Instant::now();
    let moved = offset.clone();
    let wall_clock = WallClock::new(move || base + *moved.lock().unwrap());
    let mut board = Board::new(BoardConfig { firmware: FirmwareKind::Rom, wall_clock, ..BoardConfig::default() }).unwrap();
    board.power_on();
    use keyline_sim::firmware::rom::data_checksum;
    use keyline_sim::firmware::slip::encode;
    let frame = |op: u8, data: &[u8], checksum: u32| {
        let mut f = vec![0x00, op];
        f.extend((data.len() as u16).to_le_bytes());
        f.extend(checksum.to_le_bytes());
        f.extend_from_slice(data);
        encode(&f)
    };
    let words = |v: &[u32]| v.iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>();
    board.receive(&frame(0x05, &words(&[4, 1, 0x1800, 0x4008_0000]), 0));
    let mut block = words(&[4, 0, 0, 0]);
    block.extend([1, 2, 3, 4]);
    board.receive(&frame(0x07, &block, u32::from(data_checksum(&[1, 2, 3, 4]))));
    let started = board.receive(&frame(0x06, &words(&[0, 0x4008_0400]), 0)).output;
    assert!(started.ends_with(b"Initializing Command line: >>"));
    *offset.lock().unwrap() += std::time::Duration::from_millis(1200);
    let late = normalise(&board.idle());
    assert!(late.contains("Failed to initialize the command line interface"), "{late}");
    assert!(board.receive(b"version").output.is_empty(), "the CLI never starts");
}
