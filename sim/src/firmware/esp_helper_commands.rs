//! The helper's commands, their session-state gates and their exact output texts.

use super::console::{self, Level};
use super::esp_helper::VERSION;
use crate::atcacert::def::{SN_PUB_KEY_HASH, SN_STORED};
use crate::atcacert::der::Span;
use crate::atcacert::{csr, write_cert, CertDef, DevLoc, Element};
use crate::atecc::Zone;
use crate::board::Hardware;
use super::libc_text;

const TAG: &str = "secure_element";
// `device_status_t` values used as gates.
const ATECC_INIT_FAIL: u8 = 1;
const ATECC_INIT_SUCCESS: u8 = 2;
const CSR_GEN_SUCCESS: u8 = 6;
const TNGTLS_SIGNER_CERT_SUCCESS: u8 = 17;

/// Session state of the running helper.
#[derive(Debug, Default)]
pub struct Session {
    state: u8,
    atcab_init: bool,
    /// `g_cert_def_common`, filled by `provide-cert-def`.
    cert_def: Option<CertDef>,
}

impl Session {
    /// Whether the handler for `args` will read a NUL-terminated payload before answering.
    pub fn wants_payload(&self, args: &[String]) -> bool {
        match args.first().map(String::as_str) {
            Some("provide-cert-def") => {
                self.state >= ATECC_INIT_SUCCESS && args.len() == 2 && matches!(atoi(&args[1]), 0 | 1)
            }
            Some("program-dev-cert" | "program-signer-cert") => {
                self.state >= CSR_GEN_SUCCESS && (args.len() == 2 || args.len() == 3) && self.atcab_init
            }
            _ => false,
        }
    }
}

/// C `atoi` on one argument.
fn atoi(text: &str) -> i64 {
    libc_text::atoi(text.as_bytes())
}

struct Out<'a> {
    hw_millis: u64,
    bytes: &'a mut Vec<u8>,
}

impl Out<'_> {
    fn info(&mut self, text: &str) {
        self.bytes.extend(console::log(Level::Info, self.hw_millis, TAG, text));
    }
    fn error(&mut self, text: &str) {
        self.bytes.extend(console::log(Level::Error, self.hw_millis, TAG, text));
    }
    fn status(&mut self, ok: bool) {
        self.info(if ok { "Status: Success\n" } else { "Status: Failure\n" });
    }
    fn printf(&mut self, text: &str) {
        self.bytes.extend(console::printf(text));
    }
}

/// Runs one command line (with its payload when it takes one) and writes its output.
pub fn run_command(session: &mut Session, args: &[String], payload: Option<&[u8]>, hw: &mut Hardware, bytes: &mut Vec<u8>) {
    let mut out = Out { hw_millis: hw.millis(), bytes };
    let Some(command) = args.first() else { return };
    let gated = |out: &mut Out, state: u8, need: u8| {
        if state < need {
            out.error("Please Initialize device before calling this function");
            true
        } else {
            false
        }
    };
    match command.as_str() {
        "init" => init(session, args, hw, &mut out),
        "version" => out.printf(&format!("{VERSION}\n")),
        "print-chip-info" if !gated(&mut out, session.state, ATECC_INIT_SUCCESS) => {
            let revision = hw.chip.info();
            out.bytes.extend(console::log(Level::Info, out.hw_millis, "ATECC CHIP REVISION", &spaced_hex(&revision)));
            out.info("Since the last byte of chip revision is 0x02. This is a ATECC608A chip");
            let serial = hw.chip.serial();
            out.bytes.extend(console::log(Level::Info, out.hw_millis, "ATECC CHIP SERIAL NUMBER", &spaced_hex(&serial)));
            out.status(true);
            out.printf(&format!("\n Serial Number:\n{}", spaced_hex(&serial) + " "));
        }
        "generate-keys" if !gated(&mut out, session.state, ATECC_INIT_SUCCESS) => {
            let usage_ok = args.len() == 2 && atoi(&args[1]) < 3;
            let result = usage_ok.then(|| {
                if !session.atcab_init {
                    out.error("gevice is not initialized");
                    return Err(0);
                }
                // `atcab_genkey(uint16_t)`: a negative slot wraps to a key id the chip cannot parse.
                let slot = atoi(&args[1]) as u16;
                out.info("generating priv key ..");
                let key = if slot > 15 {
                    Err(u32::from(crate::atecc::ChipError::Parse.atca_status()))
                } else {
                    hw.chip.genkey(usize::from(slot)).map_err(|e| u32::from(e.atca_status()))
                };
                match &key {
                    // atecc_keygen's debug logs, then print_public_key (CONFIG_ECU_DEBUGGING=y).
                    Ok(xy) => {
                        out.info("\t\t OK");
                        let pem = super::rainbowtype::public_key_pem(xy).replace('\n', "\r\n");
                        out.info(&format!("\r\n{}", pem.replace("\r\r\n", "\r\n")));
                    }
                    Err(code) => {
                        // `-0x%02x` of `-ret`: the negated status printed as unsigned hex.
                        out.error(&format!("failed\n !atcab_genkey returned -0x{:02x}", (*code as i32).wrapping_neg() as u32));
                        out.error("failure in generating Key");
                    }
                }
                key
            });
            out.status(matches!(result, Some(Ok(_))));
            session.state = if matches!(result, Some(Ok(_))) { 4 } else { 3 };
            match result {
                None => out.error("Reason: Invalid Usage"),
                Some(Err(code)) => out.error(&format!("Error in generating keys, returned {code:02x}")),
                Some(Ok(key)) => out.printf(&format!("\nPublic Key:\n{}", hex::encode(key))),
            }
        }
        "generate-pubkey" if !gated(&mut out, session.state, ATECC_INIT_SUCCESS) => {
            let slot = args.get(1).map(|a| atoi(a)).unwrap_or(0);
            let result = (args.len() == 2).then(|| {
                if !session.atcab_init || !(0..16).contains(&slot) {
                    return Err(0xE2);
                }
                hw.chip.get_pubkey(slot as usize).map_err(|e| u32::from(e.atca_status()))
            });
            out.status(matches!(result, Some(Ok(_))));
            session.state = if matches!(result, Some(Ok(_))) { 8 } else { 7 };
            match result {
                None => out.error("Reason: Invalid Usage"),
                Some(Err(code)) => out.error(&format!(
                    "Generating Public key failed, returned {code:02x}, \nNote: please check that you have called\n\
                     generate_keys command on slot {slot} at least once before you debug error code"
                )),
                Some(Ok(key)) => out.printf(&format!("\nPublic Key:\n{}", spaced_hex(&key) + " ")),
            }
        }
        "generate-csr" if !gated(&mut out, session.state, ATECC_INIT_SUCCESS) => {
            let result = (args.len() == 1).then(|| {
                if !session.atcab_init {
                    return Err(0xE2);
                }
                csr::create_csr(&hw.chip).map_err(|e| u32::from(e.atca_status()))
            });
            out.status(matches!(result, Some(Ok(_))));
            session.state = if matches!(result, Some(Ok(_))) { CSR_GEN_SUCCESS } else { 5 };
            match result {
                None => out.error("Reason: Invalid Usage"),
                Some(Err(code)) => out.error(&format!(
                    "Generating CSR failed, returned {code:02x}, \nNote: please check that you have called \n \
                     generate_keys command on slot mentioned in cert_def_3_device_csr.c in component/cryptoauthlib/port/ \n\
                     at least once before you debug error code"
                )),
                Some(Ok(der)) => out.printf(&format!("\n{}", csr::encode_pem(&der, "CERTIFICATE REQUEST"))),
            }
        }
        "provide-cert-def" if !gated(&mut out, session.state, ATECC_INIT_SUCCESS) => {
            let kind = args.get(1).map(|a| atoi(a));
            match (args.len(), kind, payload) {
                (2, Some(k @ (0 | 1)), Some(data)) => {
                    session.cert_def = Some(cert_def_from_string(data, k == 1));
                    out.status(true);
                    // Stored inverted by the firmware: success leaves GET_CERT_DEF_FAIL (10).
                    session.state = 10;
                }
                _ => {
                    out.status(false);
                    session.state = 9;
                    out.error("Failure");
                }
            }
        }
        "program-dev-cert" | "program-signer-cert" => program_cert(session, args, payload, hw, &mut out),
        "get-tngtls-root-cert" | "get-tngtls-signer-cert" | "get-tngtls-device-cert" => tngtls(session, args, hw, &mut out),
        _ => {}
    }
}

fn spaced_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

fn device_type(hw: &Hardware) -> &'static str {
    match hw.chip.read_config_zone()[16] {
        0x6A => "Trust&Go",
        0x6C => "TrustFlex",
        0x70 => "TrustManager",
        _ => "TrustCustom",
    }
}

fn init(session: &mut Session, args: &[String], hw: &mut Hardware, out: &mut Out) {
    session.state = 0;
    if args.len() != 3 {
        out.status(false);
        session.state = ATECC_INIT_FAIL;
        return out.error("Reason: Invalid Usage");
    }
    let (sda, scl) = (atoi(&args[1]) as u8, atoi(&args[2]) as u8);
    out.info(&format!("I2C pins selected are SDA = {sda}, SCL = {scl}"));
    let chip_present = (sda, scl) == (21, 22);
    let locked = if !chip_present {
        out.error("Failed to initialize atca device");
        Err(0xF0u8)
    } else {
        out.info(&format!("Device is of type {}", device_type(hw)));
        let config = if hw.chip.is_locked(Zone::Config) { Ok(()) } else { hw.chip.lock_zone(Zone::Config) };
        let data = config.and_then(|_| if hw.chip.is_locked(Zone::Data) { Ok(()) } else { hw.chip.lock_zone(Zone::Data) });
        data.map_err(|e| e.atca_status())
    };
    out.status(locked.is_ok());
    session.state = if locked.is_ok() { ATECC_INIT_SUCCESS } else { ATECC_INIT_FAIL };
    session.atcab_init = locked.is_ok();
    match locked {
        Ok(()) => out.info(&format!("ATECC608 Device Type: {}\n", device_type(hw))),
        Err(code) => out.error(&format!(
            "Initilization of ATECC failed, returned {code:02x}\nPlease check that the appropriate I2C pin numbers are provided to the python script"
        )),
    }
}

/// Parses the cert-def string onto the compiled device (`signer == false`) or signer definition.
fn cert_def_from_string(data: &[u8], signer: bool) -> CertDef {
    let text_len = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let field = |i: usize| -> usize {
        let raw = data.get(4 * i..4 * i + 4).unwrap_or(&[]);
        (libc_text::atoi(raw) as u16) as usize
    };
    let span = |i: usize| Span { offset: field(2 * i), count: field(2 * i + 1) };
    let template_size = text_len.saturating_sub(72) / 2;
    let template: Vec<u8> = (0..template_size)
        .map(|i| {
            let pair = data.get(72 + 2 * i..74 + 2 * i).unwrap_or(&[]);
            u8::from_str_radix(&String::from_utf8_lossy(pair), 16).unwrap_or(0)
        })
        .collect();
    let (issue, expire) = (span(2), span(3));
    let mut def = CertDef {
        template_id: if signer { 1 } else { 2 },
        chain_id: 0,
        sn_source: if signer { SN_STORED } else { SN_PUB_KEY_HASH },
        template,
        tbs: span(8),
        public_key: span(0),
        signature: span(1),
        issue_date: issue,
        expire_date: expire,
        signer_id: span(4),
        cert_sn: span(5),
        auth_key_id: span(6),
        subj_key_id: span(7),
        expire_years: if signer { 1 } else { 0 },
        public_key_dev: if signer { DevLoc::Slot { slot: 11, offset: 0, count: 72 } } else { DevLoc::GenKey { slot: 0 } },
        comp_cert_slot: if signer { 12 } else { 10 },
        cert_sn_dev: signer.then_some(DevLoc::Slot { slot: 14, offset: 0, count: 20 }),
        elements: Vec::new(),
    };
    if signer {
        // v1.2.0 builds these with zone/slot left zero: config-zone locations, never written.
        def.elements = vec![
            Element { device: DevLoc::Config { offset: 35usize.wrapping_sub(issue.offset), count: issue.count }, cert: issue },
            Element { device: DevLoc::Config { offset: 50usize.wrapping_sub(expire.offset), count: expire.count }, cert: expire },
        ];
    }
    def
}

fn program_cert(session: &mut Session, args: &[String], payload: Option<&[u8]>, hw: &mut Hardware, out: &mut Out) {
    let signer = args[0] == "program-signer-cert";
    if session.state < CSR_GEN_SUCCESS {
        return out.error("Generate the CSR before calling this function.");
    }
    if !(args.len() == 2 || args.len() == 3) {
        let usage = if signer { "program-signer-cert" } else { "program-dev-cert" };
        out.error(&format!("Invalid arguments. Expected usage: {usage} <lock> [CRC32]"));
        out.status(false);
        session.state = 12;
        return out.error("Reason: Invalid Usage");
    }
    let lock = atoi(&args[1]) == 1;
    let expected_crc = args.get(2).map(|a| libc_text::strtoul32(a.as_bytes())).unwrap_or(0);
    let result = match payload {
        None => {
            out.error("\ndevice is not initialized");
            Err(-1i64)
        }
        Some(data) => write_program(session, signer, lock, expected_crc, data, hw, out),
    };
    out.status(result.is_ok());
    session.state = if result.is_ok() { 13 } else { 12 };
    if let Err(code) = result {
        let which = if signer { "signer" } else { "device" };
        out.error(&format!("Programming {which} cert failed, returned {code}"));
    }
}

fn write_program(session: &Session, signer: bool, lock: bool, expected_crc: u32, data: &[u8], hw: &mut Hardware, out: &mut Out) -> Result<(), i64> {
    let received_crc = crc32fast::hash(data);
    if received_crc != expected_crc {
        out.error(&format!("CRC32 mismatch! Expected: {expected_crc}, Received: {received_crc}"));
        return Err(-1);
    }
    // `der_cert[800]`, then a NUL is stored after the DER: at most 799 bytes fit.
    let Some(der) = libc_text::pem_to_der(data, 799) else {
        out.error("error in converting to der");
        return Err(-1);
    };
    let def = session.cert_def.as_ref().ok_or(-1i64)?;
    let which = if signer { "signer" } else { "device" };
    if let Err(e) = write_cert(&mut hw.chip, def, &der) {
        out.error(&format!("writecert failed , ret is {:02x}", e.code()));
        out.error(&format!("Please make sure that the {which} cert slot is not locked"));
        return Err(i64::from(e.code()));
    }
    if lock {
        let slot = if signer { 12 } else { 10 };
        if let Err(e) = hw.chip.lock_slot(slot) {
            let name = if signer { "Failed to lock slot 12 (signer certificate)," } else { "Failed to lock slot 10 (device certificate)" };
            out.error(name);
            out.error("This action is supposed to fail if the slot is already locked");
            return Err(i64::from(e.atca_status()));
        }
        // The signer branch prints 10 as the slot number (sic).
        out.info("Slot 10 has been locked, and cannot be used again");
    }
    Ok(())
}

fn tngtls(session: &mut Session, args: &[String], hw: &mut Hardware, out: &mut Out) {
    let (label, need, ok_state, fail_state) = match args[0].as_str() {
        "get-tngtls-root-cert" => ("Root", ATECC_INIT_SUCCESS, 15, 14),
        "get-tngtls-signer-cert" => ("Signer", ATECC_INIT_SUCCESS, 17, 16),
        _ => ("Device", TNGTLS_SIGNER_CERT_SUCCESS, 19, 18),
    };
    if session.state < need {
        return if session.state < ATECC_INIT_SUCCESS {
            out.error("Please Initialize device before calling this function")
        } else {
            out.error("Please execute get-tngtls-signer-cert command as this command requires signer cert")
        };
    }
    let result = (args.len() == 1).then(|| crate::atecc::trust_and_go::certificate(&hw.chip, label));
    out.status(matches!(result, Some(Ok(_))));
    session.state = if matches!(result, Some(Ok(_))) { ok_state } else { fail_state };
    match result {
        None => out.error("Reason: Invalid Usage"),
        Some(Err(code)) => {
            let name = match label {
                "Root" => "tngtls_root",
                "Signer" => "tngtls_signer",
                _ => "tngtls_siger",
            };
            out.error(&format!("Failed to obtain {name} cert, returned {code:02x}"));
        }
        Some(Ok(der)) => out.printf(&format!("\n {label} Cert Len:{}\n\nCertificate:\n{}", der.len(), hex::encode(der))),
    }
}
