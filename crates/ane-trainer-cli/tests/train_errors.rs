//! Bad inputs to `train`, `eval` and `inspect` fail with a clear message and a non-zero exit
//! status, never a panic.

mod cli_common;
use cli_common::*;
use std::path::Path;

/// Runs and checks: non-zero exit, no panic, stderr mentions every needle.
fn fails_with(cwd: &Path, args: &[&str], needles: &[&str]) {
    let out = run_in(cwd, args);
    let err = stderr(&out);
    assert!(
        !out.status.success(),
        "{args:?} succeeded:\n{}",
        stdout(&out)
    );
    assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
    for needle in needles {
        assert!(
            err.contains(needle),
            "{args:?}: stderr lacks {needle:?}:\n{err}"
        );
    }
}

#[test]
fn unknown_names_and_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fails_with(
        d,
        &["train", "--model", "resnet"],
        &["unknown model preset `resnet`", "mlp"],
    );
    fails_with(
        d,
        &["train", "--optimizer", "lamb"],
        &["unknown optimizer `lamb`", "adamw"],
    );
    fails_with(
        d,
        &["train", "--dataset", "cifar"],
        &["unknown dataset", "cifar", "fashion-mnist"],
    );
    fails_with(
        d,
        &["train", "--schedule", "cosine:x"],
        &["schedule `cosine:x`", "WARMUP"],
    );
    fails_with(
        d,
        &["train", "--schedule", "linear"],
        &["unknown schedule kind `linear`"],
    );
    fails_with(
        d,
        &["train", "--batch-size", "0"],
        &["batch-size", "at least 1"],
    );
    fails_with(d, &["train", "--precision", "bf16"], &["precision `bf16`"]);
    fails_with(d, &["train", "--device", "gpu"], &["unknown device `gpu`"]);
    fails_with(
        d,
        &["train", "--epochs", "2", "--steps", "3"],
        &["not both"],
    );
    fails_with(d, &["train", "--model-flag", "dim=64"], &["dim", "mlp"]);
    fails_with(
        d,
        &["train", "--widths", "100,10"],
        &["does not fit", "784"],
    );
    fails_with(d, &["train", "--model", "stories15m"], &["token ids"]);
    fails_with(
        d,
        &["inspect", "--model", "resnet"],
        &["unknown model preset"],
    );
    fails_with(d, &["inspect", "--chip", "a17"], &["chip"]);
    assert!(
        !d.join("runs").exists(),
        "failed runs leave no run directory behind"
    );
}

#[test]
fn config_file_errors_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bad.toml"), "batch-sise = 32\n").unwrap();
    fails_with(
        d,
        &["train", "--config", "bad.toml"],
        &["bad.toml", "batch-sise"],
    );
    fails_with(d, &["train", "--config", "missing.toml"], &["missing.toml"]);
    // Flags override the file: the file's unknown optimizer is replaced by the flag's.
    std::fs::write(d.join("c.toml"), "optimizer = \"lamb\"\nsteps = 2\n").unwrap();
    fails_with(d, &["train", "--config", "c.toml"], &["lamb"]);
    let ok = run_in(
        d,
        &[
            "train",
            "--config",
            "c.toml",
            "--optimizer",
            "sgd",
            "-q",
            "--out",
            "c",
        ],
    );
    expect_success(&ok, "flags override the file");
    assert!(stdout(&ok).contains("step 2/2"), "{}", stdout(&ok));
    let saved = std::fs::read_to_string(d.join("c/config.toml")).unwrap();
    assert!(saved.contains("optimizer = \"sgd\""), "{saved}");
}

#[test]
fn missing_data_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("idx")).unwrap();
    std::fs::write(d.join("idx/train-images-idx3-ubyte"), b"\0\0\x08\x03").unwrap();
    fails_with(
        d,
        &["train", "--data-dir", "idx"],
        &[
            "train-labels-idx1-ubyte",
            "missing",
            "t10k-images-idx3-ubyte",
        ],
    );
    fails_with(d, &["train", "--data-dir", "nowhere"], &["nowhere"]);
}

#[test]
fn corrupt_checkpoints_wrong_init_shapes_and_occupied_directories() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ok = run_in(d, &["train", "--steps", "3", "--out", "r", "-q"]);
    expect_success(&ok, "a short run");
    let ckpt = d.join("r/checkpoints/step-00000003");

    fails_with(
        d,
        &["train", "--out", "r"],
        &["already holds a run", "--resume r"],
    );
    fails_with(
        d,
        &["train", "--resume", "r", "--batch-size", "32"],
        &["batch-size", "64", "32"],
    );
    fails_with(
        d,
        &["train", "--resume", "r", "--widths", "784,128,10"],
        &["model flags"],
    );
    fails_with(
        d,
        &["train", "--resume", "nothing-here"],
        &["no such directory"],
    );
    fails_with(
        d,
        &[
            "train",
            "--init",
            "r/checkpoints/step-00000003/model.safetensors",
            "--widths",
            "784,64,10",
            "--out",
            "i",
        ],
        &["0.weight", "[256, 784]", "[64, 784]"],
    );
    fails_with(
        d,
        &["train", "--init", "nope.safetensors", "--out", "j"],
        &["nope.safetensors"],
    );

    // Flip one byte of the weights: the SHA-256 recorded in the sidecar catches it.
    let weights = ckpt.join("model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&weights, &bytes).unwrap();
    fails_with(
        d,
        &["train", "--resume", "r", "--steps", "5"],
        &["model.safetensors", "SHA-256"],
    );
    fails_with(d, &["eval", "--checkpoint", "r"], &["SHA-256"]);

    // A truncated sidecar.
    std::fs::write(ckpt.join("checkpoint.json"), "{\"format\": ").unwrap();
    fails_with(
        d,
        &["train", "--resume", "r"],
        &["checkpoint.json", "invalid sidecar"],
    );
}

#[test]
fn fp32_divergence_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fails_with(
        dir.path(),
        &[
            "train",
            "--precision",
            "fp32",
            "--optimizer",
            "sgd",
            "--lr",
            "10000",
            "--normalize",
            "none",
            "--steps",
            "50",
            "-q",
            "--out",
            "nan",
        ],
        &["training diverged", "lower --lr"],
    );
}
