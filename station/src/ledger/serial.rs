//! [`DeviceSerial`]: the ATECC608A chip serial that keys the ledger, checked strictly.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::LedgerError;

/// A chip serial: exactly 18 lowercase hex characters (the chip's 9-byte serial number).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(transparent)]
pub struct DeviceSerial(String);

impl DeviceSerial {
    /// Length of the text form.
    pub const LEN: usize = 18;

    /// Parses the stored form strictly: 18 characters from `0-9a-f`, nothing else (no spaces, no uppercase).
    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        if text.len() == Self::LEN && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(text.to_owned()))
        } else {
            Err(LedgerError::InvalidSerial { serial: text.chars().take(40).collect() })
        }
    }

    /// Parses what an operator typed: surrounding spaces and uppercase hex are accepted.
    pub fn from_user(text: &str) -> Result<Self, LedgerError> {
        Self::parse(&text.trim().to_ascii_lowercase())
    }

    /// The serial of a chip's 9 serial-number bytes.
    pub fn from_chip(bytes: &[u8; 9]) -> Self {
        Self(hex::encode(bytes))
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DeviceSerial {
    type Err = LedgerError;

    fn from_str(text: &str) -> Result<Self, LedgerError> {
        Self::parse(text)
    }
}
