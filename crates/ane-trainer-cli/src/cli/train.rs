//! `ane-trainer train`: train a model (defaults: the 784-256-10 MLP on the embedded MNIST
//! sample) and print its test accuracy.

use super::output::emit;
use super::progress::{CliProgress, ProgressMode};
use ane_trainer::trainer::{train, RunOptions, TrainError, TrainSettings};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

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
        interrupt: Some(install_interrupt_handler()?),
        ..RunOptions::default()
    };
    let mut progress = CliProgress::new(if args.quiet {
        ProgressMode::Quiet
    } else {
        ProgressMode::Auto
    });
    let summary = match train(&settings, &options, &mut progress) {
        Ok(summary) => summary,
        Err(err @ TrainError::Interrupted { .. }) => {
            eprintln!("{err}");
            return Ok(ExitCode::from(EXIT_INTERRUPTED));
        }
        Err(err) => return Err(err.into()),
    };
    if args.json {
        emit(&serde_json::to_string_pretty(&summary)?)?;
    } else {
        emit(&format!("{summary}"))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The first Ctrl-C (or SIGTERM) asks the run to stop after the current step with a checkpoint;
/// a second one ends the process at once (checkpoints are atomic, so none is left torn).
fn install_interrupt_handler() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let seen = flag.clone();
    ctrlc::set_handler(move || {
        if seen.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        eprintln!(
            "\ninterrupt: finishing this step and saving a checkpoint (interrupt again to stop at once)"
        );
    })?;
    Ok(flag)
}
