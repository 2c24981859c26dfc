//! Deterministic fault injection on a board's serial line: corruption, drops, a reset mid-command, vanishing.

use crate::SimError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::str::FromStr;

/// What can go wrong on one board, parsed from
/// `corrupt=0.01,drop=0.001,reset=0.0002,vanish=0.0001,reset-after=500,vanish-after=2000,seed=7`.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct FaultSpec {
    /// Probability that a byte crossing the line (either direction) has one random bit flipped.
    pub corrupt: f64,
    /// Probability that a byte crossing the line (either direction) is lost.
    pub drop: f64,
    /// Probability that the board resets (a brown-out) right after receiving a byte.
    #[serde(default)]
    pub reset: f64,
    /// Probability that the board disappears (its port closes) right after receiving a byte.
    #[serde(default)]
    pub vanish: f64,
    /// The board resets once, after it has received this many bytes (mid-command).
    pub reset_after: Option<u64>,
    /// The board disappears (its port closes) after it has received this many bytes.
    pub vanish_after: Option<u64>,
    /// Seed of the fault generator; the same seed and traffic give the same faults.
    pub seed: u64,
}

impl FaultSpec {
    /// True when no fault is configured.
    pub fn is_none(&self) -> bool {
        self.corrupt == 0.0 && self.drop == 0.0 && self.reset == 0.0 && self.vanish == 0.0 && self.reset_after.is_none() && self.vanish_after.is_none()
    }
}

impl FromStr for FaultSpec {
    type Err = SimError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || SimError::BadFaults(text.to_string());
        let mut spec = FaultSpec::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty() && *p != "none") {
            let (key, value) = part.split_once('=').ok_or_else(bad)?;
            let rate = || value.parse::<f64>().ok().filter(|r| (0.0..=1.0).contains(r)).ok_or_else(bad);
            let count = || value.parse::<u64>().map_err(|_| bad());
            match key.trim() {
                "corrupt" => spec.corrupt = rate()?,
                "drop" => spec.drop = rate()?,
                "reset" => spec.reset = rate()?,
                "vanish" => spec.vanish = rate()?,
                "reset-after" => spec.reset_after = Some(count()?),
                "vanish-after" => spec.vanish_after = Some(count()?),
                "seed" => spec.seed = count()?,
                _ => return Err(bad()),
            }
        }
        Ok(spec)
    }
}

/// What the line did to a chunk the host sent.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Inbound {
    /// The bytes the board actually receives (before a reset/vanish point).
    pub bytes: Vec<u8>,
    /// The board resets after receiving `bytes`.
    pub reset: bool,
    /// The board disappears after receiving `bytes`.
    pub vanish: bool,
}

/// The faults that actually happened on one board's line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultTally {
    /// Bytes with a flipped bit (both directions).
    pub corrupted: u64,
    /// Bytes lost (both directions).
    pub dropped: u64,
    /// Resets by fault injection.
    pub resets: u64,
    /// The board vanished.
    pub vanished: bool,
}

/// Applies a `FaultSpec` to the traffic of one board.
#[derive(Debug)]
pub struct FaultInjector {
    spec: FaultSpec,
    rng: ChaCha8Rng,
    received: u64,
    reset_done: bool,
    tally: FaultTally,
}

impl FaultInjector {
    /// An injector for board `index` (each board gets its own stream derived from the seed).
    pub fn new(spec: FaultSpec, index: usize) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(spec.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        FaultInjector { spec, rng, received: 0, reset_done: false, tally: FaultTally::default() }
    }

    /// The faults injected so far.
    pub fn tally(&self) -> FaultTally {
        self.tally
    }

    /// Passes host → board bytes through the line.
    pub fn inbound(&mut self, chunk: &[u8]) -> Inbound {
        let mut out = Inbound::default();
        for &byte in chunk {
            self.received += 1;
            if let Some(byte) = self.line(byte) {
                out.bytes.push(byte);
            }
            let vanish_now = self.spec.vanish > 0.0 && self.rng.gen_bool(self.spec.vanish);
            if vanish_now || self.spec.vanish_after.is_some_and(|n| self.received >= n) {
                self.tally.vanished = true;
                out.vanish = true;
                return out;
            }
            let reset_at_count = !self.reset_done && self.spec.reset_after.is_some_and(|n| self.received >= n);
            if reset_at_count || (self.spec.reset > 0.0 && self.rng.gen_bool(self.spec.reset)) {
                self.reset_done |= reset_at_count;
                self.tally.resets += 1;
                out.reset = true;
                return out;
            }
        }
        out
    }

    /// Passes board → host bytes through the line.
    pub fn outbound(&mut self, bytes: &[u8]) -> Vec<u8> {
        if self.spec.corrupt == 0.0 && self.spec.drop == 0.0 {
            return bytes.to_vec();
        }
        bytes.iter().filter_map(|&b| self.line(b)).collect()
    }

    fn line(&mut self, byte: u8) -> Option<u8> {
        if self.spec.drop > 0.0 && self.rng.gen_bool(self.spec.drop) {
            self.tally.dropped += 1;
            return None;
        }
        if self.spec.corrupt > 0.0 && self.rng.gen_bool(self.spec.corrupt) {
            self.tally.corrupted += 1;
            return Some(byte ^ (1 << self.rng.gen_range(0..8)));
        }
        Some(byte)
    }
}
