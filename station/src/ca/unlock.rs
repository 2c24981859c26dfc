//! Unlocking CA keys: holding the passphrase in this process and remembering it in the OS keyring.

use super::CaSummary;
use crate::store::{FileBatch, Metadata};
use crate::{secrets, Error, Passphrase, Result, Station};

impl Station {
    /// Check `passphrase` against the CA key and keep it in this process; with
    /// `remember_in_keyring` also store it in the OS keyring (error `keyring_unavailable`
    /// leaves the CA locked).
    pub fn unlock_ca(&self, name: &str, passphrase: &Passphrase, remember_in_keyring: bool) -> Result<CaSummary> {
        let metadata = self.metadata()?;
        let record = self.record(&metadata, name)?;
        let cert = self.load_cert(name)?;
        self.open_key(&record, &cert, passphrase)?;
        if remember_in_keyring {
            secrets::remember(self.data_dir(), name, passphrase)?;
            self.set_remembered(name, true)?;
            tracing::info!(ca = name, "passphrase remembered in the OS keyring");
        }
        self.hold_passphrase(&record.name, passphrase);
        tracing::info!(ca = name, "CA unlocked");
        self.summary_of(name)
    }

    /// If the OS keyring remembers the passphrase of `name`, unlock with it and return true.
    /// Returns false when nothing is remembered; `keyring_unavailable` when the keyring fails.
    pub fn unlock_ca_from_keyring(&self, name: &str) -> Result<bool> {
        let metadata = self.metadata()?;
        let record = self.record(&metadata, name)?;
        if !record.remembered {
            return Ok(false);
        }
        let Some(passphrase) = secrets::recall(self.data_dir(), name)? else {
            tracing::warn!(ca = name, "marked as remembered but the keyring has no passphrase");
            return Ok(false);
        };
        let cert = self.load_cert(name)?;
        self.open_key(&record, &cert, &passphrase)?;
        self.hold_passphrase(name, &passphrase);
        tracing::info!(ca = name, "CA unlocked from the OS keyring");
        Ok(true)
    }

    /// Drop the passphrase held by this process (the keyring entry, if any, stays).
    pub fn lock_ca(&self, name: &str) -> Result<CaSummary> {
        let metadata = self.metadata()?;
        self.record(&metadata, name)?;
        self.release_passphrase(name);
        tracing::info!(ca = name, "CA locked");
        self.summary_of(name)
    }

    /// Remove the passphrase from the OS keyring and from this process.
    ///
    /// When the keyring cannot be reached and it may hold the passphrase, fails with
    /// `keyring_unavailable` and changes nothing.
    pub fn forget_passphrase(&self, name: &str) -> Result<CaSummary> {
        let metadata = self.metadata()?;
        let record = self.record(&metadata, name)?;
        match secrets::forget(self.data_dir(), name) {
            Ok(()) => {}
            Err(error) if record.remembered => return Err(error),
            Err(error) => tracing::debug!(ca = name, %error, "keyring not reachable; nothing was remembered"),
        }
        if record.remembered {
            self.set_remembered(name, false)?;
        }
        self.release_passphrase(name);
        tracing::info!(ca = name, "passphrase forgotten");
        self.summary_of(name)
    }

    fn set_remembered(&self, name: &str, remembered: bool) -> Result<()> {
        let _lock = self.layout.lock()?;
        let mut metadata = Metadata::load(&self.layout)?;
        let record = metadata
            .find_mut(name)
            .ok_or_else(|| Error::NotFound { name: name.to_owned(), data_dir: self.data_dir().to_path_buf() })?;
        record.remembered = remembered;
        let mut batch = FileBatch::new();
        batch.add_replacement(self.layout.metadata_path(), &metadata.to_json())?;
        batch.commit()
    }
}
