//! Talking to ESP32 + ATECC608A boards over serial: a bounded transport, one driver per provisioning firmware, strict parsers.
//!
//! - [`SerialLink`] opens a port at a baud rate, writes, and reads only with deadlines (from an
//!   injected [`Clock`]) and a [`CancelToken`]; every byte in both directions goes to an optional
//!   [`ByteLog`] callback (the per-port serial log).
//! - [`ProvisioningFirmware`] is what the station's pipeline drives: handshake, configure and lock,
//!   serial, public key / CSR, write certificates, verify. [`Rainbowtype`] and [`EspHelper`]
//!   implement it. Both wait for the exact reply tokens their firmware prints, pace input the way
//!   the firmware receives it, time out per step, and retry only steps that are safe to repeat.
//! - [`ResetStrategy`] resets a board (DTR/RTS, USB-Serial-JTAG or a simulator's FIFO) after its port is open.
//! - [`parse`] holds the strict, bounded parsers for every reply (fuzzed by `board/fuzz`).
//!
//! What this crate does not do: issue certificates, keep records or print anything.
#![warn(missing_docs)]

mod clock;
mod deadlines;
mod error;
mod esp_helper;
mod firmware;
pub mod flash;
mod link;
pub mod parse;
mod pem;
mod rainbowtype;
mod reset;

pub use clock::{CancelToken, Clock, SystemClock};
pub use deadlines::StepDeadlines;
pub use error::{BoardError, BoardErrorCode};
pub use esp_helper::{EspHelper, EspHelperTimeouts, HELPER_VERSION};
pub use firmware::{driver_on, driver_with, open_driver, open_driver_with, CertUpload, ChipLock, FirmwareKind, Hello, KeyMaterial, ProvisioningFirmware, Verification, WriteReport};
pub use link::{ByteLog, Direction, LinkStats, SerialLink, DEFAULT_BAUD};
pub use reset::{BootMode, ResetStrategy, USB_JTAG_ID};
pub use rainbowtype::{Pacing, Rainbowtype, RainbowtypeTimeouts, RAINBOWTYPE_CONFIG};
