//! Reading CA files and metadata, decrypting CA keys, and the passphrases held in this process.

use keyline_certs::token::TokenKey;
use keyline_certs::{CaKey, CertInfo, EcKey};

use crate::store::{read_bounded, validate_name, CaRecord, Metadata};
use crate::{Error, Passphrase, Result, Station, CA_PASSPHRASE_ENV};

/// Turn a PKI error into a station error; `subject` names the CA or file concerned.
pub(crate) fn certs_error(error: keyline_certs::Error, subject: &str) -> Error {
    use keyline_certs::Error as E;
    match error {
        E::CorruptPem { what, detail } => Error::CorruptPem { what: format!("{subject} ({what})"), detail },
        E::WrongPassphrase => Error::WrongPassphrase { name: subject.to_owned() },
        E::PassphraseNeeded => Error::PassphraseRequired {
            purpose: format!("the encrypted key {subject}"),
            env_var: crate::IMPORT_PASSPHRASE_ENV.into(),
        },
        E::Unsupported { what, detail } => Error::Unsupported { what: what.into(), detail },
        error @ E::KdfTooCostly { .. } => Error::Unsupported { what: "key encryption".into(), detail: error.to_string() },
        E::TooLarge { what, limit } => {
            Error::InvalidInput { what: format!("{subject} ({what})"), reason: format!("larger than {limit} bytes") }
        }
        E::Token(error) => Error::Token(error),
        other => Error::Issue { detail: other.to_string() },
    }
}

fn utf8(bytes: Vec<u8>, what: &str) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| Error::CorruptPem { what: what.to_owned(), detail: "not UTF-8 text".into() })
}

impl Station {
    /// `cas.json`.
    pub(crate) fn metadata(&self) -> Result<Metadata> {
        Metadata::load(&self.layout)
    }

    /// The record of CA `name`, or `not_found`.
    pub(crate) fn record(&self, metadata: &Metadata, name: &str) -> Result<CaRecord> {
        validate_name("CA name", name)?;
        metadata
            .find(name)
            .cloned()
            .ok_or_else(|| Error::NotFound { name: name.to_owned(), data_dir: self.data_dir().to_path_buf() })
    }

    /// Parse `certs/<name>.crt`.
    pub(crate) fn load_cert(&self, name: &str) -> Result<CertInfo> {
        let path = self.layout.cert_path(name);
        if !path.exists() {
            return Err(Error::CorruptStore { detail: format!("{} is missing", path.display()) });
        }
        let text = utf8(read_bounded(&path)?, &path.display().to_string())?;
        CertInfo::from_pem(&text).map_err(|e| certs_error(e, &path.display().to_string()))
    }

    /// Decrypt `keys/<name>.key` with `passphrase` and check it belongs to `cert`.
    pub(crate) fn decrypt_key(&self, name: &str, cert: &CertInfo, passphrase: &Passphrase) -> Result<EcKey> {
        let path = self.layout.key_path(name);
        if !path.exists() {
            return Err(Error::CorruptStore { detail: format!("{} is missing", path.display()) });
        }
        let text = utf8(read_bounded(&path)?, &path.display().to_string())?;
        let key = EcKey::from_encrypted_pem(&text, passphrase.expose().as_bytes()).map_err(|e| match e {
            keyline_certs::Error::WrongPassphrase => Error::WrongPassphrase { name: name.to_owned() },
            other => certs_error(other, &path.display().to_string()),
        })?;
        if !cert.p256_public_key.as_ref().is_some_and(|public| key.matches(public)) {
            return Err(Error::KeyMismatch { name: name.to_owned() });
        }
        Ok(key)
    }

    /// The key of CA `record` with its secret: the file key decrypted with the passphrase, or the token key
    /// after logging in with the PIN; either way checked against `cert`.
    pub(crate) fn open_key(&self, record: &CaRecord, cert: &CertInfo, secret: &Passphrase) -> Result<CaKey> {
        if record.offline {
            return Err(Error::RootOffline { name: record.name.clone() });
        }
        let Some(custody) = &record.token else {
            return Ok(CaKey::File(self.decrypt_key(&record.name, cert, secret)?));
        };
        let key = TokenKey::open(&custody.key_ref(), secret.expose())?;
        if cert.p256_public_key != Some(key.public_key()) {
            return Err(Error::KeyMismatch { name: record.name.clone() });
        }
        Ok(CaKey::Token(key))
    }

    /// The usable key of CA `name`: with the passphrase held by this process, else the one
    /// remembered in the keyring, else `passphrase_required`. Also returns the passphrase.
    pub(crate) fn unlocked_key(&self, record: &CaRecord, cert: &CertInfo) -> Result<(CaKey, Passphrase)> {
        let name = record.name.as_str();
        if record.offline {
            return Err(Error::RootOffline { name: name.to_owned() });
        }
        if self.held_passphrase(name).is_none() && record.remembered {
            if let Err(error) = self.unlock_ca_from_keyring(name) {
                tracing::warn!(ca = name, %error, "cannot unlock with the passphrase in the keyring");
            }
        }
        match self.held_passphrase(name) {
            Some(passphrase) => Ok((self.open_key(record, cert, &passphrase)?, passphrase)),
            None if record.token.is_some() => {
                Err(Error::PassphraseRequired { purpose: format!("the token PIN of CA \"{name}\""), env_var: crate::TOKEN_PIN_ENV.into() })
            }
            None => Err(Error::PassphraseRequired { purpose: format!("CA \"{name}\""), env_var: CA_PASSPHRASE_ENV.into() }),
        }
    }
}
