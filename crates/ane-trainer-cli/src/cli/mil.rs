//! `ane-trainer mil …`: check, format and run MIL program files (`run` lives in `mil/run.rs`).

use clap::{Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod run;

/// MIL file subcommands.
#[derive(Subcommand, Debug)]
pub enum MilCommand {
    /// Parse and validate MIL files; print every problem as `file:line:col: message`.
    Check {
        /// MIL text files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Directory that `@model_path` in BLOBFILE paths stands for (default: each file's
        /// own directory). Every referenced weight file is read and checked.
        #[arg(long)]
        model_path: Option<PathBuf>,
        /// Check syntax and types only; do not read or verify weight files.
        #[arg(long)]
        skip_weights: bool,
        /// Also check the Neural Engine's hardware rules for this chip (m1…m5): every broken
        /// rule is an error naming the rule and its source; unproven ops and forms are printed as
        /// notes.
        #[arg(long)]
        chip: Option<String>,
    },
    /// Print a MIL file in canonical form, optionally converted to another dialect.
    Fmt {
        /// The MIL text file.
        file: PathBuf,
        /// Target dialect: `ios18` (program(1.3), M4+) or `ios16` (program(1.0), M1–M3).
        /// Without it the file keeps its own dialect.
        #[arg(long, value_enum)]
        dialect: Option<DialectArg>,
    },
    /// Run a MIL program on the simulator: inputs from .npy files, each output written as
    /// OUTPUT/NAME.npy.
    Run(run::RunArgs),
}

/// A MIL dialect named on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DialectArg {
    Ios18,
    Ios16,
}

impl From<DialectArg> for ane_mil::Dialect {
    fn from(d: DialectArg) -> Self {
        match d {
            DialectArg::Ios18 => ane_mil::Dialect::Ios18,
            DialectArg::Ios16 => ane_mil::Dialect::Ios16,
        }
    }
}

/// Runs a `mil` subcommand.
pub fn run(cmd: MilCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MilCommand::Check {
            files,
            model_path,
            skip_weights,
            chip,
        } => {
            let weights = if skip_weights {
                None
            } else {
                Some(model_path.as_deref())
            };
            let caps = chip
                .as_deref()
                .map(ane_trainer::trainer::config::parse_chip)
                .transpose()?
                .map(|family| family.caps());
            let mut failed = 0;
            for file in &files {
                let mut problems = check_file(file, weights);
                if let Some(caps) = &caps {
                    let (rejected, notes) = lint_file(file, caps);
                    problems.extend(rejected);
                    for note in notes {
                        eprintln!("{note}");
                    }
                }
                for p in &problems {
                    eprintln!("{p}");
                }
                if problems.is_empty() {
                    println!("{}: ok", file.display());
                } else {
                    failed += 1;
                }
            }
            if failed > 0 {
                eprintln!("{failed} of {} file(s) have errors", files.len());
                Ok(ExitCode::FAILURE)
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
        MilCommand::Fmt { file, dialect } => {
            let text = ane_mil::file::read_program_text(&file)?;
            let mut program =
                ane_mil::parse(&text).map_err(|e| anyhow::anyhow!("{}:{e}", file.display()))?;
            if let Some(d) = dialect {
                program.set_dialect(d.into());
            }
            print!("{}", ane_mil::print(&program));
            Ok(ExitCode::SUCCESS)
        }
        MilCommand::Run(args) => run::run(&args),
    }
}

/// The chip lint of one parsable file: `(errors, notes)`, each line `file: [rule …] …` with the
/// rule's source; errors are the rejecting findings, notes the advisory ones. A file that does not
/// parse gives nothing here ([`check_file`] reports it).
pub fn lint_file(file: &Path, caps: &ane_mil::chip::ChipCaps) -> (Vec<String>, Vec<String>) {
    let Ok(text) = ane_mil::file::read_program_text(file) else {
        return (Vec::new(), Vec::new());
    };
    let Ok(program) = ane_mil::parse(&text) else {
        return (Vec::new(), Vec::new());
    };
    let name = file.display();
    let (mut errors, mut notes) = (Vec::new(), Vec::new());
    for finding in ane_mil::chip::lint_all(&program, caps) {
        if finding.is_rejection() {
            errors.push(format!("{name}: {finding}"));
        } else {
            notes.push(format!("{name}: note: {finding}"));
        }
    }
    (errors, notes)
}

/// The directory `@model_path` stands for: the override, else the program file's directory.
pub fn model_dir(file: &Path, model_path: Option<&Path>) -> PathBuf {
    match model_path {
        Some(p) => p.to_path_buf(),
        None => file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
    }
}

/// Every problem in one file, each formatted `file:line:col: message` (or `file: message`):
/// syntax, validation, and weight files that are missing or do not match their BLOBFILE
/// references. `weights` is `None` to skip weight files, else `Some(model_path override)`.
pub fn check_file(file: &Path, weights: Option<Option<&Path>>) -> Vec<String> {
    let name = file.display();
    let text = match ane_mil::file::read_program_text(file) {
        Ok(t) => t,
        Err(e) => {
            // The error names the file first; keep the `file: message` form of every problem.
            let message = e.to_string();
            let prefix = format!("{name}: ");
            let reason = message.strip_prefix(&prefix).unwrap_or(&message);
            return vec![format!("{name}: cannot read: {reason}")];
        }
    };
    let program = match ane_mil::parse(&text) {
        Ok(p) => p,
        Err(e) => return vec![format!("{name}:{e}")],
    };
    let Some(model_path) = weights else {
        return match ane_mil::validate::validate(&program) {
            Ok(()) => Vec::new(),
            Err(errors) => errors
                .to_string()
                .lines()
                .map(|l| format!("{name}:{l}"))
                .collect(),
        };
    };
    let dir = model_dir(file, model_path);
    let (weights, unreadable) = ane_mil::WeightFiles::load_referenced(&program, &dir);
    let mut problems: Vec<String> = unreadable
        .iter()
        .map(|(path, e)| {
            let on_disk = dir.join(ane_mil::WeightFiles::relative_path(path));
            format!(
                "{name}: cannot read weight file {} ({path}): {e}",
                on_disk.display()
            )
        })
        .collect();
    let result = if unreadable.is_empty() {
        ane_mil::validate::validate_with_weights(&program, &weights)
    } else {
        ane_mil::validate::validate(&program)
    };
    if let Err(errors) = result {
        problems.extend(errors.to_string().lines().map(|l| format!("{name}:{l}")));
    }
    problems
}
