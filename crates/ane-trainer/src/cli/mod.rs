//! Command-line parsing and dispatch. Each subcommand lives in its own file.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub(crate) mod mil;

/// Train neural networks on the Apple Neural Engine (or its simulator).
#[derive(Parser, Debug)]
#[command(name = "ane-trainer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Work with MIL program files: check, format, run.
    #[command(subcommand)]
    Mil(mil::MilCommand),
}

/// Parses the command line, runs the subcommand and turns its result into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
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
