//! Simulated ESP32 boards carrying an ATECC608A, speaking the public provisioning firmwares and the ROM loader.

pub mod atcacert;
pub mod atecc;
pub mod board;
pub mod clock;
mod error;
pub mod faults;
pub mod firmware;
mod persist;
pub mod runner;
pub mod transport;

pub use board::{Board, BoardConfig, Delivery};
pub use clock::{SimClock, Timing};
pub use error::SimError;
pub use faults::FaultSpec;
pub use firmware::FirmwareKind;
pub use runner::{read_boards_file, run_boards, SimConfig, SimHandle, SimPort};
