//! Where each file lives in the data directory, and which names are allowed.
//!
//! ```text
//! <data_dir>/certs/<name>.crt        CA certificate (PEM)
//! <data_dir>/keys/<name>.key         CA key, encrypted PKCS#8 (PBES2, scrypt, AES-256-CBC)
//! <data_dir>/cloud/certs/<ca>-<code>.pem  AWS IoT verification certificate
//! <data_dir>/cloud/keys/<code>.key   its throwaway key, encrypted like the CA keys
//! <data_dir>/cas.json                CA names, roles, parents, keyring flags
//! <data_dir>/logs/keyline.log        JSON-lines log
//! ```
//! Directories are created 0700 and files 0600 (on Unix).

use std::fs::{DirBuilder, File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Longest allowed CA name or registration code.
pub(crate) const MAX_NAME_LEN: usize = 64;

/// Paths inside one data directory.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    root: PathBuf,
}

/// An exclusive lock on the data directory, held while files change.
pub(crate) struct StoreLock {
    _file: File,
}

impl Layout {
    /// Create the directory tree (0700) if needed.
    pub(crate) fn create(root: PathBuf) -> Result<Layout> {
        let layout = Layout { root };
        for dir in [
            layout.root.clone(),
            layout.certs_dir(),
            layout.keys_dir(),
            layout.cloud_certs_dir(),
            layout.cloud_keys_dir(),
            layout.logs_dir(),
        ] {
            create_private_dir(&dir)?;
        }
        Ok(layout)
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn certs_dir(&self) -> PathBuf {
        self.root.join("certs")
    }

    pub(crate) fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }

    pub(crate) fn cloud_certs_dir(&self) -> PathBuf {
        self.root.join("cloud").join("certs")
    }

    pub(crate) fn cloud_keys_dir(&self) -> PathBuf {
        self.root.join("cloud").join("keys")
    }

    pub(crate) fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    pub(crate) fn cert_path(&self, name: &str) -> PathBuf {
        self.certs_dir().join(format!("{name}.crt"))
    }

    pub(crate) fn key_path(&self, name: &str) -> PathBuf {
        self.keys_dir().join(format!("{name}.key"))
    }

    /// Keyed by CA and code: the code is per account, so two CAs registered in one account each have their own.
    pub(crate) fn verification_cert_path(&self, ca: &str, code: &str) -> PathBuf {
        self.cloud_certs_dir().join(format!("{ca}-{code}.pem"))
    }

    pub(crate) fn verification_key_path(&self, ca: &str, code: &str) -> PathBuf {
        self.cloud_keys_dir().join(format!("{ca}-{code}.key"))
    }

    pub(crate) fn metadata_path(&self) -> PathBuf {
        self.root.join("cas.json")
    }

    /// Take the data-directory lock (blocks while another process holds it).
    pub(crate) fn lock(&self) -> Result<StoreLock> {
        let path = self.root.join(".lock");
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        set_private_file_mode(&mut options);
        let file = options.open(&path).map_err(|e| Error::io("cannot open lock file", &path, e))?;
        file.lock().map_err(|e| Error::io("cannot lock", &path, e))?;
        Ok(StoreLock { _file: file })
    }
}

/// Check a CA name or registration code against `[A-Za-z0-9._-]{1,64}`.
pub(crate) fn validate_name(what: &str, value: &str) -> Result<()> {
    let reason = if value.is_empty() {
        Some("it is empty".to_owned())
    } else if value.len() > MAX_NAME_LEN {
        Some(format!("it is longer than {MAX_NAME_LEN} characters"))
    } else if let Some(bad) = value.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        Some(format!("the character {bad:?} is not allowed"))
    } else if value == "." || value == ".." {
        Some("it is a directory name".to_owned())
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(Error::InvalidName {
            what: what.to_owned(),
            value: value.chars().take(MAX_NAME_LEN + 8).collect::<String>().escape_default().to_string(),
            reason,
        }),
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| Error::io("cannot create directory", dir, e))
}

/// Make `options` create files readable by the owner only.
pub(crate) fn set_private_file_mode(options: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = options;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_documented_pattern() {
        for good in ["root", "Acme-Root_CA.2026", "a", &"x".repeat(64)] {
            validate_name("CA name", good).unwrap();
        }
        for bad in ["", "a/b", "..", "über", "a b", &"x".repeat(65), "../etc"] {
            let err = validate_name("CA name", bad).unwrap_err();
            assert_eq!(err.code(), "invalid_name", "{bad}");
        }
    }
}
