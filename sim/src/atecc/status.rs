//! Why an ATECC608A command was refused, with the CryptoAuthLib status code a firmware would print.

/// A refusal by the simulated chip. `atca_status()` gives the `ATCA_STATUS` value that
/// CryptoAuthLib (v3.3.0 … 3.8.0) returns to firmware for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChipError {
    /// The chip answered with status 0x0F: the command is not allowed in the current lock/slot state.
    #[error("the ATECC608A refused the command in its current lock state (execution error); check zone and slot locks")]
    Execution,
    /// The chip answered with status 0x03: a parameter is out of range for the command.
    #[error("the ATECC608A could not parse the command (bad slot, offset or length)")]
    Parse,
    /// CryptoAuthLib rejected the call before sending it (bad argument).
    #[error("bad parameter for the ATECC608A command; check slot number, offset and length")]
    BadParam,
    /// The slot holds no valid key yet (GetPubKey/Sign on a slot that never saw GenKey).
    #[error("the slot holds no valid private key; run GenKey on it first")]
    NoKey,
}

impl ChipError {
    /// The `ATCA_STATUS` code CryptoAuthLib reports for this refusal.
    pub fn atca_status(self) -> u8 {
        match self {
            ChipError::Execution => 0xF4,
            ChipError::Parse => 0xD2,
            ChipError::BadParam => 0xE2,
            // A key slot without a key makes the chip's ECC engine fail: ATCA_STATUS_ECC.
            ChipError::NoKey => 0xD6,
        }
    }
}
