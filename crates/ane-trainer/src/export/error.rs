//! Why an export (or reading a package back) failed.

use std::path::PathBuf;

/// Why a checkpoint could not be exported, or a package not read.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A file-system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The checkpoint could not be located or read.
    #[error(transparent)]
    Train(#[from] crate::trainer::TrainError),
    /// The checkpoint's files are damaged or do not match its model.
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
    /// The checkpoint names a model this build cannot rebuild.
    #[error("{}: cannot export this checkpoint: {reason}", path.display())]
    UnknownModel {
        /// The checkpoint directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The model could not be traced.
    #[error(transparent)]
    Model(#[from] crate::nn::NnError),
    /// The compiler could not lower the inference graph.
    #[error("lowering the inference graph: {0}")]
    Lower(#[from] ane_compiler::lower::LowerError),
    /// The program uses an op (or op form) the chosen deployment target's opset lacks.
    #[error("the model cannot be deployed to {target}: {reason}")]
    UnsupportedTarget {
        /// The deployment target.
        target: String,
        /// The ops and why.
        reason: String,
    },
    /// The output path cannot receive a package.
    #[error("cannot write the package to {}: {reason}", path.display())]
    BadOutput {
        /// The output path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A package being read is malformed.
    #[error("{}: not a valid Core ML package: {reason}", path.display())]
    BadPackage {
        /// The package (or a file in it).
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A bug in the exporter: something the compiler produced is not what it expects.
    #[error("internal export error: {0}")]
    Internal(String),
}

impl ExportError {
    /// An [`ExportError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ExportError {
        let path = path.into();
        move |source| ExportError::Io { path, source }
    }
}
