//! The one error type of the training loop: every way a run can fail, with a message that says
//! what to change.

use std::path::PathBuf;

/// Why a run (or `eval`, or `bench`) could not start or continue.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A setting has a value it cannot take.
    #[error("invalid {key} `{value}`: {reason}")]
    Setting {
        /// The setting (flag name without dashes).
        key: String,
        /// The value given.
        value: String,
        /// What it must be.
        reason: String,
    },
    /// Settings that cannot be combined.
    #[error("{0}")]
    Conflict(String),
    /// The run was interrupted (Ctrl-C, SIGTERM, or the caller's flag) and stopped cleanly after
    /// a whole step, with a checkpoint.
    #[error(
        "interrupted at step {step} of {total}; checkpoint saved in {}; continue with \
         `ane-trainer train --resume {}`",
        checkpoint.display(),
        out.display()
    )]
    Interrupted {
        /// Updates done.
        step: u64,
        /// The run's length.
        total: u64,
        /// The checkpoint holding `step`.
        checkpoint: PathBuf,
        /// The run directory.
        out: PathBuf,
    },
    /// A `--config` file is not valid.
    #[error("{}: {reason}", path.display())]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file-system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The dataset could not be found, read or batched.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// The model could not be built.
    #[error(transparent)]
    Model(#[from] crate::nn::NnError),
    /// The optimizer settings are invalid.
    #[error(transparent)]
    Optim(#[from] crate::optim::OptimError),
    /// The schedule is invalid.
    #[error(transparent)]
    Schedule(#[from] crate::optim::ScheduleError),
    /// The loss-scaler settings or saved state are invalid.
    #[error(transparent)]
    LossScaler(#[from] crate::optim::LossScalerError),
    /// Planning, compiling or running a step failed.
    #[error(transparent)]
    Exec(#[from] crate::executor::ExecError),
    /// A checkpoint could not be written or read.
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
    /// The metrics log could not be written.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    /// The model does not fit the data.
    #[error("the {model} model does not fit {dataset}: {reason}")]
    ModelData {
        /// The model preset.
        model: String,
        /// The dataset.
        dataset: String,
        /// Why not.
        reason: String,
    },
    /// The run cannot be resumed as asked.
    #[error("cannot resume from {}: {reason}", path.display())]
    Resume {
        /// The run or checkpoint directory.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
}
