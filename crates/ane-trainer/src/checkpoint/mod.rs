//! Checkpoints: a directory holding everything needed to resume training bit-exactly.
//!
//! ```text
//! <dir>/model.safetensors      fp32 master weights, PyTorch names and layouts
//!                              (`safetensors.torch.load_file` + `load_state_dict` accept it)
//! <dir>/optimizer.safetensors  optimizer state as `<param>.<slot>`, e.g. `0.weight.exp_avg`
//! <dir>/checkpoint.json        the sidecar (see [`CheckpointMeta`]), written last
//! ```
//!
//! **Crash safety.** Every file is written to a temporary name, fsynced and renamed into place,
//! and the sidecar — the commit marker — comes last. All of this happens in a staging directory
//! `<dir>.partial` that is renamed to `<dir>` only once complete, so a directory under its final
//! name always holds a whole checkpoint, and a crash at any point leaves earlier checkpoints
//! untouched. [`save_step`] keeps numbered checkpoints `step-00001234` under a root and
//! [`latest`] finds the newest complete one.
//!
//! **Loading** ([`Checkpoint::open`], then [`Checkpoint::restore`]) checks everything before
//! changing anything: the sidecar's format and version, each file's size and SHA-256, the
//! safetensors headers, and that every tensor is present, fp32 and shaped like the model.
//!
//! [`load_init_weights`] (the CLI's `--init FILE`) copies matching weights from any safetensors
//! file into a fresh model; [`save_weights`] writes a model's weights alone as one file.

mod atomic;
mod export;
mod init;
mod load;
mod rotation;
mod save;
mod sidecar;
mod tensors;
#[cfg(test)]
mod tests;

pub use export::save_weights;
pub use init::{load_init_weights, InitReport};
pub use load::Checkpoint;
pub use rotation::{latest, save_step, step_dir_name};
pub use save::{save, save_with_hook};
pub use sidecar::{
    CheckpointMeta, FileRecord, OptimizerRecord, ParamRecord, FORMAT_NAME, FORMAT_VERSION,
};

use crate::optim::{LossScalerState, OptimError};
use crate::params::ParamError;
use crate::rng::RngState;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The fp32 master weights.
pub const MODEL_FILE: &str = "model.safetensors";
/// The optimizer state tensors.
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
/// The sidecar and commit marker.
pub const SIDECAR_FILE: &str = "checkpoint.json";

/// What the trainer saves besides parameters and optimizer: its step, its configuration and
/// data position (opaque to this module), RNG states and the loss scaler.
#[derive(Debug, Clone, PartialEq)]
pub struct RunState {
    /// Updates applied so far.
    pub step: u64,
    /// The training configuration, stored verbatim (e.g. the CLI flags or a config file).
    pub config: Value,
    /// Where the data stream stands (epoch, position, shuffle order seed, …), stored verbatim.
    pub data_cursor: Value,
    /// Every RNG whose stream must continue on resume, by purpose.
    pub rng: BTreeMap<String, RngState>,
    /// The loss scaler, when one is used.
    pub loss_scaler: Option<LossScalerState>,
}

/// Why a checkpoint could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file-system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file could not be read (missing, not a regular file, too large).
    #[error(transparent)]
    Read(#[from] ane_mil::file::ReadFileError),
    /// The path is not a checkpoint directory.
    #[error("{} is not a checkpoint: {reason}", path.display())]
    NotACheckpoint {
        /// The file or directory involved.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The directory holds data files but no sidecar: a save was interrupted.
    #[error("{} is an incomplete checkpoint (no {SIDECAR_FILE}; the save was interrupted)", path.display())]
    Incomplete {
        /// The file or directory involved.
        path: PathBuf,
    },
    /// A data file named in the sidecar is missing.
    #[error("checkpoint file {} is missing", path.display())]
    MissingFile {
        /// The file or directory involved.
        path: PathBuf,
    },
    /// Saving would overwrite a complete checkpoint.
    #[error("{} already holds a checkpoint; choose another directory or use save_step", path.display())]
    AlreadyExists {
        /// The file or directory involved.
        path: PathBuf,
    },
    /// Saving into (or cleaning up) a directory that holds other files.
    #[error("{} is not empty and is not a checkpoint; refusing to touch it", path.display())]
    DirectoryNotEmpty {
        /// The file or directory involved.
        path: PathBuf,
    },
    /// The path cannot name a checkpoint directory (e.g. `/` or `..`).
    #[error("{} cannot be used as a checkpoint directory", path.display())]
    BadPath {
        /// The file or directory involved.
        path: PathBuf,
    },
    /// The sidecar is not valid JSON or lacks required fields.
    #[error("{}: invalid sidecar: {reason}", path.display())]
    BadSidecar {
        /// The file or directory involved.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The sidecar was written by an incompatible version.
    #[error("{}: checkpoint format version {found} is not supported (this build reads version {supported})", path.display())]
    UnsupportedVersion {
        /// The file or directory involved.
        path: PathBuf,
        /// What was found.
        found: String,
        /// The version this build reads.
        supported: u32,
    },
    /// A data file does not match the size or hash recorded in the sidecar.
    #[error("{}: {reason}", path.display())]
    FileMismatch {
        /// The file or directory involved.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A safetensors file is malformed or truncated.
    #[error("{}: not a valid safetensors file: {reason}", file.display())]
    BadSafetensors {
        /// The safetensors file involved.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A tensor the model needs is absent.
    #[error("{}: tensor `{name}` is missing", file.display())]
    MissingTensor {
        /// The safetensors file involved.
        file: PathBuf,
        /// The tensor or parameter name.
        name: String,
    },
    /// A tensor that the model does not have.
    #[error("{}: unexpected tensor `{name}` (not a parameter of this model)", file.display())]
    UnexpectedTensor {
        /// The safetensors file involved.
        file: PathBuf,
        /// The tensor or parameter name.
        name: String,
    },
    /// A tensor with the wrong shape.
    #[error("{}: tensor `{name}` has shape {found:?}, the model expects {expected:?}", file.display())]
    WrongShape {
        /// The safetensors file involved.
        file: PathBuf,
        /// The tensor or parameter name.
        name: String,
        /// What was expected.
        expected: Vec<usize>,
        /// What was found.
        found: Vec<usize>,
    },
    /// A tensor with the wrong element type.
    #[error("{}: tensor `{name}` has dtype {found}, expected {expected}", file.display())]
    WrongDtype {
        /// The safetensors file involved.
        file: PathBuf,
        /// The tensor or parameter name.
        name: String,
        /// What was found.
        found: String,
        /// What was expected.
        expected: &'static str,
    },
    /// Weights the model needs are absent from an `--init` file.
    #[error("{}: no weights for {} model parameter(s): {}", file.display(), names.len(), names.join(", "))]
    MissingWeights {
        /// The safetensors file involved.
        file: PathBuf,
        /// The parameters without weights.
        names: Vec<String>,
    },
    /// A weight of an `--init` file holds NaN or infinity.
    #[error(
        "{}: tensor `{name}` holds {value} at element {index}: initial weights must be finite",
        file.display()
    )]
    NonFiniteWeight {
        /// The safetensors file involved.
        file: PathBuf,
        /// The tensor.
        name: String,
        /// The first non-finite element's index.
        index: usize,
        /// Its value (`NaN`, `inf`, `-inf`).
        value: f32,
    },
    /// The checkpoint's parameter list differs from the model's.
    #[error("checkpoint parameters do not match the model: {0}")]
    ParamMismatch(String),
    /// The checkpoint was taken with another optimizer or optimizer setup.
    #[error("checkpoint optimizer does not match: {0}")]
    OptimizerMismatch(String),
    /// The optimizer rejected the stored state.
    #[error(transparent)]
    Optim(#[from] OptimError),
    /// The parameter store rejected a tensor.
    #[error(transparent)]
    Param(#[from] ParamError),
}
