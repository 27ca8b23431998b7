//! Reading a checkpoint back: open and check the sidecar, then restore parameters and optimizer
//! state after validating every file against it and against the model.

use super::sidecar::CheckpointMeta;
use super::tensors::{parse, read_exact_f32};
use super::{CheckpointError, RunState, MODEL_FILE, OPTIMIZER_FILE, SIDECAR_FILE};
use crate::optim::Optimizer;
use crate::params::ParamStore;
use std::path::{Path, PathBuf};

/// An opened checkpoint: its directory and validated sidecar.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    dir: PathBuf,
    meta: CheckpointMeta,
}

impl Checkpoint {
    /// Opens the checkpoint in `dir`: reads and checks `checkpoint.json` (JSON, format name,
    /// version, both data files recorded). Data files are checked by the `restore` methods.
    pub fn open(dir: &Path) -> Result<Self, CheckpointError> {
        if !dir.is_dir() {
            return Err(CheckpointError::NotACheckpoint {
                path: dir.to_path_buf(),
                reason: "no such directory".into(),
            });
        }
        let sidecar = dir.join(SIDECAR_FILE);
        let text = match std::fs::read_to_string(&sidecar) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let has_data = dir.join(MODEL_FILE).exists() || dir.join(OPTIMIZER_FILE).exists();
                return Err(if has_data {
                    CheckpointError::Incomplete {
                        path: dir.to_path_buf(),
                    }
                } else {
                    CheckpointError::NotACheckpoint {
                        path: dir.to_path_buf(),
                        reason: format!("no {SIDECAR_FILE}"),
                    }
                });
            }
            Err(source) => {
                return Err(CheckpointError::Io {
                    path: sidecar,
                    source,
                })
            }
        };
        let meta = CheckpointMeta::parse(&sidecar, &text)?;
        for file in [MODEL_FILE, OPTIMIZER_FILE] {
            if !meta.files.contains_key(file) {
                return Err(CheckpointError::BadSidecar {
                    path: sidecar,
                    reason: format!("no record of {file} in `files`"),
                });
            }
        }
        Ok(Checkpoint {
            dir: dir.to_path_buf(),
            meta,
        })
    }

    /// The checkpoint's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The sidecar (config, step, optimizer record, parameter list, …).
    pub fn meta(&self) -> &CheckpointMeta {
        &self.meta
    }

    /// The trainer's saved state: step, config, data cursor, RNG states, loss scaler.
    pub fn run_state(&self) -> RunState {
        RunState {
            step: self.meta.step,
            config: self.meta.config.clone(),
            data_cursor: self.meta.data_cursor.clone(),
            rng: self.meta.rng.clone(),
            loss_scaler: self.meta.loss_scaler,
        }
    }

    /// Loads the master weights (and fp16 copies) into `params`, whose names and shapes must
    /// match the checkpoint's. Gradients are zeroed. On error `params` is unchanged.
    pub fn restore_params(&self, params: &mut ParamStore) -> Result<(), CheckpointError> {
        let weights = self.read_weights(params)?;
        commit_weights(params, weights)
    }

    /// Loads the master weights and the optimizer state. The optimizer must be of the same kind
    /// (and, for SGD, with or without momentum alike) as the one saved; its hyper-parameters may
    /// differ (they come from the caller). On error nothing is changed.
    pub fn restore(
        &self,
        params: &mut ParamStore,
        optimizer: &mut dyn Optimizer,
    ) -> Result<(), CheckpointError> {
        let record = &self.meta.optimizer;
        if record.name != optimizer.name() {
            return Err(CheckpointError::OptimizerMismatch(format!(
                "the checkpoint was saved with {}, the run uses {}",
                record.name,
                optimizer.name()
            )));
        }
        let slots = optimizer.state_slots();
        if record.slots != slots {
            return Err(CheckpointError::OptimizerMismatch(format!(
                "the checkpoint stores state {:?}, the optimizer keeps {:?} (e.g. momentum turned on or off)",
                record.slots, slots
            )));
        }
        let weights = self.read_weights(params)?;

        let path = self.dir.join(OPTIMIZER_FILE);
        let bytes = self.read_recorded(OPTIMIZER_FILE)?;
        let st = parse(&path, &bytes)?;
        let buffers = if st.is_empty() {
            Vec::new()
        } else {
            let expected: Vec<(String, Vec<usize>)> = params
                .params()
                .iter()
                .flat_map(|p| {
                    slots
                        .iter()
                        .map(move |s| (format!("{}.{s}", p.name()), p.shape().to_vec()))
                })
                .collect();
            let mut flat = read_exact_f32(&path, &st, &expected)?.into_iter();
            params
                .params()
                .iter()
                .map(|_| flat.by_ref().take(slots.len()).collect())
                .collect()
        };
        optimizer.load_state(params, record.step, buffers)?;
        commit_weights(params, weights)
    }

    /// Reads and validates `model.safetensors` against the sidecar and `params`.
    fn read_weights(&self, params: &ParamStore) -> Result<Vec<Vec<f32>>, CheckpointError> {
        self.check_param_list(params)?;
        let path = self.dir.join(MODEL_FILE);
        let bytes = self.read_recorded(MODEL_FILE)?;
        let st = parse(&path, &bytes)?;
        let expected: Vec<(String, Vec<usize>)> = params
            .params()
            .iter()
            .map(|p| (p.name().to_string(), p.shape().to_vec()))
            .collect();
        read_exact_f32(&path, &st, &expected)
    }

    /// Compares the sidecar's parameter list with the model's, naming the first difference.
    fn check_param_list(&self, params: &ParamStore) -> Result<(), CheckpointError> {
        let saved = &self.meta.params;
        for p in params.params() {
            match saved.iter().find(|r| r.name == p.name()) {
                None => {
                    return Err(CheckpointError::ParamMismatch(format!(
                        "the model has `{}` {:?}, the checkpoint does not",
                        p.name(),
                        p.shape()
                    )))
                }
                Some(r) if r.shape != p.shape() => {
                    return Err(CheckpointError::ParamMismatch(format!(
                        "`{}` is {:?} in the checkpoint but {:?} in the model",
                        p.name(),
                        r.shape,
                        p.shape()
                    )))
                }
                Some(_) => {}
            }
        }
        if let Some(extra) = saved.iter().find(|r| params.get(&r.name).is_none()) {
            return Err(CheckpointError::ParamMismatch(format!(
                "the checkpoint has `{}` {:?}, the model does not",
                extra.name, extra.shape
            )));
        }
        Ok(())
    }

    /// Reads a data file and checks it against its size and hash in the sidecar.
    fn read_recorded(&self, name: &str) -> Result<Vec<u8>, CheckpointError> {
        let path = self.dir.join(name);
        let bytes = std::fs::read(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                CheckpointError::MissingFile { path: path.clone() }
            } else {
                CheckpointError::Io {
                    path: path.clone(),
                    source,
                }
            }
        })?;
        self.meta.files[name].verify(&path, &bytes)?;
        Ok(bytes)
    }
}

/// Writes validated weights (one per parameter, store order) into `params`.
fn commit_weights(params: &mut ParamStore, weights: Vec<Vec<f32>>) -> Result<(), CheckpointError> {
    for (p, w) in params.params_mut().iter_mut().zip(weights) {
        p.set_master(&w)?;
    }
    params.zero_grads();
    Ok(())
}
