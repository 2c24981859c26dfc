//! CryptoAuthLib `atcacert` support: the 72-byte compressed certificate an ATECC608A stores,
//! certificate definitions (`atcacert_def_t`) per firmware profile, rebuilding certificates from
//! device contents, and generating `cert_chain.c` and the Espressif cert-def string.
//!
//! The main types are [`CompressedCert`], [`CertDef`] and [`Profile`]; [`rebuild::rebuild`] is the
//! Rust twin of CryptoAuthLib's `atcacert_cert_build_*` and is proven byte-identical to it by
//! `certs/tests/atcacert_cryptoauthlib.rs`.

pub mod cert_chain_c;
pub mod certdef_string;
pub mod compressed;
pub mod date;
pub mod def;
pub mod der_walk;
pub mod derived;
mod error;
pub mod profile;
pub mod rebuild;
pub mod template;

pub use compressed::{CompressedCert, EncodedDates, FormatVersion, COMP_CERT_SIZE};
pub use date::{AtcaDate, DateFormat};
pub use def::{CaKeyDef, CertDef, CertElement, CertLoc, DeviceLoc, DeviceZone, SnSource, StdElements, Transform};
pub use error::{AtcaCertError, Result};
pub use profile::{build_defs, Profile, ProfileDefs};
pub use rebuild::DeviceImage;
