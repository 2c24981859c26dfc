//! [`Station`]: the handle on one data directory that every CLI command and UI command goes through.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::clock::{SharedClock, SystemClock};
use crate::store::Layout;
use crate::{Error, Result};

/// Environment variable that selects the data directory (the CLI's `--data-dir`).
pub const DATA_DIR_ENV: &str = "KEYLINE_DATA_DIR";

/// An open data directory plus the passphrases unlocked in this process.
///
/// `Station` is `Send + Sync`; the desktop shell keeps one in its managed state.
pub struct Station {
    pub(crate) layout: Layout,
    /// CA name -> passphrase and last use, for CAs unlocked in this process.
    pub(crate) unlocked: Mutex<HashMap<String, crate::ca::Held>>,
    /// How long an unlocked CA may go unused before it locks itself (`None`: never).
    pub(crate) idle_lock: Mutex<Option<std::time::Duration>>,
    /// Where "now" comes from (validity periods, ledger times, expiry).
    pub(crate) clock: SharedClock,
}

impl Station {
    /// Open (creating if needed, with 0700 permissions) the data directory.
    pub fn open(data_dir: PathBuf) -> Result<Station> {
        Self::open_with_clock(data_dir, SystemClock::shared())
    }

    /// [`open`](Self::open) with the given clock instead of the system's.
    pub fn open_with_clock(data_dir: PathBuf, clock: SharedClock) -> Result<Station> {
        let layout = Layout::create(data_dir)?;
        Ok(Station { layout, unlocked: Mutex::new(HashMap::new()), idle_lock: Mutex::new(Some(crate::ca::DEFAULT_IDLE_LOCK)), clock })
    }

    /// The clock this station reads the time from.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The OS application-data directory (`~/.local/share/keyline` on Linux).
    pub fn default_data_dir() -> Result<PathBuf> {
        directories::ProjectDirs::from("", "", "keyline")
            .map(|dirs| dirs.data_dir().to_path_buf())
            .ok_or_else(|| Error::InvalidInput {
                what: "data directory".into(),
                reason: format!("no home directory found; pass --data-dir or set {DATA_DIR_ENV}"),
            })
    }

    /// The data directory this station works in.
    pub fn data_dir(&self) -> &Path {
        self.layout.root()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Station>();
    }

    #[test]
    fn open_creates_the_data_directory_tree() {
        let dir = tempfile::tempdir().unwrap();
        let station = Station::open(dir.path().join("nested/data")).unwrap();
        for sub in ["certs", "keys", "cloud/certs", "cloud/keys", "logs"] {
            assert!(station.data_dir().join(sub).is_dir(), "{sub}");
        }
    }
}
