//! Driver for Espressif's esp_cryptoauth_utility helper v1.2.0: handshake, `\r`-terminated command lines, NUL-terminated payloads.
//!
//! One command is outstanding at a time: the driver sends `command\r`, waits for the echo of the
//! line, sends the payload and its NUL where the command takes one, then waits for the Status line
//! and the next `>>` prompt. A prompt without a Status line is a refusal (state gate or unknown
//! command). Programming commands carry the CRC-32 of the exact PEM bytes sent.

mod probe;

use std::time::Duration;

use crate::firmware::{CertUpload, ChipLock, FirmwareKind, Hello, KeyMaterial, ProvisioningFirmware, Verification, WriteReport};
use crate::parse::esp_helper::{self as p, HelperReply, HANDSHAKE_PROMPT, PROMPT};
use crate::parse::{self, normalise};
use crate::{pem, BoardError, SerialLink};

/// The helper version this driver speaks.
pub const HELPER_VERSION: &str = "v1.2.0";
/// Largest payload the helper reads with its NUL (1200-byte buffer).
const MAX_PAYLOAD: usize = 1198;
/// Attempts of a certificate write (provide-cert-def + program) after a CRC mismatch.
const WRITE_ATTEMPTS: u32 = 3;

/// Per-step deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EspHelperTimeouts {
    /// Handshake prompt and version reply.
    pub handshake: Duration,
    /// Silence after opening that makes the driver probe (prompt already read elsewhere).
    pub silent_probe: Duration,
    /// `init`.
    pub init: Duration,
    /// Quick commands (chip info, public key, cert-def).
    pub command: Duration,
    /// `generate-keys` and `generate-csr`.
    pub keys: Duration,
    /// `program-*-cert`.
    pub program: Duration,
}

impl Default for EspHelperTimeouts {
    fn default() -> Self {
        EspHelperTimeouts {
            handshake: Duration::from_secs(10),
            silent_probe: Duration::from_millis(1500),
            init: Duration::from_secs(5),
            command: Duration::from_secs(3),
            keys: Duration::from_secs(5),
            program: Duration::from_secs(5),
        }
    }
}

/// A board running the RAM-loaded helper.
#[derive(Debug)]
pub struct EspHelper {
    link: SerialLink,
    timeouts: EspHelperTimeouts,
    pins: (u8, u8),
}

enum Start {
    Prompt(usize),
    CommandLine,
    Other(&'static str),
    Gone(&'static str),
    Silent,
}

impl EspHelper {
    /// A driver on an open link (ATECC608A on SDA 21, SCL 22).
    pub fn new(link: SerialLink) -> Self {
        EspHelper { link, timeouts: EspHelperTimeouts::default(), pins: (21, 22) }
    }

    /// Other deadlines.
    pub fn with_timeouts(mut self, timeouts: EspHelperTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Other I²C pins for `init`.
    pub fn with_pins(mut self, sda: u8, scl: u8) -> Self {
        self.pins = (sda, scl);
        self
    }

    /// Runs one command line (and its payload); returns the reply up to the next prompt.
    fn command(&mut self, line: &str, payload: Option<&[u8]>, timeout: Duration) -> Result<HelperReply, BoardError> {
        debug_assert!(!line.contains('\r') && !line.contains('\n'));
        self.link.clear();
        self.link.write(format!("{line}\r").as_bytes())?;
        let echo = format!("{line}\n");
        let after = self.link.read_until("the echo of the command line", timeout, |raw| {
            let text = normalise(raw);
            text.find(&echo).map(|at| at + echo.len())
        })?;
        if let Some(data) = payload {
            // Payload and NUL in one write: a host stopped between the two would leave the payload open.
            let mut framed = Vec::with_capacity(data.len() + 1);
            framed.extend_from_slice(data);
            framed.push(0);
            self.link.write(&framed)?;
        }
        self.link.read_until("the helper's reply and prompt", timeout, |raw| p::command_reply(normalise(raw).get(after..).unwrap_or("")))
    }

    /// A command that must print `Status: Success`.
    fn command_ok(&mut self, step: &'static str, line: &str, payload: Option<&[u8]>, timeout: Duration) -> Result<String, BoardError> {
        let reply = self.command(line, payload, timeout)?;
        match reply.status {
            Some(true) => Ok(reply.body),
            Some(false) => Err(BoardError::FirmwareFailure { step, detail: parse::detail(&reply.body) }),
            None => Err(BoardError::FirmwareFailure { step, detail: format!("refused without a status: {}", parse::detail(&reply.body)) }),
        }
    }

    fn wait_start(&mut self) -> Result<Start, BoardError> {
        let mut quiet = crate::link::QuietTracker::new(self.link.clock().clone());
        let silent_after = self.timeouts.silent_probe;
        self.link.read_until("the helper's prompt (Initializing Command line: >>)", self.timeouts.handshake, |raw| {
            let text = normalise(raw);
            if let Some(what) = p::helper_gone(&text) {
                return Some(Start::Gone(what));
            }
            if let Some(at) = text.find(HANDSHAKE_PROMPT) {
                return Some(Start::Prompt(at + HANDSHAKE_PROMPT.len()));
            }
            if text.ends_with(PROMPT) {
                return Some(Start::CommandLine);
            }
            if let Some(other) = parse::identify(&text).filter(|f| *f != "esp-helper") {
                return Some(Start::Other(other));
            }
            quiet.quiet_for(raw.len(), silent_after).then_some(Start::Silent)
        })
    }

    /// The CLI is running: ask `version` as a command (no Status line; prints the version).
    fn version_command(&mut self) -> Result<String, BoardError> {
        for _ in 0..2 {
            let reply = self.command("version", None, self.timeouts.command)?;
            if let Some(line) = reply.body.lines().map(str::trim).find(|l| l.starts_with('v')) {
                if let Some(version) = p::handshake_version(&format!("{line}\n"), 0)? {
                    return Ok(version);
                }
            }
        }
        Err(BoardError::Malformed { what: "version", reason: "`version` printed no version".into() })
    }

    fn write_one(&mut self, which: &'static str, def_index: u8, program: &str, cert_def: &str, der: &[u8]) -> Result<(), BoardError> {
        let pem_text = pem::encode("CERTIFICATE", der);
        check_payload("cert-def string", cert_def.as_bytes())?;
        check_payload("certificate PEM", pem_text.as_bytes())?;
        let crc = crc32fast::hash(pem_text.as_bytes());
        self.command_ok("provide-cert-def", &format!("provide-cert-def {def_index}"), Some(cert_def.as_bytes()), self.timeouts.command)?;
        match self.command_ok("program certificate", &format!("{program} 0 {crc}"), Some(pem_text.as_bytes()), self.timeouts.program) {
            Err(BoardError::FirmwareFailure { detail, .. }) if detail.contains("CRC32 mismatch") => Err(BoardError::EchoMismatch { what: which }),
            other => other.map(drop),
        }
    }
}

fn check_payload(what: &'static str, data: &[u8]) -> Result<(), BoardError> {
    if data.len() > MAX_PAYLOAD {
        return Err(BoardError::TooLarge { what, size: data.len(), limit: MAX_PAYLOAD });
    }
    if data.contains(&0) {
        return Err(BoardError::Malformed { what: "payload", reason: format!("the {what} holds a NUL byte") });
    }
    Ok(())
}

fn holds_key(der: &[u8], key: &[u8; 64]) -> bool {
    let mut point = [0u8; 65];
    point[0] = 0x04;
    point[1..].copy_from_slice(key);
    der.windows(65).any(|w| w == point)
}

impl ProvisioningFirmware for EspHelper {
    fn kind(&self) -> FirmwareKind {
        FirmwareKind::EspHelper
    }

    fn handshake(&mut self) -> Result<Hello, BoardError> {
        let (version, resumed) = match self.wait_start()? {
            Start::Prompt(after) => {
                // The helper reads exactly 7 bytes for ~1.1 s: answer at once, once.
                self.link.write(b"version")?;
                let version = self.link.read_until("the version after the handshake", self.timeouts.handshake, |raw| {
                    let text = normalise(raw);
                    match p::helper_gone(&text) {
                        Some(what) => Some(Err(BoardError::HelperNotAnswering { seen: what.into() })),
                        None => p::handshake_version(&text, after).transpose(),
                    }
                })??;
                self.link.read_until("the first command prompt", self.timeouts.command, |raw| normalise(raw).get(after..).unwrap_or("").contains(PROMPT).then_some(()))?;
                (version, false)
            }
            Start::CommandLine => (self.version_command()?, true),
            Start::Other(found) => return Err(BoardError::WrongFirmware { expected: "esp-helper", found: found.into() }),
            Start::Gone(what) => return Err(BoardError::HelperNotAnswering { seen: what.into() }),
            Start::Silent => (self.probe_silent_board()?, true),
        };
        if version != HELPER_VERSION {
            return Err(BoardError::WrongFirmware { expected: "esp-helper", found: format!("esp_cryptoauth_utility helper {version} (Keyline drives {HELPER_VERSION})") });
        }
        Ok(Hello { version: Some(version), serial: None, config_locked: None, resumed })
    }

    fn configure_and_lock(&mut self) -> Result<ChipLock, BoardError> {
        let (sda, scl) = self.pins;
        let body = self.command_ok("init", &format!("init {sda} {scl}"), None, self.timeouts.init)?;
        let chip_type = p::device_type(&body)?;
        if chip_type != "TrustCustom" && chip_type != "TrustManager" {
            return Err(BoardError::UnsupportedChip { chip: chip_type });
        }
        Ok(ChipLock { chip_type, locked_now: None })
    }

    fn read_serial(&mut self) -> Result<[u8; 9], BoardError> {
        let body = self.command_ok("print-chip-info", "print-chip-info", None, self.timeouts.command)?;
        p::chip_serial(&body)
    }

    fn public_key(&mut self, known: Option<&[u8; 64]>) -> Result<KeyMaterial, BoardError> {
        let mut key = None;
        if known.is_some() {
            // Keep the key the ledger already holds a certificate for: read, do not regenerate.
            if let Ok(body) = self.command_ok("generate-pubkey", "generate-pubkey 0", None, self.timeouts.command) {
                key = Some(p::public_key(&body)?);
            }
        }
        let generated = key.is_none();
        let public_key = match key {
            Some(key) => key,
            None => p::public_key(&self.command_ok("generate-keys", "generate-keys 0", None, self.timeouts.keys)?)?,
        };
        let body = self.command_ok("generate-csr", "generate-csr", None, self.timeouts.keys)?;
        let csr = p::csr(&body)?;
        Ok(KeyMaterial { public_key, csr_der: Some(csr), generated })
    }

    fn write_certificates(&mut self, upload: &CertUpload) -> Result<WriteReport, BoardError> {
        let missing = || BoardError::Malformed { what: "upload", reason: "the helper needs the cert-def strings of both certificates".into() };
        let device_def = upload.device_cert_def.clone().ok_or_else(missing)?;
        let signer_def = upload.signer_cert_def.clone().ok_or_else(missing)?;
        let mut attempts = 0;
        for (which, index, program, def, der) in [
            ("device certificate", 0u8, "program-dev-cert", &device_def, &upload.device_der),
            ("signer certificate", 1u8, "program-signer-cert", &signer_def, &upload.signer_der),
        ] {
            let mut done = false;
            for attempt in 1..=WRITE_ATTEMPTS {
                attempts += 1;
                match self.write_one(which, index, program, def, der) {
                    Ok(()) => {
                        done = true;
                        break;
                    }
                    Err(e) if e.is_transient() && attempt < WRITE_ATTEMPTS => tracing::debug!(attempt, error = %e, "helper write not confirmed; again"),
                    Err(e) => return Err(e),
                }
            }
            debug_assert!(done);
        }
        Ok(WriteReport { checks: vec!["crc32-device".into(), "crc32-signer".into(), "status-success".into()], attempts })
    }

    fn verify(&mut self, upload: &CertUpload) -> Result<Verification, BoardError> {
        let body = self.command_ok("generate-pubkey", "generate-pubkey 0", None, self.timeouts.command)?;
        let key = p::public_key(&body)?;
        if !holds_key(&upload.device_der, &key) {
            return Err(BoardError::FirmwareFailure { step: "verify", detail: "slot 0 holds another key than the device certificate".into() });
        }
        Ok(Verification { methods: vec!["crc32-status".into(), "slot0-public-key".into()] })
    }

    fn link(&self) -> &SerialLink {
        &self.link
    }
}
