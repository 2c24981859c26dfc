//! The board's 4 MB SPI flash, kept in memory and written through to a file so images survive restarts.

use crate::SimError;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Flash size of the simulated ESP32 module.
pub const FLASH_SIZE: usize = 4 * 1024 * 1024;
/// Erase granularity.
pub const SECTOR_SIZE: usize = 4096;

/// Simulated SPI flash (erased bytes read 0xFF).
#[derive(Debug)]
pub struct Flash {
    bytes: Vec<u8>,
    file: Option<(PathBuf, File)>,
}

impl Default for Flash {
    fn default() -> Self {
        Flash { bytes: vec![0xFF; FLASH_SIZE], file: None }
    }
}

impl Flash {
    /// Opens (or creates, fully erased) the flash image at `path`.
    pub fn open(path: &Path) -> Result<Self, SimError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| SimError::io(parent, e))?;
        }
        let mut bytes = vec![0xFF; FLASH_SIZE];
        let exists = path.exists();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| SimError::io(path, e))?;
        if exists {
            let stored = std::fs::read(path).map_err(|e| SimError::io(path, e))?;
            let n = stored.len().min(FLASH_SIZE);
            bytes[..n].copy_from_slice(&stored[..n]);
        } else {
            file.write_all_at(&bytes, 0).map_err(|e| SimError::io(path, e))?;
        }
        Ok(Flash { bytes, file: Some((path.to_path_buf(), file)) })
    }

    /// Reads `len` bytes at `offset` (None when out of range).
    pub fn read(&self, offset: usize, len: usize) -> Option<&[u8]> {
        self.bytes.get(offset..offset.checked_add(len)?)
    }

    /// Erases the sectors covering `offset .. offset + len`.
    pub fn erase(&mut self, offset: usize, len: usize) -> bool {
        let start = offset / SECTOR_SIZE * SECTOR_SIZE;
        let end = (offset + len).div_ceil(SECTOR_SIZE) * SECTOR_SIZE;
        if end > FLASH_SIZE {
            return false;
        }
        self.bytes[start..end].fill(0xFF);
        self.persist(start, end);
        true
    }

    /// Programs `data` at `offset` (NOR semantics: bits can only be cleared).
    pub fn program(&mut self, offset: usize, data: &[u8]) -> bool {
        let Some(end) = offset.checked_add(data.len()).filter(|&e| e <= FLASH_SIZE) else { return false };
        for (cell, byte) in self.bytes[offset..end].iter_mut().zip(data) {
            *cell &= byte;
        }
        self.persist(offset, end);
        true
    }

    fn persist(&self, start: usize, end: usize) {
        if let Some((path, file)) = &self.file {
            if let Err(error) = file.write_all_at(&self.bytes[start..end], start as u64) {
                tracing::warn!(path = %path.display(), %error, "could not persist simulated flash");
            }
        }
    }
}
