//! Small helpers for writing simulator state files safely.

use crate::SimError;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file and a rename, creating parent directories.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| SimError::io(parent, e))?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| SimError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| SimError::io(path, e))
}
