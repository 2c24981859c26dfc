//! Errors of the simulator itself (not of the simulated chip, see `atecc::ChipError`).

use std::path::{Path, PathBuf};

/// Something went wrong running simulated boards.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot access {path}: {source}; check that the path exists and is readable and writable")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("simulator state file {path} is damaged ({why}); delete it to start that board as a fresh part")]
    BadState { path: PathBuf, why: String },
    #[error("unknown timing model `{0}`; use `instant` or `datasheet`")]
    BadTiming(String),
    #[error("unknown firmware `{0}`; use `rainbowtype`, `esp-helper` or `rom`")]
    BadFirmware(String),
    #[error("bad fault spec `{0}`; use e.g. `corrupt=0.01,drop=0.001,reset-after=500,vanish-after=2000,seed=7`")]
    BadFaults(String),
    #[error("cannot simulate {0} boards; use 1 to 64")]
    BadBoardCount(usize),
    #[error("cannot create a pseudo-terminal: {0}; the simulator needs /dev/ptmx")]
    Pty(String),
    #[error("a rainbowtype board runs one compiled cert_chain.c: give its sample certificates (`--cert-chain DIR`, made by `keyline template cert-chain`), or choose `--derive-templates` to build the templates from each upload (lenient)")]
    NoCertChain,
}

impl SimError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        SimError::Io { path: path.to_path_buf(), source }
    }
}
