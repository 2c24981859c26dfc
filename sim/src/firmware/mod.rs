//! The firmwares a simulated board can run, and how to start them.

pub mod console;
pub mod esp_helper;
pub mod flash_boot;
mod esp_helper_commands;
pub mod libc_text;
pub mod rainbowtype;
pub mod rom;
pub mod slip;
mod rainbowtype_provision;

use crate::board::{Firmware, Hardware, Next};
use crate::SimError;
use std::str::FromStr;

/// Which firmware a board runs after power-on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FirmwareKind {
    /// kmwebnet rainbowtype-provisioning2, flashed.
    #[default]
    Rainbowtype,
    /// Espressif esp_cryptoauth_utility helper v1.2.0, already RAM-loaded.
    EspHelper,
    /// The ESP32 ROM serial bootloader (board strapped into download mode).
    Rom,
}

impl FromStr for FirmwareKind {
    type Err = SimError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "rainbowtype" => Ok(FirmwareKind::Rainbowtype),
            "esp-helper" => Ok(FirmwareKind::EspHelper),
            "rom" => Ok(FirmwareKind::Rom),
            other => Err(SimError::BadFirmware(other.to_string())),
        }
    }
}

impl std::fmt::Display for FirmwareKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FirmwareKind::Rainbowtype => "rainbowtype",
            FirmwareKind::EspHelper => "esp-helper",
            FirmwareKind::Rom => "rom",
        })
    }
}

/// The sample certificates a rainbowtype firmware build compiled into its `cert_chain.c`
/// (what `cert2certdef.py` was run on). DER, P-256, X.509.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertChain {
    /// Sample signer certificate.
    pub signer: Vec<u8>,
    /// Sample device certificate (CN = 18 characters).
    pub device: Vec<u8>,
}

impl CertChain {
    /// Reads `signer.der` and `device.der` (or `.pem`) from `dir`.
    pub fn from_dir(dir: &std::path::Path) -> Result<Self, SimError> {
        let read = |name: &str| -> Result<Vec<u8>, SimError> {
            let der_path = dir.join(format!("{name}.der"));
            if der_path.exists() {
                return std::fs::read(&der_path).map_err(|e| SimError::io(&der_path, e));
            }
            let pem_path = dir.join(format!("{name}.pem"));
            let text = std::fs::read_to_string(&pem_path).map_err(|e| SimError::io(&pem_path, e))?;
            let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body.trim())
                .map_err(|e| SimError::BadState { path: pem_path.clone(), why: e.to_string() })
        };
        Ok(CertChain { signer: read("signer")?, device: read("device")? })
    }
}

/// A fresh instance of `kind`, not yet started. `cert_chain` is the rainbowtype build's compiled
/// certificate templates; without it the firmware is "built" for the profile of the uploads.
pub fn start(kind: FirmwareKind, cert_chain: Option<std::sync::Arc<CertChain>>) -> Box<dyn Firmware> {
    match kind {
        FirmwareKind::Rainbowtype => Box::new(rainbowtype::Rainbowtype::with_cert_chain(cert_chain)),
        FirmwareKind::EspHelper => Box::new(esp_helper::EspHelper::default()),
        FirmwareKind::Rom => Box::new(rom::RomLoader::default()),
    }
}

/// The helper right after a ROM RAM load: it waits for `version` only ~1.1 s of board time.
pub fn start_ram_loaded_helper() -> Box<dyn Firmware> {
    Box::new(esp_helper::EspHelper::with_handshake_window(esp_helper::HANDSHAKE_WINDOW))
}

/// A board that ignores its input (crashed, finished or without a bootable image).
pub fn halted() -> Box<dyn Firmware> {
    Box::new(Halted)
}

#[derive(Debug)]
struct Halted;

impl Firmware for Halted {
    fn start(&mut self, _hw: &mut Hardware) -> Vec<u8> {
        Vec::new()
    }
    fn receive(&mut self, _chunk: &[u8], _hw: &mut Hardware, _out: &mut Vec<u8>) -> Next {
        Next::Stay
    }
}
