//! Cloud connecting against AWS IoT: CA registration, the JITR/JITP stack, the allow-list, device certificates and
//! the MQTT connection test.
//!
//! Every operation takes a [`CloudContext`] built from [`CloudSettings`] (the standard AWS credential chain, a
//! region and an optional endpoint override such as a local ministack). Inputs that come from the station (CA
//! certificate, verification certificate, signer key) arrive as PEM; this crate never depends on `station`.
//! Errors are [`CloudError`]s whose messages say what to do.

pub mod allow_list;
pub mod arn;
pub mod ca;
pub mod cert_pem;
pub mod devices;
pub mod emulator;
pub mod error;
pub mod retry;
pub mod jitp;
pub mod jitr;
pub mod mqtt;
pub mod permissions;
pub mod piece;
pub mod profiles;
pub mod settings;
pub mod waiting;

pub use error::{CloudError, Result};
pub use settings::{CallerIdentity, CloudContext, CloudSettings};
