//! The training loop and everything around it: the configuration (defaults, TOML file, flags),
//! run directories, progress output, periodic evaluation and checkpoints, resuming, the final
//! summary, checkpoint evaluation (`eval`) and the step benchmark (`bench`).
//!
//! [`train`] is the library entry point the `ane-trainer train` command calls.

pub mod bench;
pub mod config;
mod error;
pub mod evaluate;
pub mod progress;
pub mod run;
pub mod run_dir;
pub mod run_lock;
pub mod setup;
pub mod summary;

pub use bench::{bench, BenchOptions, BenchReport};
pub use config::{TrainConfig, TrainSettings};
pub use error::TrainError;
pub use evaluate::{evaluate_checkpoint, CheckpointEval, EvalOptions};
pub use progress::{QuietRun, RunObserver, StepStatus};
pub use run::{train, RunOptions};
pub use summary::TrainSummary;
