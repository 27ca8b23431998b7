//! Running the real `ane-trainer` binary from end-to-end tests and reading what it prints.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The binary cargo built for these tests.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_ane-trainer")
}

/// Runs `ane-trainer args…` in `cwd` (so default run directories land in a temporary place).
pub fn run_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(cwd)
        .env_remove("ANE_TRAINER_CACHE")
        .output()
        .expect("the ane-trainer binary runs")
}

/// Stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Panics with both streams unless the command succeeded.
pub fn expect_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// The percentage in the `test accuracy: 93.50% (935/1000)…` line.
pub fn printed_accuracy(text: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with("test accuracy: "))
        .unwrap_or_else(|| panic!("no `test accuracy:` line in:\n{text}"));
    let percent = line["test accuracy: ".len()..]
        .split('%')
        .next()
        .expect("a percentage");
    percent
        .parse()
        .unwrap_or_else(|_| panic!("unparsable accuracy in {line:?}"))
}
