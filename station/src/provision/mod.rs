//! The provisioning engine: takes a board from a blank ATECC608A to a locked chip holding a verified certificate.
//!
//! Entry points for the CLI and the GUI:
//! - [`Station::provisioning_ca`] unlocks the signer CA once ([`ProvisioningCa`]);
//! - [`provision_board`] runs one board (blocking) and reports [`ProvisionEvent`]s to an [`Observer`];
//!   a [`CancelToken`] stops it, an injected [`Clock`] times it; it returns a [`ProvisionOutcome`] or a
//!   [`ProvisionError`] with the [`Step`] it stopped at, a stable code and a hint;
//! - [`run_shift`] watches ports and provisions several boards at once ([`ShiftEvent`], [`ShiftCounters`]).
//!
//! The engine never prints. The ledger holds every step (`provision_steps`), the device's state
//! (`issued` → `written` → `verified` or `failed`) and an audit entry for every signature.

mod bench;
mod error;
mod events;
mod firmware;
mod flash_steps;
mod pipeline;
mod shift;
mod signer;

pub use bench::{bench_issue, IssueBench};
pub use error::ProvisionError;
pub use events::{Observer, ProvisionEvent, Step};
pub use firmware::{FirmwareLoad, FirmwareSetup, FirmwareSpec, ImageFile, ImageSet};
pub use flash_steps::PRODUCT_FLASHED;
pub use keyline_board::{CancelToken, Clock, Direction, FirmwareKind, KeyMaterial, SystemClock};
pub use pipeline::{check_key_material, provision_board, OutcomeKind, ProvisionOutcome, ProvisionRequest, StepTiming};
pub use shift::{run_shift, PortSource, ShiftConfig, ShiftCounters, ShiftEvent, ShiftObserver};
pub use signer::ProvisioningCa;

/// This station's name for the ledger when none is set: the host name, or `station`.
pub fn station_name() -> String {
    crate::settings::host_station_name()
}
