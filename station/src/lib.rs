//! The Keyline station library: everything the `keyline` CLI and the desktop shell call.
//!
//! A [`Station`] is opened on a data directory and offers the operations as methods; every
//! result type is `Serialize` (camelCase) so the CLI prints it with `--json` and the shell hands
//! it to the UI unchanged. Failures are one [`Error`] enum with a stable
//! [`code`](Error::code), a message and a [`hint`](Error::hint).
//!
//! What the station deliberately does not do: it never writes a private key in plaintext, never
//! logs a passphrase, and never draws anything (the CLI and the UI do).
#![warn(missing_docs)]

pub mod ca;
pub mod clock;
#[cfg(feature = "cloud")]
pub mod cloud;
#[cfg(feature = "cloud")]
mod cloud_errors;
#[cfg(feature = "cloud")]
pub mod cloud_ledger;
#[cfg(feature = "cloud")]
pub mod cloud_ops;
#[cfg(feature = "cloud")]
pub mod cloud_test;
#[cfg(feature = "cloud")]
pub mod cloud_wizard;
pub mod device_template;
pub mod device_view;
pub mod flash;
pub mod flash_check;
pub mod line;
mod error;
mod error_code;
pub mod issuance;
pub mod ledger;
pub mod logging;
pub mod ota;
mod passphrase;
pub mod ports;
pub mod provision;
mod secrets;
pub mod settings;
mod station;
mod store;
mod window_hints;

pub use error::{Error, ErrorReport, Result};
pub use error_code::{Audience, ErrorCode};
pub use passphrase::{Passphrase, CA_PASSPHRASE_ENV, IMPORT_PASSPHRASE_ENV, MIN_PASSPHRASE_CHARS, ROOT_PASSPHRASE_ENV, TOKEN_PIN_ENV};
pub use station::{Station, DATA_DIR_ENV};
pub use store::read_input_file;
