//! The `.mlpackage` directory (mil-ops.md §4.1): writing it atomically, and reading it back.
//!
//! ```text
//! NAME.mlpackage/
//! ├── Manifest.json
//! └── Data/com.apple.CoreML/
//!     ├── model.mlmodel          the Model protobuf
//!     └── weights/weight.bin     MIL blob storage v2
//! ```
//!
//! **Atomic.** Everything is written into a hidden staging directory beside the output, each
//! file synced, and the staging directory is renamed to the output name only when complete; on
//! any error it is removed. So the output path either holds a whole package or is untouched.

use super::error::ExportError;
use super::spec::PackageContents;
use prost::Message;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The manifest's file name.
pub const MANIFEST: &str = "Manifest.json";
/// Where the items live, relative to the package.
pub const DATA_DIR: &str = "Data";
/// The author (subdirectory) of both items.
pub const AUTHOR: &str = "com.apple.CoreML";
/// The model item's file name.
pub const MODEL_FILE: &str = "model.mlmodel";
/// The weights item's directory name.
pub const WEIGHTS_DIR: &str = "weights";
/// The weight file inside it.
pub const WEIGHT_BIN: &str = "weight.bin";

/// Writes `contents` as the package `out` (which must end in `.mlpackage`). An existing `out`
/// is an error unless `overwrite`, in which case it is replaced only once the new package is
/// complete.
pub fn write_package(
    out: &Path,
    contents: &PackageContents,
    overwrite: bool,
) -> Result<(), ExportError> {
    let bad = |reason: String| ExportError::BadOutput {
        path: out.to_path_buf(),
        reason,
    };
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| n.ends_with(".mlpackage") && n.len() > ".mlpackage".len())
        .ok_or_else(|| {
            bad("the name must end in .mlpackage (e.g. --out MyModel.mlpackage)".into())
        })?
        .to_string();
    if out.exists() && !overwrite {
        return Err(bad(
            "it already exists (remove it, choose another --out, or pass --overwrite)".into(),
        ));
    }
    if out.exists() && !out.is_dir() {
        return Err(bad("it exists and is not a directory".into()));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(bad(format!(
            "its directory {} does not exist",
            parent.display()
        )));
    }
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging)
            .map_err(|e| bad(format!("clearing {}: {e}", staging.display())))?;
    }
    let result = write_staged(&staging, contents).and_then(|()| replace(&staging, out));
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result.map_err(|e| match e {
        ExportError::Io { path, source } => bad(format!("{}: {source}", path.display())),
        other => other,
    })
}

/// Writes every file of the package into `dir` (created), each synced.
fn write_staged(dir: &Path, contents: &PackageContents) -> Result<(), ExportError> {
    let item_dir = dir.join(DATA_DIR).join(AUTHOR);
    let weights_dir = item_dir.join(WEIGHTS_DIR);
    fs::create_dir_all(&weights_dir).map_err(ExportError::io(&weights_dir))?;
    let model_bytes = contents.model.encode_to_vec();
    write_synced(&item_dir.join(MODEL_FILE), &model_bytes)?;
    write_synced(&weights_dir.join(WEIGHT_BIN), &contents.weights)?;
    let manifest = manifest(&model_bytes);
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| ExportError::Internal(format!("encoding the manifest: {e}")))?;
    write_synced(&dir.join(MANIFEST), text.as_bytes())?;
    sync_dir(&weights_dir)?;
    sync_dir(&item_dir)?;
    sync_dir(dir)
}

/// Moves the complete staging directory to `out`, replacing an existing package last.
fn replace(staging: &Path, out: &Path) -> Result<(), ExportError> {
    if out.exists() {
        let old = staging.with_extension("old");
        fs::rename(out, &old).map_err(ExportError::io(out))?;
        if let Err(source) = fs::rename(staging, out) {
            let _ = fs::rename(&old, out);
            return Err(ExportError::Io {
                path: out.to_path_buf(),
                source,
            });
        }
        fs::remove_dir_all(&old).map_err(ExportError::io(&old))?;
    } else {
        fs::rename(staging, out).map_err(ExportError::io(out))?;
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let mut file = fs::File::create(path).map_err(ExportError::io(path))?;
    file.write_all(bytes).map_err(ExportError::io(path))?;
    file.sync_all().map_err(ExportError::io(path))
}

fn sync_dir(dir: &Path) -> Result<(), ExportError> {
    // Directories cannot be opened for syncing everywhere (e.g. Windows); a failure to open is
    // not fatal, a failed sync is.
    if let Ok(d) = fs::File::open(dir) {
        d.sync_all().map_err(ExportError::io(dir))?;
    }
    Ok(())
}

/// The manifest: two items (the model file and the weights directory), the model the root.
/// Identifiers are UUID-shaped strings derived from the model bytes, so the same export gives
/// the same package byte for byte.
fn manifest(model_bytes: &[u8]) -> serde_json::Value {
    let model_id = uuid_from(model_bytes, b"model");
    let weights_id = uuid_from(model_bytes, b"weights");
    json!({
        "fileFormatVersion": "1.0.0",
        "itemInfoEntries": {
            model_id.clone(): {
                "author": AUTHOR,
                "description": "CoreML Model Specification",
                "name": MODEL_FILE,
                "path": format!("{AUTHOR}/{MODEL_FILE}"),
            },
            weights_id: {
                "author": AUTHOR,
                "description": "CoreML Model Weights",
                "name": WEIGHTS_DIR,
                "path": format!("{AUTHOR}/{WEIGHTS_DIR}"),
            },
        },
        "rootModelIdentifier": model_id,
    })
}

/// A version-4-shaped UUID string from a SHA-256 of `bytes` and `salt`.
fn uuid_from(bytes: &[u8], salt: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(bytes);
    let mut h: [u8; 16] = [0; 16];
    h.copy_from_slice(&hasher.finalize()[..16]);
    h[6] = (h[6] & 0x0f) | 0x40;
    h[8] = (h[8] & 0x3f) | 0x80;
    let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The root model file of the package at `dir`, found through its manifest.
pub fn root_model_path(dir: &Path) -> Result<PathBuf, ExportError> {
    let bad = |path: &Path, reason: String| ExportError::BadPackage {
        path: path.to_path_buf(),
        reason,
    };
    let manifest_path = dir.join(MANIFEST);
    let text =
        fs::read_to_string(&manifest_path).map_err(|e| bad(&manifest_path, e.to_string()))?;
    let manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(&manifest_path, e.to_string()))?;
    let root = manifest["rootModelIdentifier"]
        .as_str()
        .ok_or_else(|| bad(&manifest_path, "no rootModelIdentifier".into()))?;
    let path = manifest["itemInfoEntries"][root]["path"]
        .as_str()
        .ok_or_else(|| {
            bad(
                &manifest_path,
                format!("no item entry for the root `{root}`"),
            )
        })?;
    let relative = Path::new(path);
    if relative.is_absolute()
        || relative
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(bad(
            &manifest_path,
            format!("item path `{path}` leaves the package"),
        ));
    }
    Ok(dir.join(DATA_DIR).join(relative))
}

/// Reads and decodes the root `Model` message of the package at `dir`.
pub fn read_model(dir: &Path) -> Result<(PathBuf, super::proto::Model), ExportError> {
    let path = root_model_path(dir)?;
    let bytes = fs::read(&path).map_err(|e| ExportError::BadPackage {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let model =
        super::proto::Model::decode(bytes.as_slice()).map_err(|e| ExportError::BadPackage {
            path: path.clone(),
            reason: format!("not a Model protobuf: {e}"),
        })?;
    Ok((path, model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_uuid_shaped_and_deterministic() {
        let a = uuid_from(b"x", b"model");
        assert_eq!(a.len(), 36);
        assert_eq!(a, uuid_from(b"x", b"model"));
        assert_ne!(a, uuid_from(b"x", b"weights"));
        assert_eq!(&a[14..15], "4");
    }
}
