//! Command-line parsing and dispatch. Each subcommand lives in its own file.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub(crate) mod bench;
pub(crate) mod doctor;
pub(crate) mod eval;
pub(crate) mod export;
pub(crate) mod inspect;
pub(crate) mod mil;
mod output;
mod progress;
pub(crate) mod train;

/// Train neural networks on the Apple Neural Engine (or its simulator).
#[derive(Parser, Debug)]
#[command(name = "ane-trainer", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model (default: the 784-256-10 MLP on the embedded MNIST sample) and print its
    /// test accuracy.
    Train(Box<train::TrainArgs>),
    /// Evaluate a checkpoint on its dataset's test split.
    Eval(eval::EvalArgs),
    /// Export a checkpoint as a Core ML package (`.mlpackage`) for apps.
    Export(export::ExportArgs),
    /// Plan a model's training step without running it: print the kernel table, dump the MIL.
    Inspect(inspect::InspectArgs),
    /// Time training steps on synthetic data, split into staging, device, host and optimizer.
    Bench(bench::BenchArgs),
    /// Check this machine's Neural Engine support and run the op conformance suite (simulator
    /// everywhere, the ANE on a Mac); non-zero exit on any failure.
    Doctor(doctor::DoctorArgs),
    /// Work with MIL program files: check, format, run.
    #[command(subcommand)]
    Mil(mil::MilCommand),
}

/// Parses the process's command line, runs the subcommand and turns its result into an exit
/// code.
pub fn main() -> ExitCode {
    main_from(std::env::args_os())
}

/// [`main`] with the command line `args` (the program name first), as `python -m ane_trainer`
/// passes it. `--help`, `--version` and usage errors print and return their exit codes.
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    let result = match cli.command {
        Command::Train(args) => train::run(*args),
        Command::Eval(args) => eval::run(args),
        Command::Export(args) => export::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Mil(cmd) => mil::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
