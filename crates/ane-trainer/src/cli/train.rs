//! `ane-trainer train`: train a model (defaults: the 784-256-10 MLP on the embedded MNIST
//! sample) and print its test accuracy.

use super::output::emit;
use ane_trainer::trainer::{train, ProgressMode, RunOptions, TrainSettings};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `ane-trainer train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    settings: TrainSettings,
    /// Read settings from a TOML file (keys are the flag names); flags given here override it.
    #[arg(long, value_name = "FILE.toml")]
    config: Option<PathBuf>,
    /// Continue the run in DIR (or from a checkpoint directory) bit-exactly.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// End this invocation after N more updates, saving a checkpoint; the run's length (and its
    /// schedule) stay as configured, so `--resume` continues it exactly.
    #[arg(long, value_name = "N")]
    stop_after: Option<u64>,
    /// Print only errors and the summary (no progress).
    #[arg(long, short)]
    quiet: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `train`.
pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let settings = match &args.config {
        Some(path) => TrainSettings::from_toml_file(path)?.overlay(&args.settings),
        None => args.settings.clone(),
    };
    let options = RunOptions {
        resume: args.resume.clone(),
        stop_after: args.stop_after,
        progress: if args.quiet {
            ProgressMode::Quiet
        } else {
            ProgressMode::Auto
        },
        ..RunOptions::default()
    };
    let summary = train(&settings, &options)?;
    if args.json {
        emit(&serde_json::to_string_pretty(&summary)?)?;
    } else {
        emit(&format!("{summary}"))?;
    }
    Ok(ExitCode::SUCCESS)
}
