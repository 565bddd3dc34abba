//! File helpers of every output writer: a root plus a suffix, parent directories, atomic writes.

use crate::error::SamplerError;
use std::path::{Path, PathBuf};

/// `root` + `suffix` as a path (`root` is a prefix such as `chains/run`, not a directory).
pub fn with_suffix(root: &Path, suffix: &str) -> PathBuf {
    let mut s = root.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Create the parent directory of `root` if it does not exist.
pub fn ensure_parent(root: &Path) -> Result<(), SamplerError> {
    if let Some(parent) = root.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| SamplerError::io(parent, e))?;
        }
    }
    Ok(())
}

/// Write `contents` to `path` atomically (temporary file, then rename), so that a killed
/// run never leaves a half-written file that looks complete.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), SamplerError> {
    let tmp = with_suffix(path, ".tmp");
    std::fs::write(&tmp, contents).map_err(|e| SamplerError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| SamplerError::io(path, e))
}
