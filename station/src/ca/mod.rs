//! Certificate authorities in the station's data directory: create, import, inspect, export,
//! unlock and issue AWS IoT verification certificates.
//!
//! All operations are methods on [`Station`](crate::Station); the request and result types are
//! in this module.

mod access;
mod create;
mod idle;
mod offline;
mod passwd;
mod profile_signer;
mod progress;
mod query;
mod remember;
mod types;
mod unlock;
mod verification;

pub(crate) use access::certs_error;
pub(crate) use idle::Held;
pub use idle::DEFAULT_IDLE_LOCK;
pub use offline::{KeyCustody, OfflineRoot};
pub use progress::CaStep;
pub use types::*;

use crate::Station;

impl Station {
    /// Whether the OS keyring can remember passphrases here, and why not.
    pub fn keyring_status(&self) -> KeyringStatus {
        crate::secrets::status()
    }
}
