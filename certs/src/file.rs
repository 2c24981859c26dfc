//! [`read_bounded_file`]: the one way Keyline reads a file: regular files only (never a FIFO,
//! socket or device, which could block forever or never end), up to a size limit, into memory
//! that is zeroed when dropped.

use std::fs::{File, FileType, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadFileError {
    /// The operating system refused (missing file, permissions, ...).
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The path names something other than a regular file.
    #[error("{} is a {kind}, not a regular file; pass a regular file", path.display())]
    NotAFile {
        /// The file.
        path: PathBuf,
        /// "FIFO", "character device", ...
        kind: &'static str,
    },
    /// The file is larger than the caller's limit.
    #[error("{} is larger than {limit} bytes; pass the right file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
}

/// Read all of `path` (following symlinks) if it is a regular file of at most `limit` bytes.
///
/// The file type is checked before opening (opening a FIFO for reading would wait for a writer),
/// the open itself does not block, and the type is checked again on the open file. The buffer is
/// allocated once, so no partial copy is left behind in freed memory.
pub fn read_bounded_file(path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>, ReadFileError> {
    let io = |source| ReadFileError::Io { path: path.to_path_buf(), source };
    check_type(path, std::fs::metadata(path).map_err(io)?.file_type())?;
    let file = open_nonblocking(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    check_type(path, metadata.file_type())?;
    if metadata.len() > limit {
        return Err(ReadFileError::TooLarge { path: path.to_path_buf(), limit });
    }
    // One spare byte so a file that grew since fstat is caught without reallocating.
    let capacity = usize::try_from(metadata.len().saturating_add(1)).unwrap_or(usize::MAX);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadFileError::TooLarge { path: path.to_path_buf(), limit });
    }
    Ok(bytes)
}

fn check_type(path: &Path, file_type: FileType) -> Result<(), ReadFileError> {
    if file_type.is_file() {
        return Ok(());
    }
    Err(ReadFileError::NotAFile { path: path.to_path_buf(), kind: kind_of(file_type) })
}

#[cfg(unix)]
fn kind_of(file_type: FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_dir() {
        "directory"
    } else if file_type.is_fifo() {
        "FIFO"
    } else if file_type.is_char_device() {
        "character device"
    } else if file_type.is_block_device() {
        "block device"
    } else if file_type.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn kind_of(file_type: FileType) -> &'static str {
    if file_type.is_dir() {
        "directory"
    } else {
        "special file"
    }
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    const LIMIT: u64 = 1024;

    #[test]
    fn reads_a_regular_file_and_refuses_one_over_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.pem");
        std::fs::write(&path, vec![b'x'; LIMIT as usize]).unwrap();
        assert_eq!(read_bounded_file(&path, LIMIT).unwrap().len(), LIMIT as usize);
        std::fs::write(&path, vec![b'x'; LIMIT as usize + 1]).unwrap();
        let err = read_bounded_file(&path, LIMIT).unwrap_err();
        assert!(matches!(err, ReadFileError::TooLarge { limit: LIMIT, .. }), "{err}");
        assert!(err.to_string().contains("larger than 1024 bytes"), "{err}");
        let missing = read_bounded_file(&dir.path().join("missing"), LIMIT).unwrap_err();
        assert!(matches!(missing, ReadFileError::Io { .. }), "{missing}");
    }

    #[test]
    fn refuses_a_fifo_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo (coreutils) is needed");
        assert!(made.success());
        let err = read_bounded_file(&fifo, LIMIT).unwrap_err();
        assert!(matches!(err, ReadFileError::NotAFile { kind: "FIFO", .. }), "{err}");
        assert!(err.to_string().contains("is a FIFO, not a regular file"), "{err}");
    }

    #[test]
    fn refuses_devices_directories_and_symlinks_to_devices() {
        let err = read_bounded_file(Path::new("/dev/zero"), LIMIT).unwrap_err();
        assert!(matches!(err, ReadFileError::NotAFile { kind: "character device", .. }), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("key.pem");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(matches!(read_bounded_file(&link, LIMIT), Err(ReadFileError::NotAFile { .. })));
        assert!(matches!(read_bounded_file(dir.path(), LIMIT), Err(ReadFileError::NotAFile { kind: "directory", .. })));
    }
}
