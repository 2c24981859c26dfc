//! Custody of CA keys beyond the passphrase: the offline root (`ca offline-root` exports the root key and
//! removes it from the station; `ca restore-root` brings it back to issue a new signer), issuing a signer under
//! an existing root, and where each CA's key lives ([`KeyCustody`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use keyline_certs::{create_signer_ca, CaKey, CaSubject, EcKey, SecretPem, Validity};
use serde::{Deserialize, Serialize};

use super::access::certs_error;
use super::CaSummary;
use crate::store::{set_private_file_mode, validate_name, CaRecord, CaRole, FileBatch, Metadata};
use crate::{secrets, Error, Passphrase, Result, Station, MIN_PASSPHRASE_CHARS};

/// Where a CA's private key is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum KeyCustody {
    /// An encrypted PKCS#8 file in the store.
    File,
    /// In a PKCS#11 token.
    #[serde(rename_all = "camelCase")]
    Token {
        /// The token's PKCS#11 library.
        module: PathBuf,
        /// Token label.
        token: String,
        /// Key label in the token.
        key_label: String,
    },
    /// A root key exported with `ca offline-root` and no longer on this station.
    Offline,
}

/// Largest exported key file `restore_root_from_file` reads (an encrypted P-256 PKCS#8 is under 1 KiB).
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// What `ca offline-root` did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct OfflineRoot {
    /// Root CA name.
    pub name: String,
    /// The exported key: encrypted PKCS#8 under the root's passphrase (`openssl pkey` reads it).
    pub exported_to: PathBuf,
    /// The key file removed from the store.
    pub removed: PathBuf,
}

impl Station {
    /// Where the key of CA `name` is.
    pub fn key_custody(&self, name: &str) -> Result<KeyCustody> {
        let record = self.record(&self.metadata()?, name)?;
        Ok(custody_of(&record))
    }

    /// Refuses, before the operator picks where the key goes, a CA that cannot be taken offline: a signer, a root
    /// already offline, or a root whose key is in a PKCS#11 token.
    pub fn check_root_can_go_offline(&self, name: &str) -> Result<()> {
        let metadata = self.metadata()?;
        let record = self.record(&metadata, name)?;
        if record.role != CaRole::Root {
            return Err(Error::InvalidInput { what: format!("CA \"{name}\""), reason: "it is a signer; only a root CA can be taken offline".into() });
        }
        if record.offline {
            return Err(Error::RootOffline { name: name.to_owned() });
        }
        if let Some(custody) = &record.token {
            return Err(Error::InvalidInput {
                what: format!("CA \"{name}\""),
                reason: format!("its key is in the PKCS#11 token \"{}\" and cannot be exported; keep the token offline instead", custody.token),
            });
        }
        Ok(())
    }

    /// Export the key of root CA `name` to `output` (a new file, 0600: the store's encrypted PKCS#8, which
    /// `root_passphrase` decrypts) and remove it from the station. Afterwards everything but issuing a new signer
    /// works; [`restore_root`](Self::restore_root) brings the key back for that.
    pub fn take_root_offline(&self, name: &str, root_passphrase: &Passphrase, output: &Path) -> Result<OfflineRoot> {
        self.check_root_can_go_offline(name)?;
        let cert = self.load_cert(name)?;
        self.decrypt_key(name, &cert, root_passphrase)?;
        let key_path = self.layout.key_path(name);
        let encrypted = crate::store::read_bounded(&key_path)?;
        write_new_private_file(output, &encrypted)?;

        let _lock = self.layout.lock()?;
        let mut metadata = Metadata::load(&self.layout)?;
        let stored = metadata.find_mut(name).ok_or_else(|| Error::NotFound { name: name.to_owned(), data_dir: self.data_dir().to_path_buf() })?;
        let was_remembered = stored.remembered;
        stored.offline = true;
        stored.remembered = false;
        let mut batch = FileBatch::new();
        batch.add_replacement(self.layout.metadata_path(), &metadata.to_json())?;
        batch.commit()?;
        std::fs::remove_file(&key_path).map_err(|e| Error::io("cannot remove", &key_path, e))?;
        self.release_passphrase(name);
        if was_remembered {
            if let Err(error) = secrets::forget(self.data_dir(), name) {
                tracing::warn!(ca = name, %error, "cannot remove the root's passphrase from the OS keyring");
            }
        }
        tracing::info!(ca = name, exported_to = %output.display(), "root CA key exported and removed from the station");
        Ok(OfflineRoot { name: name.to_owned(), exported_to: output.to_path_buf(), removed: key_path })
    }

    /// Bring back the key of offline root `name` from `key_pem` (the exported file, or any PEM of that key,
    /// decrypted with `key_passphrase`); it is stored encrypted under `store_passphrase` and held unlocked.
    pub fn restore_root(&self, name: &str, key_pem: &SecretPem, key_passphrase: Option<&Passphrase>, store_passphrase: &Passphrase) -> Result<CaSummary> {
        if store_passphrase.char_count() < MIN_PASSPHRASE_CHARS {
            return Err(Error::PassphraseTooShort { min_chars: MIN_PASSPHRASE_CHARS });
        }
        let metadata = self.metadata()?;
        let record = self.record(&metadata, name)?;
        if !record.offline {
            return Err(Error::InvalidInput { what: format!("CA \"{name}\""), reason: "its key is not offline; nothing to restore".into() });
        }
        let cert = self.load_cert(name)?;
        let key = EcKey::from_pem(key_pem.expose(), key_passphrase.map(|p| p.expose().as_bytes())).map_err(|e| match e {
            keyline_certs::Error::WrongPassphrase => Error::WrongPassphrase { name: "the key file being restored".into() },
            other => certs_error(other, "the key file"),
        })?;
        if !cert.p256_public_key.as_ref().is_some_and(|public| key.matches(public)) {
            return Err(Error::KeyMismatch { name: name.to_owned() });
        }
        let pem = key.to_encrypted_pem(store_passphrase.expose().as_bytes()).map_err(|e| certs_error(e, name))?;
        let _lock = self.layout.lock()?;
        let mut metadata = Metadata::load(&self.layout)?;
        if let Some(stored) = metadata.find_mut(name) {
            stored.offline = false;
        }
        let mut batch = FileBatch::new();
        batch.add_new(self.layout.key_path(name), pem.as_bytes())?;
        batch.add_replacement(self.layout.metadata_path(), &metadata.to_json())?;
        batch.commit()?;
        self.hold_passphrase(name, store_passphrase);
        tracing::info!(ca = name, "root CA key restored to the station");
        self.summary_of(name)
    }

    /// [`restore_root`](Self::restore_root) from the exported key file at `key_file` (read bounded, refused when it
    /// holds no private key), decrypted with the root's `passphrase` and stored again under it.
    pub fn restore_root_from_file(&self, name: &str, key_file: &Path, passphrase: &Passphrase) -> Result<CaSummary> {
        let bytes = crate::store::read_input_file(key_file, MAX_KEY_FILE_BYTES)?;
        let not_a_key = |detail: &str| Error::CorruptPem { what: key_file.display().to_string(), detail: detail.to_owned() };
        let key_pem = SecretPem::from_utf8(bytes).ok_or_else(|| not_a_key("not UTF-8 text"))?;
        if !key_pem.expose().contains("PRIVATE KEY-----") {
            return Err(not_a_key("no PRIVATE KEY block"));
        }
        self.restore_root(name, &key_pem, Some(passphrase), passphrase)
    }

    /// Issue a new signer CA `signer` (P-256, pathlen 0, `years` cut to the root's end) under the unlocked root
    /// `root`; its key is encrypted under `passphrase`. The one operation that needs the root key: an offline
    /// root fails with `root_offline`.
    pub fn create_signer(&self, root: &str, signer: &str, years: u32, passphrase: &Passphrase) -> Result<CaSummary> {
        validate_name("signer CA name", signer)?;
        if passphrase.char_count() < MIN_PASSPHRASE_CHARS {
            return Err(Error::PassphraseTooShort { min_chars: MIN_PASSPHRASE_CHARS });
        }
        let metadata = self.metadata()?;
        let root_record = self.record(&metadata, root)?;
        if metadata.find(signer).is_some() || self.layout.cert_path(signer).exists() {
            return Err(Error::AlreadyExists { what: "CA".into(), name: signer.to_owned() });
        }
        let root_cert = self.load_cert(root)?;
        let (root_key, _) = self.unlocked_key(&root_record, &root_cert)?;
        let org = root_cert.organization().unwrap_or_default();
        let key = EcKey::generate();
        let subject = CaSubject { common_name: signer.to_owned(), organization: org };
        let validity = Validity::years_from(self.clock.now(), years.clamp(1, 50));
        let cert = create_signer_ca(&subject, validity, &key, &root_cert, &root_key).map_err(|e| certs_error(e, signer))?;
        drop::<CaKey>(root_key);
        let pem = key.to_encrypted_pem(passphrase.expose().as_bytes()).map_err(|e| certs_error(e, signer))?;
        let _lock = self.layout.lock()?;
        let mut metadata = Metadata::load(&self.layout)?;
        metadata.cas.push(CaRecord::new(signer.to_owned(), CaRole::Signer, Some(root.to_owned())));
        let mut batch = FileBatch::new();
        batch.add_new(self.layout.cert_path(signer), cert.pem().as_bytes())?;
        batch.add_new(self.layout.key_path(signer), pem.as_bytes())?;
        batch.add_replacement(self.layout.metadata_path(), &metadata.to_json())?;
        batch.commit()?;
        self.hold_passphrase(signer, passphrase);
        tracing::info!(ca = signer, root, sha256 = %cert.sha256_fingerprint(), "created signer CA");
        self.summary_of(signer)
    }
}

pub(crate) fn custody_of(record: &CaRecord) -> KeyCustody {
    match (&record.token, record.offline) {
        (_, true) => KeyCustody::Offline,
        (Some(token), false) => KeyCustody::Token { module: token.module.clone(), token: token.token.clone(), key_label: token.key_label.clone() },
        (None, false) => KeyCustody::File,
    }
}

/// Write `bytes` to a new file (never replacing one) readable by the owner only, and flush it to disk.
fn write_new_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    set_private_file_mode(&mut options);
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Error::AlreadyExists { what: "file".into(), name: path.display().to_string() },
        _ => Error::io("cannot create", path, e),
    })?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| Error::io("cannot write", path, e))
}
