//! `cas.json`: the list of CAs with their role, parent and whether the keyring remembers them.

use serde::{Deserialize, Serialize};

use super::{read_bounded, validate_name, Layout};
use crate::{Error, Result};

const METADATA_VERSION: u32 = 1;

/// Whether a CA is a self-signed root or an intermediate (signer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum CaRole {
    /// Self-signed root CA.
    Root,
    /// Intermediate CA that signs device certificates.
    Signer,
}

/// Where a CA key lives when a PKCS#11 token holds it (the store then has no key file for it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenCustody {
    /// Path of the token's PKCS#11 library.
    pub module: std::path::PathBuf,
    /// Token label.
    pub token: String,
    /// `CKA_LABEL` of the key in the token.
    pub key_label: String,
}

impl TokenCustody {
    /// The key's location for [`keyline_certs::token::TokenKey`].
    pub(crate) fn key_ref(&self) -> keyline_certs::token::TokenKeyRef {
        keyline_certs::token::TokenKeyRef { module: self.module.clone(), token: self.token.clone(), key_label: self.key_label.clone() }
    }
}

/// One CA in `cas.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CaRecord {
    pub name: String,
    pub role: CaRole,
    /// Store name of the issuing CA, when it is in the store.
    pub parent: Option<String>,
    /// The passphrase was stored in the OS keyring with `unlock --remember`.
    #[serde(default)]
    pub remembered: bool,
    /// The key is in this PKCS#11 token, not in `keys/<name>.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenCustody>,
    /// The root's key was exported and removed (`ca offline-root`); only issuing a signer needs it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub offline: bool,
}

impl CaRecord {
    /// A record of a CA whose key is a file in the store.
    pub(crate) fn new(name: String, role: CaRole, parent: Option<String>) -> CaRecord {
        CaRecord { name, role, parent, remembered: false, token: None, offline: false }
    }
}

/// The whole `cas.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Metadata {
    pub version: u32,
    pub cas: Vec<CaRecord>,
}

impl Default for Metadata {
    fn default() -> Self {
        Metadata { version: METADATA_VERSION, cas: Vec::new() }
    }
}

impl Metadata {
    /// Read `cas.json`; a missing file is an empty store.
    pub(crate) fn load(layout: &Layout) -> Result<Metadata> {
        let path = layout.metadata_path();
        if !path.exists() {
            return Ok(Metadata::default());
        }
        let bytes = read_bounded(&path)?;
        let metadata: Metadata = serde_json::from_slice(&bytes).map_err(|e| Error::CorruptStore {
            detail: format!("{} cannot be parsed: {e}", path.display()),
        })?;
        if metadata.version != METADATA_VERSION {
            return Err(Error::CorruptStore {
                detail: format!("{} has version {}, expected {METADATA_VERSION}", path.display(), metadata.version),
            });
        }
        metadata.check().map_err(|detail| Error::CorruptStore { detail: format!("{}: {detail}", path.display()) })?;
        Ok(metadata)
    }

    /// Names must be valid (they become file names) and unique; parents must exist.
    fn check(&self) -> std::result::Result<(), String> {
        for (index, record) in self.cas.iter().enumerate() {
            validate_name("CA name", &record.name).map_err(|e| e.to_string())?;
            if self.cas[..index].iter().any(|earlier| earlier.name == record.name) {
                return Err(format!("CA \"{}\" is listed twice", record.name));
            }
            if let Some(parent) = &record.parent {
                if self.find(parent).is_none() {
                    return Err(format!("the parent \"{parent}\" of \"{}\" is not listed", record.name.escape_default()));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("metadata serialises");
        bytes.push(b'\n');
        bytes
    }

    pub(crate) fn find(&self, name: &str) -> Option<&CaRecord> {
        self.cas.iter().find(|record| record.name == name)
    }

    pub(crate) fn find_mut(&mut self, name: &str) -> Option<&mut CaRecord> {
        self.cas.iter_mut().find(|record| record.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(json: &str) -> Result<Metadata> {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path().to_path_buf()).unwrap();
        std::fs::write(layout.metadata_path(), json).unwrap();
        Metadata::load(&layout)
    }

    #[test]
    fn a_tampered_file_is_reported_as_a_damaged_store() {
        let traversal = r#"{"version":1,"cas":[{"name":"../../etc/passwd","role":"root","parent":null}]}"#;
        let duplicate = r#"{"version":1,"cas":[{"name":"a","role":"root","parent":null},{"name":"a","role":"root","parent":null}]}"#;
        let orphan = r#"{"version":1,"cas":[{"name":"a","role":"signer","parent":"gone"}]}"#;
        for json in [traversal, duplicate, orphan, "{", r#"{"version":2,"cas":[]}"#] {
            assert_eq!(load(json).unwrap_err().code(), "corrupt_store", "{json}");
        }
        let good = r#"{"version":1,"cas":[{"name":"r","role":"root","parent":null},{"name":"s","role":"signer","parent":"r","remembered":true}]}"#;
        assert_eq!(load(good).unwrap().cas.len(), 2);
    }
}
