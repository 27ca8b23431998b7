//! Ctrl-C during `ane-trainer train`: the run stops after a whole step, saves a checkpoint at
//! that step, says how to continue, exits with 130, and `--resume` carries on from there.
#![cfg(unix)]

mod cli_common;
use cli_common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn metrics_lines(run: &Path) -> usize {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn sigint_stops_after_a_step_with_a_checkpoint_and_resume_continues() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let mut child = Command::new(binary())
        .args(["train", "--steps", "1000000", "--save-every", "100000"])
        .arg("--out")
        .arg(&run)
        .arg("-q")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until training is under way (a few updates logged), then interrupt.
    let deadline = Instant::now() + Duration::from_secs(120);
    while metrics_lines(&run) < 5 {
        assert!(Instant::now() < deadline, "training never started");
        assert!(child.try_wait().unwrap().is_none(), "train exited early");
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "stderr:\n{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("interrupted at step "))
        .unwrap_or_else(|| panic!("no interruption message in:\n{err}"));
    assert!(line.contains("--resume"), "{line}");
    let step: u64 = line["interrupted at step ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(step >= 5, "{line}");
    // Every finished step is in the metrics, and the checkpoint holds the last one.
    assert_eq!(metrics_lines(&run) as u64, step);
    let checkpoint = run
        .join("checkpoints")
        .join(format!("step-{step:08}"))
        .join("checkpoint.json");
    assert!(checkpoint.is_file(), "{}", checkpoint.display());

    let resumed = run_in(
        dir.path(),
        &[
            "train",
            "--resume",
            run.to_str().unwrap(),
            "--stop-after",
            "3",
            "-q",
        ],
    );
    expect_success(&resumed, "resume after the interruption");
    assert!(
        stdout(&resumed).contains(&format!("step {}/1000000", step + 3)),
        "{}",
        stdout(&resumed)
    );
    assert_eq!(metrics_lines(&run) as u64, step + 3);
}
