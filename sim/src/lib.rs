//! Simulated ESP32 boards carrying an ATECC608A, speaking the public provisioning firmwares and the ROM loader.
//!
//! - [`run_boards`] starts N boards on pseudo-terminals and writes `<state_dir>/boards.json`
//!   (`[{ index, label: "Simulated board N", path: "/dev/pts/N", firmware }]`); dropping the
//!   [`SimHandle`] stops them and removes the file. Chip and flash persist in `<state_dir>/board-N/`.
//! - [`Board`] is one board without a transport (tests drive it chunk by chunk); [`transport::PtyBoard`]
//!   serves one board on a pty: [`rx_reader`] stamps the host's writes with proven intervals and
//!   [`rx_burst`] joins them into the bursts a UART with an RX idle timeout receives.
//! - Firmwares: [`FirmwareKind::Rainbowtype`], [`FirmwareKind::EspHelper`] (v1.2.0) and
//!   [`FirmwareKind::Rom`] (ESP32 ROM loader; MEM_END runs the helper, FLASH_END boots the flashed app).
//! - [`Timing::Datasheet`] charges UART byte times and ATECC608A maxima to each board's [`SimClock`];
//!   [`FaultSpec`] injects corruption, drops, a reset and a disappearance, reproducibly per seed.

pub mod atcacert;
pub mod atecc;
pub mod board;
pub mod clock;
mod error;
pub mod faults;
pub mod firmware;
pub mod ota_bootloader;
pub mod ota_device;
mod persist;
pub mod runner;
pub mod rx_burst;
pub mod rx_reader;
pub mod transport;

pub use board::{Board, BoardConfig, Delivery};
pub use clock::{SimClock, Timing};
pub use error::SimError;
pub use faults::{FaultSpec, FaultTally};
pub use firmware::FirmwareKind;
pub use runner::{read_boards_file, run_boards, SimConfig, SimHandle, SimPort};
pub use transport::request_reset;
