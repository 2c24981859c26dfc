//! Changing a CA's passphrase: the key is decrypted with the old passphrase and re-encrypted with the new one under
//! today's scrypt parameters (docs/security.md), so a key imported or made with older, weaker encryption is upgraded too.

use super::access::certs_error;
use super::CaSummary;
use crate::store::FileBatch;
use crate::{secrets, Error, Passphrase, Result, Station, MIN_PASSPHRASE_CHARS};

impl Station {
    /// Re-encrypts the key of CA `name` under `new` (checked against the minimum length) after proving `old`; the
    /// file is replaced atomically, the process holds the new passphrase, and a passphrase remembered in the OS keyring
    /// is replaced too. A token CA (no passphrase) and an offline root (no key here) are refused.
    pub fn change_passphrase(&self, name: &str, old: &Passphrase, new: &Passphrase) -> Result<CaSummary> {
        if new.char_count() < MIN_PASSPHRASE_CHARS {
            return Err(Error::PassphraseTooShort { min_chars: MIN_PASSPHRASE_CHARS });
        }
        let metadata = self.metadata()?;
        let record = self.record(&metadata, name)?;
        if record.token.is_some() {
            return Err(Error::InvalidInput { what: format!("CA \"{name}\""), reason: "its key is in a PKCS#11 token, which has a PIN and no passphrase; change the PIN with the token's own tools".into() });
        }
        if record.offline {
            return Err(Error::InvalidInput { what: format!("CA \"{name}\""), reason: "its key is offline; restore it with keyline ca restore-root first".into() });
        }
        let cert = self.load_cert(name)?;
        let key = self.decrypt_key(name, &cert, old)?;
        let pem = key.to_encrypted_pem(new.expose().as_bytes()).map_err(|e| certs_error(e, name))?;
        {
            let _lock = self.layout.lock()?;
            let mut batch = FileBatch::new();
            batch.add_replacement(self.layout.key_path(name), pem.as_bytes())?;
            batch.commit()?;
        }
        if record.remembered {
            secrets::remember(self.data_dir(), name, new)?;
        }
        self.release_passphrase(name);
        self.hold_passphrase(name, new);
        tracing::info!(ca = name, "CA passphrase changed; key re-encrypted");
        self.summary_of(name)
    }
}

#[cfg(test)]
mod tests {
    use crate::ca::{CreateCa, KeyStatus};
    use crate::{Passphrase, Station};

    /// Needs a real Secret Service, as every keyring test: the suite runs inside
    /// `dbus-run-session -- bash scripts/with-keyring.sh cargo test ...` (gnome-keyring).
    #[test]
    fn a_passphrase_remembered_in_the_keyring_is_replaced_by_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let station = Station::open(data.clone()).unwrap();
        let status = station.keyring_status();
        assert!(status.available, "the OS keyring is not reachable ({}): run the tests inside `dbus-run-session -- bash scripts/with-keyring.sh cargo test ...`", status.reason);
        let old = Passphrase::new("remembered before the change".into());
        let new = Passphrase::new("remembered after the change".into());
        let request = CreateCa { name: "root".into(), org: "Acme".into(), signer: None, years: 5 };
        station.create_ca_remembering(request, &old, true, &mut |_| {}).unwrap();

        assert_eq!(station.change_passphrase("root", &old, &new).unwrap().key_status, KeyStatus::Remembered);

        // Another process holds nothing and unlocks from the keyring: the entry now opens the re-encrypted key.
        let restarted = Station::open(data).unwrap();
        assert!(restarted.unlock_ca_from_keyring("root").unwrap());
        assert!(restarted.make_verification_cert("root", "afterthechange").unwrap().cert_path.exists(), "the root signs with the remembered passphrase");
        restarted.lock_ca("root").unwrap();
        assert!(restarted.unlock_ca("root", &old, false).is_err(), "the old passphrase no longer opens the key");
        assert!(restarted.unlock_ca("root", &new, false).is_ok());
        restarted.forget_passphrase("root").unwrap();
    }
}
