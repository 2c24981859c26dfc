//! [`StepDeadlines`]: the pipeline's per-step deadlines, common to both firmwares, and how each driver maps them.
//!
//! The station's settings name four waits an engineer can tune (handshake, configure/lock, key
//! generation/CSR, certificate write/verify). Each firmware's driver has finer deadlines
//! ([`RainbowtypeTimeouts`], [`EspHelperTimeouts`]); the defaults here are exactly the drivers' own.

use std::time::Duration;

use crate::{EspHelperTimeouts, FirmwareKind, RainbowtypeTimeouts};

/// Deadlines of the board steps of one provisioning run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepDeadlines {
    /// The firmware's start-up output or prompt after opening (rainbowtype: the boot dump; helper: its prompt and version).
    pub handshake: Duration,
    /// Configuring and locking the chip (rainbowtype `r`; helper `init`).
    pub configure: Duration,
    /// Reading or generating the device key and CSR (rainbowtype `k`; helper `generate-keys`/`generate-csr`).
    pub key: Duration,
    /// Writing and verifying the certificates (rainbowtype `q`; helper each `program-*-cert`).
    pub write: Duration,
}

impl StepDeadlines {
    /// The drivers' built-in deadlines for `kind`.
    pub fn defaults(kind: FirmwareKind) -> Self {
        match kind {
            FirmwareKind::Rainbowtype => {
                let t = RainbowtypeTimeouts::default();
                StepDeadlines { handshake: t.boot, configure: t.configure, key: t.key, write: t.provision }
            }
            FirmwareKind::EspHelper => {
                let t = EspHelperTimeouts::default();
                StepDeadlines { handshake: t.handshake, configure: t.init, key: t.keys, write: t.program }
            }
        }
    }
}

impl RainbowtypeTimeouts {
    /// The driver's deadlines with the four tunable ones from `steps` (the others stay at their defaults).
    pub fn from_steps(steps: &StepDeadlines) -> Self {
        RainbowtypeTimeouts { boot: steps.handshake, configure: steps.configure, key: steps.key, provision: steps.write, ..RainbowtypeTimeouts::default() }
    }
}

impl EspHelperTimeouts {
    /// The driver's deadlines with the four tunable ones from `steps` (the others stay at their defaults).
    pub fn from_steps(steps: &StepDeadlines) -> Self {
        EspHelperTimeouts { handshake: steps.handshake, init: steps.configure, keys: steps.key, program: steps.write, ..EspHelperTimeouts::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_map_back_to_the_drivers_own_deadlines() {
        assert_eq!(RainbowtypeTimeouts::from_steps(&StepDeadlines::defaults(FirmwareKind::Rainbowtype)), RainbowtypeTimeouts::default());
        assert_eq!(EspHelperTimeouts::from_steps(&StepDeadlines::defaults(FirmwareKind::EspHelper)), EspHelperTimeouts::default());
    }
}
