//! `ane-trainer mil …`: check, format and run MIL program files.

use clap::Subcommand;
use std::process::ExitCode;

/// MIL file subcommands.
#[derive(Subcommand, Debug)]
pub enum MilCommand {}

/// Runs a `mil` subcommand.
pub fn run(cmd: MilCommand) -> anyhow::Result<ExitCode> {
    match cmd {}
}
