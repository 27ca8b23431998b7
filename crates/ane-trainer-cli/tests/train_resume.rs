//! Resuming is bit-exact: N updates, a stop, and M more give the same losses (metrics.jsonl) and
//! the same final weights and optimizer state as N+M updates in one run — with a cosine
//! schedule (which depends on the run's length), gradient accumulation and dropout-free fp16
//! kernels with dynamic loss scaling.

mod cli_common;
use cli_common::*;
use std::path::Path;

const RUN: [&str; 12] = [
    "train",
    "--steps",
    "30",
    "--batch-size",
    "32",
    "--accum",
    "2",
    "--schedule",
    "cosine:4",
    "--save-every",
    "7",
    "-q",
];

fn losses(run: &Path) -> Vec<(u64, f64, f64, f64)> {
    ane_trainer::metrics::read_metrics(&run.join("metrics.jsonl"))
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.step,
                r.loss.unwrap(),
                r.lr.unwrap(),
                r.loss_scale.unwrap(),
            )
        })
        .collect()
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn stop_and_resume_equals_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let one = run_in(dir.path(), &[&RUN[..], &["--out", "one"]].concat());
    expect_success(&one, "the uninterrupted run");

    let first = run_in(
        dir.path(),
        &[&RUN[..], &["--out", "split", "--stop-after", "12"]].concat(),
    );
    expect_success(&first, "the first part");
    assert!(stdout(&first).contains("step 12/30"), "{}", stdout(&first));
    // Pretend the first part ran on past its last checkpoint before dying: those lines are
    // dropped on resume.
    let second = run_in(dir.path(), &["train", "--resume", "split", "-q"]);
    expect_success(&second, "the resumed part");
    assert!(
        stdout(&second).contains("step 30/30 (18 this run)"),
        "{}",
        stdout(&second)
    );

    let (a, b) = (dir.path().join("one"), dir.path().join("split"));
    assert_eq!(losses(&a).len(), 30);
    assert_eq!(
        losses(&a),
        losses(&b),
        "identical per-step loss, lr and loss scale"
    );
    let last = "checkpoints/step-00000030";
    for file in ["model.safetensors", "optimizer.safetensors"] {
        assert!(
            bytes(&a.join(last).join(file)) == bytes(&b.join(last).join(file)),
            "{file} differs between the one-shot and the resumed run"
        );
    }
    assert_eq!(
        printed_accuracy(&stdout(&one)),
        printed_accuracy(&stdout(&second))
    );
}

#[test]
fn resume_drops_metrics_written_after_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let first = run_in(
        dir.path(),
        &[
            "train",
            "--steps",
            "10",
            "--save-every",
            "4",
            "--stop-after",
            "6",
            "--out",
            "r",
            "-q",
        ],
    );
    expect_success(&first, "the first part");
    // Simulate a crash after step 6 whose last checkpoint was step 4: remove the final one.
    let ckpts = dir.path().join("r/checkpoints");
    std::fs::remove_dir_all(ckpts.join("step-00000006")).unwrap();
    let second = run_in(dir.path(), &["train", "--resume", "r", "-q"]);
    expect_success(&second, "resuming from step 4");
    let steps: Vec<u64> = losses(&dir.path().join("r")).iter().map(|l| l.0).collect();
    assert_eq!(
        steps,
        (1..=10).collect::<Vec<_>>(),
        "each step logged once, in order"
    );
}
