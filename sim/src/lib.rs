//! Simulated ESP32 boards carrying an ATECC608A, speaking the public provisioning firmwares and the ROM loader.

pub mod atecc;
pub mod clock;
mod error;
mod persist;

pub use clock::{SimClock, Timing};
pub use error::SimError;
