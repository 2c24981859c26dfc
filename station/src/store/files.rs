//! All-or-nothing file writes: stage every file of an operation, then put them in place together.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Largest file the station reads (certificates, keys, metadata are all far smaller).
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Files staged as 0600 temp files next to their destination.
///
/// [`commit`](FileBatch::commit) first moves the new files into place without overwriting
/// anything (an existing destination fails the whole batch and removes what was already
/// placed), then replaces the files marked as replaceable. Dropping an uncommitted batch
/// deletes the temp files.
#[derive(Default)]
pub(crate) struct FileBatch {
    new_files: Vec<(NamedTempFile, PathBuf)>,
    replaced_files: Vec<(NamedTempFile, PathBuf)>,
}

impl FileBatch {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Stage a file that must not exist yet.
    pub(crate) fn add_new(&mut self, path: PathBuf, contents: &[u8]) -> Result<()> {
        if path.exists() {
            return Err(already_exists(&path));
        }
        let temp = write_temp(&path, contents)?;
        self.new_files.push((temp, path));
        Ok(())
    }

    /// Stage a file that replaces any existing one (metadata).
    pub(crate) fn add_replacement(&mut self, path: PathBuf, contents: &[u8]) -> Result<()> {
        let temp = write_temp(&path, contents)?;
        self.replaced_files.push((temp, path));
        Ok(())
    }

    /// Put every staged file in place, or none of the new ones.
    pub(crate) fn commit(self) -> Result<()> {
        let mut placed: Vec<PathBuf> = Vec::new();
        let mut synced_dirs: Vec<PathBuf> = Vec::new();
        for (_, path) in self.new_files.iter().chain(&self.replaced_files) {
            if let Some(dir) = path.parent() {
                if !synced_dirs.iter().any(|seen| seen == dir) {
                    synced_dirs.push(dir.to_path_buf());
                }
            }
        }
        let result = (|| {
            for (temp, path) in self.new_files {
                temp.persist_noclobber(&path).map_err(|e| {
                    if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                        already_exists(&path)
                    } else {
                        Error::io("cannot write", &path, e.error)
                    }
                })?;
                placed.push(path);
            }
            for (temp, path) in self.replaced_files {
                temp.persist(&path).map_err(|e| Error::io("cannot write", &path, e.error))?;
            }
            Ok(())
        })();
        if result.is_err() {
            for path in placed {
                let _ = std::fs::remove_file(path);
            }
            return result;
        }
        sync_parent_dirs(&synced_dirs);
        result
    }
}

/// Flush the directory entries, so the renames survive a power cut (best effort; Unix only).
fn sync_parent_dirs(dirs: &[PathBuf]) {
    #[cfg(unix)]
    for dir in dirs {
        if let Err(error) = File::open(dir).and_then(|handle| handle.sync_all()) {
            tracing::warn!(dir = %dir.display(), %error, "cannot flush the directory");
        }
    }
    #[cfg(not(unix))]
    let _ = dirs;
}

fn already_exists(path: &Path) -> Error {
    Error::AlreadyExists { what: "file".into(), name: path.display().to_string() }
}

fn write_temp(path: &Path, contents: &[u8]) -> Result<NamedTempFile> {
    let dir = path.parent().ok_or_else(|| Error::InvalidInput {
        what: "path".into(),
        reason: format!("{} has no parent directory", path.display()),
    })?;
    // tempfile creates the file with mode 0600 on Unix.
    let mut temp = NamedTempFile::new_in(dir).map_err(|e| Error::io("cannot create a file in", dir, e))?;
    temp.write_all(contents).map_err(|e| Error::io("cannot write", temp.path().to_path_buf(), e))?;
    temp.as_file().sync_all().map_err(|e| Error::io("cannot write", temp.path().to_path_buf(), e))?;
    Ok(temp)
}

/// Read a whole file, refusing anything over [`MAX_FILE_BYTES`] and anything but a regular file.
pub(crate) fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    Ok(std::mem::take(&mut *read_input_file(path, MAX_FILE_BYTES)?))
}

/// Read a file Keyline was given (a certificate, key or CSR) through the one bounded reader,
/// [`keyline_certs::read_bounded_file`]: regular files of at most `limit` bytes only (FIFOs and
/// devices are refused without blocking), into memory that is zeroed when dropped.
pub fn read_input_file(path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>> {
    use keyline_certs::ReadFileError;
    keyline_certs::read_bounded_file(path, limit).map_err(|error| match error {
        ReadFileError::Io { path, source } => Error::io("cannot read", path, source),
        ReadFileError::TooLarge { limit, .. } => Error::InvalidInput {
            what: path.display().to_string(),
            reason: format!("the file is larger than {limit} bytes"),
        },
        other => Error::InvalidInput { what: path.display().to_string(), reason: other.to_string() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_destination_fails_the_batch_and_removes_placed_files() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.crt");
        let second = dir.path().join("b.key");
        let mut batch = FileBatch::new();
        batch.add_new(first.clone(), b"one").unwrap();
        batch.add_new(second.clone(), b"two").unwrap();
        std::fs::write(&second, b"existing").unwrap();
        let err = batch.commit().unwrap_err();
        assert_eq!(err.code(), "already_exists");
        assert!(!first.exists());
        assert_eq!(std::fs::read(&second).unwrap(), b"existing");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp files left");
    }

    #[cfg(unix)]
    #[test]
    fn committed_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.key");
        let mut batch = FileBatch::new();
        batch.add_new(path.clone(), b"secret").unwrap();
        batch.commit().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
