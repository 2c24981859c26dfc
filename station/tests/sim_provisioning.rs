//! Keyline's own certificate code (keyline-certs, proven against CryptoAuthLib's C code) provisions
//! simulated boards through both public firmwares, and the simulator's independent atcacert logic
//! writes the same compressed certificates the host predicted.
#![cfg(feature = "sim")]

use keyline_certs::atcacert::certdef_string;
use keyline_certs::atcacert::date::AtcaDate;
use keyline_certs::atcacert::profile::Profile;
use keyline_certs::atcacert::rebuild::compress;
use keyline_certs::device::{issue_device_cert, issue_signer_cert, place_signer, SignerSubject};
use keyline_certs::{create_root_ca, to_pem, CaSubject, EcKey, Validity};
use keyline_sim::{Board, BoardConfig, FirmwareKind};

const SPKI_HEADER: [u8; 27] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE,
    0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];

/// zlib/IEEE CRC-32, as the helper's `esp_rom_crc32_le(0, …)` computes it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn raw_key(key: &EcKey) -> [u8; 64] {
    key.public_key().to_sec1_bytes()[1..65].try_into().unwrap()
}

fn text(bytes: &[u8]) -> String {
    let plain = String::from_utf8_lossy(bytes).replace('\r', "");
    let mut out = String::new();
    let mut skipping = false;
    for c in plain.chars() {
        match (skipping, c) {
            (false, '\x1b') => skipping = true,
            (true, 'm') => skipping = false,
            (false, c) => out.push(c),
            _ => {}
        }
    }
    out
}

struct Chain {
    root: EcKey,
    root_der: Vec<u8>,
    signer: EcKey,
    signer_der: Vec<u8>,
}

fn chain(profile: Profile, signer_cn: &str, at: AtcaDate) -> Chain {
    let root = EcKey::generate();
    let subject = CaSubject { common_name: "Keyline Test Root".into(), organization: "Keyline".into() };
    let root_der = create_root_ca(&subject, Validity::days_from(time::OffsetDateTime::now_utc(), 3650), &root).unwrap().der;
    let signer = EcKey::generate();
    let subject = SignerSubject { organization: "Keyline".into(), common_name: signer_cn.into() };
    let signer_der = issue_signer_cert(profile, &root_der, &root, &raw_key(&signer), &subject, at).unwrap();
    Chain { root, root_der, signer, signer_der }
}

fn now() -> AtcaDate {
    AtcaDate::from_offset_date_time(time::OffsetDateTime::now_utc())
}

fn upload(board: &mut Board, mode: u8, pem: &str) {
    board.receive(&[mode]);
    for line in pem.split('\n') {
        board.receive(format!("{line}\n").as_bytes());
    }
}

#[test]
fn rainbowtype_board_accepts_keyline_certificates() {
    provision_rainbowtype(false);
}

/// The firmware built from Keyline's own templates (what `keyline template cert-chain` compiles).
#[test]
fn rainbowtype_build_from_keyline_templates_accepts_keyline_certificates() {
    provision_rainbowtype(true);
}

fn provision_rainbowtype(compiled_templates: bool) {
    let at = now();
    let chain = chain(Profile::Rainbowtype, "Keyline Signer", at);
    let signer_defs = place_signer(Profile::Rainbowtype, &chain.signer_der, &raw_key(&chain.root)).unwrap();
    let cert_chain = compiled_templates.then(|| {
        std::sync::Arc::new(keyline_sim::firmware::CertChain {
            signer: signer_defs.signer.template.clone(),
            device: signer_defs.device.template.clone(),
        })
    });
    let derive_templates = cert_chain.is_none();
    let config = BoardConfig { firmware: FirmwareKind::Rainbowtype, cert_chain, derive_templates, ..BoardConfig::default() };
    let mut board = Board::new(config).unwrap();
    board.power_on();
    assert_eq!(board.receive(b"r").output, b"Ready.\r\n");
    let serial_text = String::from_utf8(board.receive(b"s").output).unwrap();
    let serial: [u8; 9] = unhex(&serial_text).try_into().unwrap();
    let pem = text(&board.receive(b"k").output);
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let spki = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap();
    let device_key: [u8; 64] = spki[27..91].try_into().unwrap();

    let issued = issue_device_cert(Profile::Rainbowtype, &chain.signer_der, &chain.signer, &device_key, &serial, at).unwrap();
    let mut root_spki = SPKI_HEADER.to_vec();
    root_spki.extend_from_slice(&raw_key(&chain.root));

    upload(&mut board, b'c', &to_pem("CERTIFICATE", &chain.signer_der));
    upload(&mut board, b'v', &to_pem("CERTIFICATE", &issued.der));
    upload(&mut board, b'b', &to_pem("PUBLIC KEY", &root_spki));
    let transcript = text(&board.receive(b"q").output);
    assert!(transcript.ends_with("Comparing Device Certificate\n\nDevice Provisioning Successful!\n"), "{transcript}");
    assert!(!transcript.contains("missmatch") && !transcript.contains("failed"), "{transcript}");

    let chip = &board.hardware().chip;
    assert_eq!(chip.read_slot(10, 0, 72).unwrap(), issued.compressed, "sim and keyline-certs compress alike");
    assert_eq!(chip.read_slot(12, 0, 72).unwrap(), compress(&signer_defs.signer, &chain.signer_der).unwrap().to_vec());
    let _ = chain.root_der;
}

#[test]
fn esp_helper_board_accepts_keyline_certificates() {
    let mut board = Board::new(BoardConfig { firmware: FirmwareKind::EspHelper, ..BoardConfig::default() }).unwrap();
    board.power_on();
    assert_eq!(board.receive(b"version").output, b"v1.2.0\n\n>>\n");
    let cmd = |board: &mut Board, line: &str, payload: Option<&[u8]>| {
        let mut reply = text(&board.receive(format!("{line}\r").as_bytes()).output);
        if let Some(data) = payload {
            reply.push_str(&text(&board.receive(&[data, b"\0"].concat()).output));
        }
        reply
    };
    assert!(cmd(&mut board, "init 21 22", None).contains("Status: Success"));
    let info = cmd(&mut board, "print-chip-info", None);
    let serial_hex: String = info.split("Serial Number:\n").nth(1).unwrap().split('\n').next().unwrap().replace(' ', "");
    let serial: [u8; 9] = unhex(&serial_hex).try_into().unwrap();
    let keys = cmd(&mut board, "generate-keys 0", None);
    let key_hex = keys.split("Public Key:\n").nth(1).unwrap().split('\n').next().unwrap();
    let device_key: [u8; 64] = unhex(key_hex).try_into().unwrap();
    assert!(cmd(&mut board, "generate-csr", None).contains("-----END CERTIFICATE REQUEST-----"));

    let at = now();
    let chain = chain(Profile::EspCryptoauthlib, "Keyline Signer FFFF", at);
    let issued = issue_device_cert(Profile::EspCryptoauthlib, &chain.signer_der, &chain.signer, &device_key, &serial, at).unwrap();

    let device_def = certdef_string::encode(&issued.der, true).unwrap();
    assert!(cmd(&mut board, "provide-cert-def 0", Some(device_def.as_bytes())).contains("Status: Success"));
    let device_pem = to_pem("CERTIFICATE", &issued.der);
    let crc = crc32(device_pem.as_bytes());
    let reply = cmd(&mut board, &format!("program-dev-cert 0 {crc}"), Some(device_pem.as_bytes()));
    assert!(reply.contains("Status: Success"), "{reply}");
    assert_eq!(board.hardware().chip.read_slot(10, 0, 72).unwrap(), issued.compressed, "sim and keyline-certs compress alike");

    let signer_def = certdef_string::encode(&chain.signer_der, false).unwrap();
    assert!(cmd(&mut board, "provide-cert-def 1", Some(signer_def.as_bytes())).contains("Status: Success"));
    let signer_pem = to_pem("CERTIFICATE", &chain.signer_der);
    let crc = crc32(signer_pem.as_bytes());
    let reply = cmd(&mut board, &format!("program-signer-cert 0 {crc}"), Some(signer_pem.as_bytes()));
    assert!(reply.contains("Status: Success"), "{reply}");
    let defs = place_signer(Profile::EspCryptoauthlib, &chain.signer_der, &raw_key(&chain.root)).unwrap();
    let per_signer = certdef_string::per_device_def(&defs.signer, &chain.signer_der).unwrap();
    assert_eq!(board.hardware().chip.read_slot(12, 0, 72).unwrap(), compress(&per_signer, &chain.signer_der).unwrap().to_vec());
    let _ = (chain.root_der, &chain.root);
}
