//! `checkpoint.json`: the sidecar that describes a checkpoint and commits it.
//!
//! It is written last; a directory without it is an interrupted save. It records the format
//! version, the caller's training configuration and data cursor (opaque JSON), the step, every
//! RNG state, the loss scaler, the optimizer (name, hyper-parameters, step count, state slots),
//! the parameter list (names, shapes, weight-decay flags) and the size and SHA-256 of each data
//! file, so mixing files of two checkpoints or a corrupted file is caught on load.

use super::CheckpointError;
use crate::optim::{LossScalerState, OptimError, OptimizerConfig};
use crate::rng::RngState;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// The `format` field of every sidecar.
pub const FORMAT_NAME: &str = "ane-trainer-checkpoint";
/// The sidecar layout this code writes and reads. Bump on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// The sidecar's contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// The layout version ([`FORMAT_VERSION`] when written by this code).
    pub version: u32,
    /// The program that wrote it, e.g. `ane-trainer 0.1.0`.
    pub created_by: String,
    /// Updates applied when the checkpoint was taken.
    pub step: u64,
    /// The caller's training configuration, stored verbatim.
    pub config: Value,
    /// The caller's position in the data (epoch, batch index, …), stored verbatim.
    pub data_cursor: Value,
    /// Named RNG states (`"shuffle"`, `"dropout"`, …).
    pub rng: BTreeMap<String, RngState>,
    /// The loss scaler's state, when one is in use.
    pub loss_scaler: Option<LossScalerState>,
    /// The optimizer's identity and progress.
    pub optimizer: OptimizerRecord,
    /// The parameters in store order.
    pub params: Vec<ParamRecord>,
    /// Size and SHA-256 of each data file, by file name.
    pub files: BTreeMap<String, FileRecord>,
}

/// The optimizer as recorded in a sidecar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerRecord {
    /// `sgd`, `adam` or `adamw`.
    pub name: String,
    /// The hyper-parameters (fields of the optimizer's config, without the name).
    pub hyper_params: Value,
    /// Updates the optimizer has applied.
    pub step: u64,
    /// State slots stored per parameter in `optimizer.safetensors` as `<param>.<slot>`.
    pub slots: Vec<String>,
}

impl OptimizerRecord {
    /// Builds the record of an optimizer configuration.
    pub(crate) fn new(config: &OptimizerConfig, step: u64, slots: &[&str]) -> Self {
        let mut hyper_params = serde_json::to_value(config).expect("optimizer configs serialize");
        if let Value::Object(map) = &mut hyper_params {
            map.remove("name");
        }
        OptimizerRecord {
            name: config.name().to_string(),
            hyper_params,
            step,
            slots: slots.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The optimizer configuration recorded here, e.g. to rebuild the optimizer on resume.
    pub fn config(&self) -> Result<OptimizerConfig, OptimError> {
        let mut value = self.hyper_params.clone();
        match &mut value {
            Value::Object(map) => {
                map.insert("name".into(), Value::String(self.name.clone()));
            }
            _ => return Err(OptimError::UnknownOptimizer(self.name.clone())),
        }
        serde_json::from_value(value).map_err(|_| OptimError::UnknownOptimizer(self.name.clone()))
    }
}

/// One parameter as recorded in a sidecar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamRecord {
    /// PyTorch-style name.
    pub name: String,
    /// PyTorch layout.
    pub shape: Vec<usize>,
    /// Whether weight decay applied to it.
    pub weight_decay: bool,
}

/// Size and content hash of a data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Length in bytes.
    pub bytes: u64,
    /// Lower-case hex SHA-256 of the contents.
    pub sha256: String,
}

impl FileRecord {
    /// The record of `contents`.
    pub(crate) fn of(contents: &[u8]) -> Self {
        FileRecord {
            bytes: contents.len() as u64,
            sha256: sha256_hex(contents),
        }
    }

    /// Fails unless `contents` (read from `path`) has the recorded size and hash.
    pub(crate) fn verify(&self, path: &Path, contents: &[u8]) -> Result<(), CheckpointError> {
        if contents.len() as u64 != self.bytes {
            return Err(CheckpointError::FileMismatch {
                path: path.to_path_buf(),
                reason: format!(
                    "{} bytes on disk, {} recorded in checkpoint.json (truncated or replaced?)",
                    contents.len(),
                    self.bytes
                ),
            });
        }
        if sha256_hex(contents) != self.sha256 {
            return Err(CheckpointError::FileMismatch {
                path: path.to_path_buf(),
                reason: "SHA-256 differs from the one recorded in checkpoint.json (corrupted or from another checkpoint)".into(),
            });
        }
        Ok(())
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl CheckpointMeta {
    /// Parses and checks a sidecar's text: valid JSON of the expected shape, the right format
    /// name and a supported version.
    pub fn parse(path: &Path, text: &str) -> Result<Self, CheckpointError> {
        let value: Value = serde_json::from_str(text).map_err(|e| CheckpointError::BadSidecar {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        // Check format and version before the full schema, so an old or foreign file gets the
        // precise message rather than a missing-field one.
        if value.get("format").and_then(Value::as_str) != Some(FORMAT_NAME) {
            return Err(CheckpointError::BadSidecar {
                path: path.to_path_buf(),
                reason: format!("`format` is not \"{FORMAT_NAME}\""),
            });
        }
        let version = value.get("version").and_then(Value::as_u64);
        if version != Some(u64::from(FORMAT_VERSION)) {
            return Err(CheckpointError::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version.map_or_else(|| "none".to_string(), |v| v.to_string()),
                supported: FORMAT_VERSION,
            });
        }
        serde_json::from_value(value).map_err(|e| CheckpointError::BadSidecar {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }
}
