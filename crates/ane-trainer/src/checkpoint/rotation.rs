//! Numbered checkpoints under one root: `step-00001234` directories, replaced atomically,
//! pruned to the newest N, and found again by [`latest`].

use super::atomic::{remove_own_dir, rename_durable};
use super::save::{staging_dir, write_staged, CHECKPOINT_FILES};
use super::{CheckpointError, RunState, SIDECAR_FILE};
use crate::optim::Optimizer;
use crate::params::ParamStore;
use std::path::{Path, PathBuf};

/// The directory name of the checkpoint at `step`: `step-` and at least eight digits.
pub fn step_dir_name(step: u64) -> String {
    format!("step-{step:08}")
}

/// The step of a directory named by [`step_dir_name`], or `None` for any other name.
fn parse_step_dir_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("step-")?;
    if digits.len() < 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Saves the checkpoint of `run.step` as `root/step-NNNNNNNN` and returns its path. An existing
/// checkpoint of the same step is replaced (the old one is moved aside and deleted only after
/// the new one is in place). With `keep_last = Some(n)`, only the `n` newest complete
/// checkpoints under `root` are kept (n ≥ 1).
pub fn save_step(
    root: &Path,
    params: &ParamStore,
    optimizer: &dyn Optimizer,
    run: &RunState,
    keep_last: Option<usize>,
) -> Result<PathBuf, CheckpointError> {
    save_step_with_hook(root, params, optimizer, run, keep_last, &mut |_| Ok(()))
}

/// [`save_step`] with a hook called before each file is written (see
/// [`save_with_hook`](super::save_with_hook)).
pub(crate) fn save_step_with_hook(
    root: &Path,
    params: &ParamStore,
    optimizer: &dyn Optimizer,
    run: &RunState,
    keep_last: Option<usize>,
    hook: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<PathBuf, CheckpointError> {
    let target = root.join(step_dir_name(run.step));
    let staging = staging_dir(&target)?;
    write_staged(&staging, params, optimizer, run, hook)?;
    if target.exists() {
        let mut aside = staging.clone();
        aside.set_extension("replaced");
        remove_own_dir(&aside, CHECKPOINT_FILES)?;
        rename_durable(&target, &aside)?;
        rename_durable(&staging, &target)?;
        remove_own_dir(&aside, CHECKPOINT_FILES)?;
    } else {
        rename_durable(&staging, &target)?;
    }
    if let Some(keep) = keep_last {
        prune(root, keep.max(1))?;
    }
    Ok(target)
}

/// The complete checkpoints under `root`, oldest first.
fn complete_checkpoints(root: &Path) -> Result<Vec<(u64, PathBuf)>, CheckpointError> {
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(CheckpointError::Io {
                path: root.to_path_buf(),
                source,
            })
        }
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| CheckpointError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        let name = entry.file_name();
        let Some(step) = name.to_str().and_then(parse_step_dir_name) else {
            continue;
        };
        if entry.path().join(SIDECAR_FILE).is_file() {
            found.push((step, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// The newest complete checkpoint under `root` (highest step with a sidecar), if any.
/// Interrupted saves (`*.partial`) and unrelated entries are ignored.
pub fn latest(root: &Path) -> Result<Option<PathBuf>, CheckpointError> {
    Ok(complete_checkpoints(root)?.pop().map(|(_, path)| path))
}

/// Deletes all but the `keep` newest complete checkpoints.
fn prune(root: &Path, keep: usize) -> Result<(), CheckpointError> {
    let all = complete_checkpoints(root)?;
    let excess = all.len().saturating_sub(keep);
    for (_, dir) in &all[..excess] {
        remove_own_dir(dir, CHECKPOINT_FILES)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_parse_back() {
        assert_eq!(step_dir_name(42), "step-00000042");
        assert_eq!(parse_step_dir_name("step-00000042"), Some(42));
        assert_eq!(parse_step_dir_name("step-123456789"), Some(123_456_789));
        for bad in [
            "step-42",
            "step-0000004x",
            "step-00000042.partial",
            "x-00000042",
        ] {
            assert_eq!(parse_step_dir_name(bad), None, "{bad}");
        }
    }
}
