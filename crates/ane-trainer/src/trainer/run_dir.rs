//! The run directory: where a run writes, and how an existing one is found again.
//!
//! ```text
//! DIR/config.toml          the resolved settings (`--config DIR/config.toml` repeats the run)
//! DIR/metrics.jsonl        one line per update (and evaluation results on evaluation steps)
//! DIR/checkpoints/step-N/  checkpoints; the newest is what `--resume DIR` and `eval` read
//! ```
//!
//! Without `--out`, a new run goes to `runs/<model>-<dataset>`, or the first of `…-2`, `…-3`, …
//! that does not exist yet: names are deterministic (no timestamps) and a run never overwrites
//! another.

use super::error::TrainError;
use crate::checkpoint::{latest, SIDECAR_FILE};
use std::path::{Path, PathBuf};

/// The checkpoints directory of a run.
pub const CHECKPOINTS_DIR: &str = "checkpoints";
/// The metrics log of a run.
pub const METRICS_FILE: &str = "metrics.jsonl";
/// The resolved settings of a run.
pub const CONFIG_FILE: &str = "config.toml";

/// The first free directory among `root/<model>-<dataset>`, `…-2`, `…-3`, ….
pub fn default_run_dir(root: &Path, model: &str, dataset: &str) -> PathBuf {
    let base = format!("{model}-{dataset}");
    let first = root.join(&base);
    if !first.exists() {
        return first;
    }
    (2u64..)
        .map(|n| root.join(format!("{base}-{n}")))
        .find(|p| !p.exists())
        .expect("some suffix is free")
}

/// Fails when `dir` already holds a run (checkpoints or a metrics log), or another run holds it.
pub fn check_fresh(dir: &Path) -> Result<(), TrainError> {
    if dir.join(super::run_lock::LOCK_FILE).exists() {
        // Taking and releasing the lock says who holds it (or clears a dead process's lock).
        drop(super::run_lock::RunLock::acquire(dir)?);
    }
    if dir.join(CHECKPOINTS_DIR).exists() || dir.join(METRICS_FILE).exists() {
        return Err(TrainError::Conflict(format!(
            "{} already holds a run: continue it with --resume {}, or choose another --out",
            dir.display(),
            dir.display()
        )));
    }
    Ok(())
}

/// The run directory and the checkpoint to resume from, given a run directory or a checkpoint
/// directory inside one.
pub fn locate_checkpoint(path: &Path) -> Result<(PathBuf, PathBuf), TrainError> {
    let fail = |reason: String| TrainError::Resume {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_dir() {
        return Err(fail("no such directory".into()));
    }
    if path.join(SIDECAR_FILE).is_file() {
        let run = path
            .parent()
            .filter(|p| p.file_name().is_some_and(|n| n == CHECKPOINTS_DIR))
            .and_then(Path::parent)
            .unwrap_or(path);
        return Ok((run.to_path_buf(), path.to_path_buf()));
    }
    match latest(&path.join(CHECKPOINTS_DIR))? {
        Some(ckpt) => Ok((path.to_path_buf(), ckpt)),
        None => Err(fail(format!(
            "it holds no complete checkpoint (looked for {}/step-*/{SIDECAR_FILE})",
            path.join(CHECKPOINTS_DIR).display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_skip_existing_directories() {
        let root = tempfile::tempdir().unwrap();
        let first = default_run_dir(root.path(), "mlp", "mnist-sample");
        assert_eq!(first, root.path().join("mlp-mnist-sample"));
        std::fs::create_dir_all(&first).unwrap();
        std::fs::create_dir_all(root.path().join("mlp-mnist-sample-2")).unwrap();
        assert_eq!(
            default_run_dir(root.path(), "mlp", "mnist-sample"),
            root.path().join("mlp-mnist-sample-3")
        );
    }

    #[test]
    fn resume_needs_a_checkpoint() {
        let root = tempfile::tempdir().unwrap();
        let err = locate_checkpoint(root.path()).unwrap_err().to_string();
        assert!(err.contains("no complete checkpoint"), "{err}");
        let err = locate_checkpoint(&root.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no such directory"), "{err}");
        std::fs::write(root.path().join(METRICS_FILE), "").unwrap();
        assert!(check_fresh(root.path()).is_err());
    }
}
