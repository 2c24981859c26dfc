//! The minimal CryptoAuthLib `atcacert` logic the emulated firmwares run on the chip: compress,
//! write and rebuild certificates (format 0, P-256, X.509 with a 2-byte-length outer SEQUENCE).

pub mod client;
pub mod csr;
pub mod def;
pub mod der;

pub use client::{compress, read_cert, write_cert, CertError};
pub use def::{CertDef, DevLoc, Element};
