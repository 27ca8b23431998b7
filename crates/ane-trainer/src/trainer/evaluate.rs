//! Evaluation over a whole split with a compiled evaluation plan, shared by the training loop
//! (periodic and final evaluation) and `ane-trainer eval`.

use super::config::TrainConfig;
use super::error::TrainError;
use super::run_dir::locate_checkpoint;
use super::setup;
use crate::checkpoint::Checkpoint;
use crate::data::{Batch, EvalBatches, ImageSplit, PixelMap};
use crate::executor::{Devices, EvalExecutor, EvalResult};
use crate::params::ParamStore;
use ane_compiler::abi::HostValue;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Runs `evaluator` over every example of `split` in order (the last batch padded with zeros,
/// its padding rows ignored).
pub fn evaluate_split(
    evaluator: &mut EvalExecutor,
    devices: &mut Devices,
    params: &ParamStore,
    split: &ImageSplit,
    map: &PixelMap,
) -> Result<EvalResult, TrainError> {
    let batch_size = evaluator.batch_size();
    let mut batches = EvalBatches::new(split, batch_size, map.clone())?;
    let mut batch: Batch<i32> = Batch::for_split(batch_size, split);
    let mut result = EvalResult::default();
    while batches.next_into(&mut batch)?.is_some() {
        evaluator.run_batch(
            devices,
            params,
            HostValue::F32(batch.images_padded()),
            batch.labels(),
            &mut result,
        )?;
    }
    Ok(result)
}

/// What `ane-trainer eval` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckpointEval {
    /// The checkpoint evaluated.
    pub checkpoint: PathBuf,
    /// The update it was taken at.
    pub step: u64,
    /// The dataset.
    pub dataset: String,
    /// Accuracy on the test split.
    pub accuracy: f64,
    /// Correct test examples.
    pub correct: usize,
    /// Test examples.
    pub examples: usize,
    /// Mean test cross-entropy.
    pub loss: f64,
    /// `sim` or `ane`.
    pub device: String,
}

/// Where `eval` runs and with which batch size (`None`: the run's own settings).
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    /// Overrides the run's `--device`.
    pub device: Option<crate::executor::DeviceChoice>,
    /// Overrides the run's evaluation batch size.
    pub batch_size: Option<usize>,
    /// Overrides where the dataset is read from.
    pub data_dir: Option<PathBuf>,
    /// Print where kernels run on stderr.
    pub verbose: bool,
}

/// Evaluates the checkpoint at `path` (a checkpoint directory, or a run directory whose newest
/// checkpoint is used) on its dataset's test split, rebuilding the model from the configuration
/// stored in its sidecar.
pub fn evaluate_checkpoint(
    path: &Path,
    options: &EvalOptions,
) -> Result<CheckpointEval, TrainError> {
    let (_, dir) = locate_checkpoint(path)?;
    let checkpoint = Checkpoint::open(&dir)?;
    let mut config: TrainConfig = serde_json::from_value(checkpoint.meta().config.clone())
        .map_err(|e| TrainError::Resume {
            path: dir.clone(),
            reason: format!("its sidecar holds no ane-trainer training configuration ({e})"),
        })?;
    if let Some(device) = options.device {
        config.device = device;
    }
    if let Some(b) = options.batch_size {
        config.eval_batch_size = b;
    }
    if options.data_dir.is_some() {
        config.data_dir = options.data_dir.clone();
    }
    let dataset = setup::load_data(&config)?;
    let (preset, model) = setup::build_model(&config)?;
    setup::check_fits(&preset, &model, &dataset)?;
    let mut params = model.init_params(config.seed)?;
    checkpoint.restore_params(&mut params)?;
    let mut devices = setup::open_devices(&config)?;
    if options.verbose {
        eprintln!("{}", devices.note());
    }
    let plan_options = setup::plan_options(&config, &devices)?;
    let mut evaluator = EvalExecutor::new(
        &model,
        config.eval_batch_size,
        &plan_options,
        &mut devices,
        &params,
    )?;
    let map = PixelMap::new(config.normalize, dataset.stats());
    let result = evaluate_split(&mut evaluator, &mut devices, &params, dataset.test(), &map)?;
    Ok(CheckpointEval {
        checkpoint: dir,
        step: checkpoint.meta().step,
        dataset: config.dataset,
        accuracy: result.accuracy(),
        correct: result.correct,
        examples: result.examples,
        loss: result.mean_loss(),
        device: devices.name().to_string(),
    })
}
