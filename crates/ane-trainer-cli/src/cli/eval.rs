//! `ane-trainer eval --checkpoint DIR`: evaluate a checkpoint on its dataset's test split.

use super::output::emit;
use ane_trainer::executor::DeviceChoice;
use ane_trainer::trainer::{evaluate_checkpoint, EvalOptions};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `ane-trainer eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// A checkpoint directory, or a run directory (its newest checkpoint is used).
    #[arg(long, value_name = "DIR")]
    checkpoint: PathBuf,
    /// Where ANE kernels run: auto, sim, ane (default: the run's setting).
    #[arg(long, value_name = "DEVICE")]
    device: Option<String>,
    /// Evaluation batch size (default: the run's).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Read the dataset from this directory of IDX files instead of the run's source.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let device = args
        .device
        .as_deref()
        .map(str::parse::<DeviceChoice>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--device: {e}"))?;
    let options = EvalOptions {
        device,
        batch_size: args.batch_size,
        data_dir: args.data_dir.clone(),
        verbose: !args.json,
    };
    let result = evaluate_checkpoint(&args.checkpoint, &options)?;
    if args.json {
        emit(&serde_json::to_string_pretty(&result)?)?;
    } else {
        emit(&format!(
            "test accuracy: {:.2}% ({}/{}), test loss {:.4}",
            100.0 * result.accuracy,
            result.correct,
            result.examples,
            result.loss
        ))?;
        emit(&format!(
            "checkpoint {} (step {}) on {}, {}",
            result.checkpoint.display(),
            result.step,
            result.dataset,
            result.device
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
