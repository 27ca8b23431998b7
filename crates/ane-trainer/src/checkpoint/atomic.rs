//! Crash-safe file and directory operations for checkpoints.
//!
//! A file is written to a hidden temporary name in its final directory, flushed to disk
//! (`fsync`), renamed over its final name and the directory entry is flushed too. A reader
//! therefore sees either the old file or the complete new one, never a torn one, even across a
//! power loss. Directory renames are flushed the same way.

use super::CheckpointError;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `dir/name` atomically (temp file, fsync, rename, fsync of `dir`).
pub(crate) fn write_file_atomic(
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> Result<(), CheckpointError> {
    let final_path = dir.join(name);
    let temp_path = dir.join(format!(".{name}.tmp"));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CheckpointError::Io { path, source }
    };
    {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp_path)
            .map_err(io(&temp_path))?;
        file.write_all(bytes).map_err(io(&temp_path))?;
        file.sync_all().map_err(io(&temp_path))?;
    }
    fs::rename(&temp_path, &final_path).map_err(io(&final_path))?;
    sync_dir(dir)
}

/// Flushes a directory's entries (new, renamed or removed names) to disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), CheckpointError> {
    // Opening a directory read-only and fsyncing it is how POSIX persists its entries; other
    // platforms offer no such call, and their rename is as durable as it gets.
    if cfg!(unix) {
        let handle = File::open(dir).map_err(|source| CheckpointError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        handle.sync_all().map_err(|source| CheckpointError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

/// Renames `from` to `to` and flushes the parent directory of `to`.
pub(crate) fn rename_durable(from: &Path, to: &Path) -> Result<(), CheckpointError> {
    fs::rename(from, to).map_err(|source| CheckpointError::Io {
        path: to.to_path_buf(),
        source,
    })?;
    sync_dir(parent_of(to))
}

/// The directory holding `path` (`.` for a bare relative name).
pub(crate) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Removes a directory this module created: first the files it may hold (`known` names and
/// hidden `.*.tmp` files), then the directory itself, which fails if anything else is inside —
/// so a directory a user created by accident under the same name is never deleted wholesale.
pub(crate) fn remove_own_dir(dir: &Path, known: &[&str]) -> Result<(), CheckpointError> {
    let io = |source| CheckpointError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours =
            known.contains(&name.as_ref()) || (name.starts_with('.') && name.ends_with(".tmp"));
        if ours {
            fs::remove_file(entry.path()).map_err(io)?;
        }
    }
    fs::remove_dir(dir).map_err(|_| CheckpointError::DirectoryNotEmpty {
        path: dir.to_path_buf(),
    })?;
    sync_dir(parent_of(dir))
}
