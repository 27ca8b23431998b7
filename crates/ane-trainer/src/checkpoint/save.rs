//! Writing a checkpoint: encode the tensors, write each file atomically into a staging
//! directory, the sidecar last, then move the staging directory to its final name.

use super::atomic::{parent_of, remove_own_dir, rename_durable, write_file_atomic};
use super::sidecar::{CheckpointMeta, FileRecord, OptimizerRecord, ParamRecord};
use super::tensors::{encode_f32, F32Tensor};
use super::{
    CheckpointError, RunState, FORMAT_NAME, FORMAT_VERSION, MODEL_FILE, OPTIMIZER_FILE,
    SIDECAR_FILE,
};
use crate::optim::{OptimError, Optimizer};
use crate::params::ParamStore;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The files a checkpoint directory may contain (cleanup removes only these).
pub(crate) const CHECKPOINT_FILES: &[&str] = &[MODEL_FILE, OPTIMIZER_FILE, SIDECAR_FILE];

/// Called with each file name just before that file is written; an error aborts the save.
/// Used to inject failures in tests (and could report progress).
pub type WriteHook<'a> = &'a mut dyn FnMut(&str) -> std::io::Result<()>;

/// Saves a checkpoint into the new directory `dir` (created with its parents). Fails with
/// [`CheckpointError::AlreadyExists`] if `dir` holds a checkpoint and
/// [`CheckpointError::DirectoryNotEmpty`] if it holds anything else.
pub fn save(
    dir: &Path,
    params: &ParamStore,
    optimizer: &dyn Optimizer,
    run: &RunState,
) -> Result<(), CheckpointError> {
    save_with_hook(dir, params, optimizer, run, &mut |_| Ok(()))
}

/// [`save`] with a hook called before each file is written.
pub fn save_with_hook(
    dir: &Path,
    params: &ParamStore,
    optimizer: &dyn Optimizer,
    run: &RunState,
    hook: WriteHook<'_>,
) -> Result<(), CheckpointError> {
    check_target_free(dir)?;
    let staging = staging_dir(dir)?;
    write_staged(&staging, params, optimizer, run, hook)?;
    if dir.exists() {
        // Checked empty above; POSIX rename cannot replace a directory in every case, so
        // remove the empty one first.
        std::fs::remove_dir(dir).map_err(|source| CheckpointError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    rename_durable(&staging, dir)
}

/// Fails unless `dir` is absent or an empty directory.
fn check_target_free(dir: &Path) -> Result<(), CheckpointError> {
    if dir.join(SIDECAR_FILE).exists() {
        return Err(CheckpointError::AlreadyExists {
            path: dir.to_path_buf(),
        });
    }
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(CheckpointError::DirectoryNotEmpty {
                path: dir.to_path_buf(),
            }),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(CheckpointError::Io {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// The staging sibling of `dir`: `<dir>.partial`.
pub(crate) fn staging_dir(dir: &Path) -> Result<PathBuf, CheckpointError> {
    let name = dir
        .file_name()
        .filter(|n| *n != "." && *n != "..")
        .ok_or_else(|| CheckpointError::BadPath {
            path: dir.to_path_buf(),
        })?;
    let mut staged = name.to_os_string();
    staged.push(".partial");
    Ok(parent_of(dir).join(staged))
}

/// Writes a complete checkpoint into `staging` (replacing leftovers of an interrupted save):
/// model, optimizer, then the sidecar.
pub(crate) fn write_staged(
    staging: &Path,
    params: &ParamStore,
    optimizer: &dyn Optimizer,
    run: &RunState,
    hook: WriteHook<'_>,
) -> Result<(), CheckpointError> {
    remove_own_dir(staging, CHECKPOINT_FILES)?;
    std::fs::create_dir_all(staging).map_err(|source| CheckpointError::Io {
        path: staging.to_path_buf(),
        source,
    })?;
    let hooked = |hook: &mut dyn FnMut(&str) -> std::io::Result<()>, name: &str| {
        hook(name).map_err(|source| CheckpointError::Io {
            path: staging.join(name),
            source,
        })
    };
    let mut files = BTreeMap::new();

    let model = encode_f32(&staging.join(MODEL_FILE), model_tensors(params))?;
    hooked(hook, MODEL_FILE)?;
    write_file_atomic(staging, MODEL_FILE, &model)?;
    files.insert(MODEL_FILE.to_string(), FileRecord::of(&model));
    drop(model);

    let buffers = optimizer.state_buffers();
    if !buffers.is_empty() && buffers.len() != params.len() {
        return Err(OptimError::StateMismatch(format!(
            "optimizer holds state for {} parameters, the model has {}",
            buffers.len(),
            params.len()
        ))
        .into());
    }
    drop(buffers);
    let state = encode_f32(
        &staging.join(OPTIMIZER_FILE),
        optimizer_tensors(params, optimizer),
    )?;
    hooked(hook, OPTIMIZER_FILE)?;
    write_file_atomic(staging, OPTIMIZER_FILE, &state)?;
    files.insert(OPTIMIZER_FILE.to_string(), FileRecord::of(&state));
    drop(state);

    let meta = CheckpointMeta {
        format: FORMAT_NAME.to_string(),
        version: FORMAT_VERSION,
        created_by: format!("ane-trainer {}", env!("CARGO_PKG_VERSION")),
        step: run.step,
        config: run.config.clone(),
        data_cursor: run.data_cursor.clone(),
        rng: run.rng.clone(),
        loss_scaler: run.loss_scaler,
        optimizer: OptimizerRecord::new(
            &optimizer.config(),
            optimizer.step_count(),
            optimizer.state_slots(),
        ),
        params: params
            .params()
            .iter()
            .map(|p| ParamRecord {
                name: p.name().to_string(),
                shape: p.shape().to_vec(),
                weight_decay: p.weight_decay(),
            })
            .collect(),
        files,
    };
    let mut json = serde_json::to_vec_pretty(&meta).expect("sidecar serializes");
    json.push(b'\n');
    hooked(hook, SIDECAR_FILE)?;
    write_file_atomic(staging, SIDECAR_FILE, &json)
}

pub(super) fn model_tensors(params: &ParamStore) -> Vec<(String, F32Tensor<'_>)> {
    params
        .params()
        .iter()
        .map(|p| {
            let tensor = F32Tensor {
                shape: p.shape().to_vec(),
                data: p.master(),
            };
            (p.name().to_string(), tensor)
        })
        .collect()
}

fn optimizer_tensors<'a>(
    params: &'a ParamStore,
    optimizer: &'a dyn Optimizer,
) -> Vec<(String, F32Tensor<'a>)> {
    let slots = optimizer.state_slots();
    let mut tensors = Vec::new();
    for (param, buffers) in params.params().iter().zip(optimizer.state_buffers()) {
        for (slot, data) in slots.iter().zip(buffers) {
            let tensor = F32Tensor {
                shape: param.shape().to_vec(),
                data,
            };
            tensors.push((format!("{}.{slot}", param.name()), tensor));
        }
    }
    tensors
}
