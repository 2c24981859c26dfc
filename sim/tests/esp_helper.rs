//! Conformance of the esp_cryptoauth_utility helper v1.2.0 emulation: exact bytes in and out.

mod common;

use common::{make_ca_chain, normalise, openssl};
use keyline_sim::atcacert::der::locate;
use keyline_sim::atecc::Zone;
use keyline_sim::{Board, BoardConfig, FirmwareKind};

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
    let (device_pem, der) = device_cert_for(&board, dir.path());
    let cert_def = device_cert_def(&der);

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
    let mut board = Board::new(BoardConfig { firmware: FirmwareKind::Rom, derive_templates: true, ..BoardConfig::default() }).unwrap();
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
    for address in [0x3FFB_0000u32, 0x4008_0000] {
        board.receive(&frame(0x05, &words(&[4, 1, 0x1800, address]), 0));
        let mut block = words(&[4, 0, 0, 0]);
        block.extend([1, 2, 3, 4]);
        board.receive(&frame(0x07, &block, u32::from(data_checksum(&[1, 2, 3, 4]))));
    }
    let reply = board.receive(&frame(0x06, &words(&[0, 0x4008_0002]), 0)).output;
    assert!(!normalise(&reply).contains("Initializing"), "the helper boots first");
    assert!(board.booting());
    assert!(board.receive(b"version").output.is_empty(), "input during the boot is lost");
    let started = board.advance(std::time::Duration::from_millis(300));
    assert!(started.ends_with(b"Initializing Command line: >>"), "prompt after ~300 ms of board time");
    assert_eq!(board.hardware().baud, 115_200, "the helper's console runs at 115200");
    let late = normalise(&board.advance(std::time::Duration::from_millis(1200)));
    assert!(late.contains("CMD Handler: Failed to initialize ECU console interface"), "{late}");
    assert!(board.receive(b"version").output.is_empty(), "the CLI never starts");
}

// ---- Strictness: hosts that a real helper punishes (issue #9) ----

#[test]
fn crlf_lf_and_tab_terminated_command_lines_are_unknown_commands() {
    let mut board = helper_board(false);
    // `\r\n`: the `\n` stays in the buffer and starts the next line, so `\ngenerate-keys` is unknown.
    let first = normalise(&board.receive(b"init 21 22\r\n").output);
    assert!(first.contains("Status: Success") && first.ends_with("\n>>\n\n"), "the \\n is echoed at once: {first}");
    let second = board.receive(b"generate-keys 0\r\n").output;
    assert_eq!(second, b"generate-keys 0\r\n\n>>\n\n", "echo then only the prompt: no Status line");
    assert!(board.hardware().chip.get_pubkey(0).is_err(), "no key was generated");
    // `\n` alone never ends a line: nothing runs, not even a prompt comes back.
    let mut board = helper_board(false);
    assert_eq!(board.receive(b"init 21 22\n").output, b"init 21 22\n");
    assert!(!board.hardware().chip.is_locked(Zone::Config));
    // Tabs do not separate arguments in esp_console_split_argv.
    let mut board = helper_board(false);
    assert_eq!(board.receive(b"init\t21\t22\r").output, b"init\t21\t22\r\n\n>>\n");
    assert!(!board.hardware().chip.is_locked(Zone::Config));
}

/// A device certificate for the board's slot-0 key, signed by the signer CA in `dir` (real openssl): (PEM, DER).
fn device_cert_for(board: &Board, dir: &std::path::Path) -> (String, Vec<u8>) {
    let public = board.hardware().chip.get_pubkey(0).unwrap();
    let mut spki = keyline_sim::firmware::rainbowtype::SPKI_HEADER.to_vec();
    spki.extend_from_slice(&public);
    std::fs::write(dir.join("device-pub.der"), &spki).unwrap();
    openssl(dir, &["pkey", "-pubin", "-inform", "DER", "-in", "device-pub.der", "-out", "device-pub.pem"]);
    let pem = common::make_device_cert(dir, &hex::encode_upper(board.hardware().chip.serial()));
    (pem, std::fs::read(dir.join("device.der")).unwrap())
}

/// The cert-def string for a device certificate (secure_cert_mfg.py field order, no expiry).
fn device_cert_def(der: &[u8]) -> String {
    let l = locate(der).unwrap();
    let f = |o: usize, c: usize| format!("{o:04}{c:04}");
    [
        f(l.public_key.offset, 64),
        f(l.signature.offset, l.signature.count),
        f(l.not_before.offset, l.not_before.count),
        f(0, 0),
        f(0, 0),
        f(l.serial.offset, l.serial.count),
        f(l.authority_key_id.offset, 20),
        f(l.subject_key_id.offset, 20),
        f(l.tbs.offset, l.tbs.count),
        hex::encode(der),
    ]
    .concat()
}

/// A helper with a device cert-def provided for `pem`'s certificate; returns the CRC-ready board.
fn helper_ready_to_program() -> (Board, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    make_ca_chain(dir.path());
    let mut board = helper_board(false);
    cmd(&mut board, "init 21 22");
    cmd(&mut board, "generate-keys 0");
    cmd(&mut board, "generate-csr");
    let (pem, der) = device_cert_for(&board, dir.path());
    let def = device_cert_def(&der);
    cmd(&mut board, "provide-cert-def 0");
    board.receive(&[def.as_bytes(), b"\0"].concat());
    (board, dir, pem)
}

fn program_with(board: &mut Board, pem: &[u8]) -> String {
    cmd(board, &format!("program-dev-cert 0 {}", crc32fast::hash(pem)));
    normalise(&board.receive(&[pem, b"\0"].concat()).output)
}

#[test]
fn pem_that_mbedtls_rejects_fails_to_convert() {
    let (mut board, _dir, pem) = helper_ready_to_program();
    let lone_cr = pem.replace('\n', "\r");
    assert!(program_with(&mut board, lone_cr.as_bytes()).contains("error in converting to der"), "lone \\r");
    let indented = pem.replace("\n", "\n ").replacen("-----BEGIN CERTIFICATE-----\n ", "-----BEGIN CERTIFICATE-----\n", 1);
    assert!(program_with(&mut board, indented.as_bytes()).contains("error in converting to der"), "leading spaces");
    let tabbed = pem.replacen('\n', "\t\n", 2);
    assert!(program_with(&mut board, tabbed.as_bytes()).contains("error in converting to der"), "tab");
    let crlf = pem.replace('\n', "\r\n");
    let ok = program_with(&mut board, crlf.as_bytes());
    assert!(ok.contains("Status: Success"), "CRLF lines are fine: {ok}");
}

#[test]
fn a_short_cert_def_crashes_the_helper_until_reset() {
    let mut board = helper_board(false);
    cmd(&mut board, "init 21 22");
    cmd(&mut board, "provide-cert-def 0");
    let reply = normalise(&board.receive(&[b"0".repeat(71).as_slice(), b"\0"].concat()).output);
    assert!(reply.contains("Guru Meditation Error"), "{reply}");
    assert!(!reply.contains("Status:"), "{reply}");
    assert!(board.receive(b"version\r").output.is_empty(), "silent until reset");
    assert_eq!(board.running(), None);
}

#[test]
fn crc_argument_is_parsed_like_strtoul_and_negative_slots_fail() {
    let (mut board, _dir, pem) = helper_ready_to_program();
    let crc = crc32fast::hash(pem.as_bytes());
    cmd(&mut board, &format!("program-dev-cert 0 0x{crc:x}"));
    let reply = normalise(&board.receive(&[pem.as_bytes(), b"\0"].concat()).output);
    assert!(reply.contains(&format!("CRC32 mismatch! Expected: 0, Received: {crc}")), "hex is not decimal: {reply}");
    let keys = cmd(&mut board, "generate-keys -1");
    assert!(keys.contains("Status: Failure") && keys.contains("Error in generating keys, returned d2"), "{keys}");
}

#[test]
fn a_burst_longer_than_the_rx_ring_loses_bytes_while_the_helper_talks_to_the_chip() {
    let mut board = helper_board(false);
    // `init` talks to the chip; 400 queued `version` lines (3200 bytes) do not fit 2048 + 128 bytes.
    let mut burst = b"init 21 22\r".to_vec();
    for _ in 0..400 {
        burst.extend_from_slice(b"version\r");
    }
    let reply = normalise(&board.receive(&burst).output);
    let answered = reply.matches("version\nv1.2.0\n").count();
    assert_eq!(answered, 2176 / 8, "only what fits the RX ring and FIFO was read");
}
