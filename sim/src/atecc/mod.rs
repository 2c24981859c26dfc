//! A model of the ATECC608A secure element: zones, locks, slots, keys, persisted per board.

pub mod config;
mod ops;
pub use ops::Zone;
mod status;
pub mod trust_and_go;

pub use status::ChipError;

use crate::clock::SimClock;
use crate::SimError;
use config::{factory_config, slot_size, CONFIG_SIZE};
use rand::RngCore;
use std::path::{Path, PathBuf};

/// The 7-bit-shifted (8-bit) I²C address of a TrustCUSTOM part.
pub const ADDRESS_TRUST_CUSTOM: u8 = 0xC0;

/// One simulated ATECC608A. State changes are written to its state file at once, so a
/// "power cycle" (a new `Atecc608::open` on the same file) keeps everything a real chip keeps.
#[derive(Debug)]
pub struct Atecc608 {
    config: [u8; CONFIG_SIZE],
    otp: [u8; 64],
    slots: Vec<Vec<u8>>,
    /// Trust&Go parts only: root, signer and device certificates (DER) of the Microchip-style chain.
    factory_certs: Vec<Vec<u8>>,
    clock: SimClock,
    state_file: Option<PathBuf>,
}

/// The on-disk form of the chip state (hex strings, one file per board).
#[derive(serde::Serialize, serde::Deserialize)]
struct ChipFile {
    config: String,
    otp: String,
    slots: Vec<String>,
    #[serde(default)]
    factory_certs: Vec<String>,
}

impl Atecc608 {
    /// A fresh, unlocked part with a random serial (`01 23 xx xx xx xx xx xx EE`) and empty slots.
    pub fn new_blank(clock: SimClock) -> Self {
        let mut random = [0u8; 6];
        rand::thread_rng().fill_bytes(&mut random);
        let serial = [0x01, 0x23, random[0], random[1], random[2], random[3], random[4], random[5], 0xEE];
        Self::with_serial(serial, clock)
    }

    /// A fresh, unlocked part with the given serial (tests use fixed serials).
    pub fn with_serial(serial: [u8; 9], clock: SimClock) -> Self {
        Atecc608 {
            config: factory_config(&serial, ADDRESS_TRUST_CUSTOM),
            otp: [0u8; 64],
            slots: (0..16).map(|slot| vec![0u8; slot_size(slot)]).collect(),
            factory_certs: Vec::new(),
            clock,
            state_file: None,
        }
    }

    /// Opens the chip persisted in `path`, or creates a blank part there when the file does not exist.
    pub fn open(path: &Path, clock: SimClock) -> Result<Self, SimError> {
        let mut chip = if path.exists() {
            Self::load(path, clock)?
        } else {
            Self::new_blank(clock)
        };
        chip.state_file = Some(path.to_path_buf());
        chip.save()?;
        Ok(chip)
    }

    /// Reads the chip persisted in `path` without ever writing it back (another process or thread may own it).
    pub fn read_only(path: &Path, clock: SimClock) -> Result<Self, SimError> {
        Self::load(path, clock)
    }

    fn load(path: &Path, clock: SimClock) -> Result<Self, SimError> {
        let bad = |why: String| SimError::BadState { path: path.to_path_buf(), why };
        let text = std::fs::read_to_string(path).map_err(|e| SimError::io(path, e))?;
        let file: ChipFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let config: [u8; CONFIG_SIZE] = decode_fixed(&file.config).ok_or_else(|| bad("config zone".into()))?;
        let otp: [u8; 64] = decode_fixed(&file.otp).ok_or_else(|| bad("OTP zone".into()))?;
        if file.slots.len() != 16 {
            return Err(bad(format!("{} slots instead of 16", file.slots.len())));
        }
        let mut slots = Vec::with_capacity(16);
        for (slot, text) in file.slots.iter().enumerate() {
            let bytes = hex::decode(text).map_err(|e| bad(format!("slot {slot}: {e}")))?;
            if bytes.len() != slot_size(slot) {
                return Err(bad(format!("slot {slot} has {} bytes", bytes.len())));
            }
            slots.push(bytes);
        }
        let factory_certs = file
            .factory_certs
            .iter()
            .map(|text| hex::decode(text).map_err(|e| bad(format!("factory certificate: {e}"))))
            .collect::<Result<_, _>>()?;
        Ok(Atecc608 { config, otp, slots, factory_certs, clock, state_file: None })
    }

    /// Writes the state file (no-op for chips without one).
    pub(crate) fn save(&self) -> Result<(), SimError> {
        let Some(path) = &self.state_file else { return Ok(()) };
        let file = ChipFile {
            config: hex::encode(self.config),
            otp: hex::encode(self.otp),
            slots: self.slots.iter().map(hex::encode).collect(),
            factory_certs: self.factory_certs.iter().map(hex::encode).collect(),
        };
        let text = serde_json::to_string_pretty(&file).expect("chip state serialises");
        crate::persist::write_atomically(path, text.as_bytes())
    }

    /// Persists after a state change; a failing disk is logged, the chip keeps working in memory.
    fn commit(&self) {
        if let Err(error) = self.save() {
            tracing::warn!(%error, "could not persist the simulated chip state");
        }
    }

    /// The chip's 8-bit I²C address (config byte 16): where it answers on the bus.
    pub fn i2c_address(&self) -> u8 {
        self.config[16]
    }

    /// The serial number without a (charged) Read command: for the board's own bookkeeping.
    pub fn peek_serial(&self) -> [u8; 9] {
        config::serial_of(&self.config)
    }

    /// The clock this chip charges its execution times to.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// Replaces the clock (a board hands its own clock to the chip it carries).
    pub fn set_clock(&mut self, clock: SimClock) {
        self.clock = clock;
    }
}

fn decode_fixed<const N: usize>(text: &str) -> Option<[u8; N]> {
    hex::decode(text).ok()?.try_into().ok()
}
