//! The [`Trainer`]: any [`Model`] with a loss and a [`TrainerConfig`], fitted on in-memory
//! [`Arrays`] — devices, plans, compiles, fp16 loss scaling, the optimizer and the schedule
//! wired once, so a user's program is "define, fit, evaluate, save".

use super::arrays::Arrays;
use super::config::TrainerConfig;
use super::observer::{EpochEvent, Event, History, Observer, StepEvent};
use crate::checkpoint::{load_init_weights, save_weights, InitReport};
use crate::executor::{
    eval_graph, Devices, EvalExecutor, EvalResult, MicroBatch, TrainingExecutor, UpdateRule,
};
use crate::nn::{InputSpec, Loss, Model};
use crate::optim::{LossScaler, LossScalerConfig, LrSchedule};
use crate::params::ParamStore;
use crate::trainer::TrainError;
use ane_compiler::abi::HostValue;
use ane_compiler::lower::Precision;
use ane_compiler::plan::PlanOptions;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The file [`Trainer::save`] writes the weights to.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// How one call of [`Trainer::fit`] runs.
#[derive(Debug, Clone, Default)]
pub struct FitOptions<'a> {
    /// Passes over the training data (at least 1).
    pub epochs: u64,
    /// Evaluated at the end of every epoch, when given.
    pub validation: Option<&'a Arrays>,
    /// When this flag becomes true (a Ctrl-C handler sets it), the fit stops after the current
    /// update and returns what it did, with [`History::interrupted`] set.
    pub interrupt: Option<Arc<AtomicBool>>,
}

/// A model being trained (see the module docs).
pub struct Trainer {
    model: Model,
    loss: Loss,
    config: TrainerConfig,
    devices: Devices,
    plan_options: PlanOptions,
    params: ParamStore,
    rule: UpdateRule,
    train: Option<TrainingExecutor>,
    eval: Option<EvalExecutor>,
    classes: usize,
    step: u64,
    micro_batches: u64,
}

impl std::fmt::Debug for Trainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("config", &self.config)
            .field("devices", &self.devices)
            .field("step", &self.step)
            .finish()
    }
}

impl Trainer {
    /// A trainer for `model` with `loss`: opens the devices, initializes the parameters from the
    /// seed, and builds the optimizer. Nothing is compiled until the first fit or evaluation.
    pub fn new(model: Model, loss: Loss, config: TrainerConfig) -> Result<Trainer, TrainError> {
        config.check()?;
        if loss != Loss::CrossEntropy {
            return Err(TrainError::Setting {
                key: "loss".into(),
                value: loss.name().into(),
                reason: "the Trainer fits classifiers with cross_entropy for now".into(),
            });
        }
        if let InputSpec::Tokens { .. } = model.input_spec() {
            return Err(TrainError::Setting {
                key: "model".into(),
                value: "a token model".into(),
                reason: "the Trainer fits models of f32 inputs; token models train through the \
                         executor (see the llama tests)"
                    .into(),
            });
        }
        // The logits' width: labels must be below it.
        let graph = eval_graph(&model, 1)?;
        let classes = graph
            .logits
            .as_deref()
            .and_then(|name| graph.graph.output_value(name).ok())
            .and_then(|v| graph.graph.shape(v).ok())
            .and_then(|s| s.dims().last().copied())
            .unwrap_or(1);
        let devices = Devices::open(config.device, None)?;
        let plan_options = PlanOptions::new(devices.chip().unwrap_or(config.chip))
            .with_precision(config.precision)
            .with_dw(config.dw);
        let params = model.init_params(config.seed)?;
        let rule = new_rule(&config)?;
        Ok(Trainer {
            model,
            loss,
            config,
            devices,
            plan_options,
            params,
            rule,
            train: None,
            eval: None,
            classes,
            step: 0,
            micro_batches: 0,
        })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The settings.
    pub fn config(&self) -> &TrainerConfig {
        &self.config
    }

    /// The parameters (fp32 master weights).
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// Replaces every parameter's values (same names and shapes; see [`Model::check_params`]).
    pub fn set_params(&mut self, params: ParamStore) -> Result<(), TrainError> {
        self.model.check_params(&params)?;
        self.params = params;
        Ok(())
    }

    /// Updates applied over the trainer's life.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The number of classes the model outputs.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// One line saying where the ANE kernels run.
    pub fn device_note(&self) -> &str {
        self.devices.note()
    }

    /// `sim` or `ane`.
    pub fn device_name(&self) -> &'static str {
        self.devices.name()
    }

    /// Trains for `options.epochs` passes over `data` (shuffled per epoch from the seed; the
    /// last partial batch of an epoch is dropped), evaluating `options.validation` after each
    /// epoch. The learning rate follows the schedule over this fit's updates.
    pub fn fit(
        &mut self,
        data: &Arrays,
        options: &FitOptions<'_>,
        observer: &mut dyn Observer,
    ) -> Result<History, TrainError> {
        self.check_data(data, "training data")?;
        if let Some(v) = options.validation {
            self.check_data(v, "validation data")?;
        }
        if options.epochs == 0 {
            return Err(setting("epochs", "0", "must be at least 1"));
        }
        let batch = self.config.batch_size;
        let per_epoch = data.len() / batch;
        if per_epoch == 0 {
            return Err(setting(
                "batch_size",
                &batch.to_string(),
                &format!(
                    "the training data has {} examples, fewer than one batch",
                    data.len()
                ),
            ));
        }
        self.compile_training(observer)?;
        let accum = u64::from(self.config.accum);
        let updates_per_epoch = (per_epoch as u64 / accum).max(1);
        let total = updates_per_epoch * options.epochs;
        let schedule = LrSchedule::new(self.config.schedule.clone(), self.config.lr, total)?;
        let features = data.features();
        let mut x = vec![0.0f32; batch * features];
        let mut y = vec![0i32; batch];
        let mut history = History::default();
        let started = Instant::now();
        let mut samples = 0u64;
        let mut update_in_fit = 0u64;
        for epoch in 0..options.epochs {
            let order = data.epoch_order(self.config.seed, self.step / updates_per_epoch + epoch);
            let mut batches = order.chunks_exact(batch);
            let mut epoch_loss = 0.0;
            for _ in 0..updates_per_epoch {
                let mut loss_sum = 0.0f64;
                for _ in 0..accum {
                    let indices = batches.next().expect("updates_per_epoch × accum batches");
                    data.gather(indices, &mut x, &mut y);
                    loss_sum += f64::from(self.micro_batch(&x, &y)?);
                }
                let loss = loss_sum / accum as f64;
                let lr = schedule.lr(update_in_fit);
                let outcome = self.rule.apply(&mut self.params, lr)?;
                self.step += 1;
                update_in_fit += 1;
                self.rule.check_divergence(
                    self.config.precision,
                    self.step,
                    loss,
                    "lower the learning rate, clip gradients, or normalize the inputs",
                )?;
                samples += (batch as u64) * accum;
                epoch_loss += loss;
                let event = StepEvent {
                    step: self.step,
                    epoch,
                    total_steps: total,
                    loss,
                    lr,
                    loss_scale: outcome.loss_scale,
                    applied: outcome.applied,
                    samples_per_sec: samples as f64 / started.elapsed().as_secs_f64().max(1e-9),
                };
                history.steps.push(event);
                observer.on_event(&Event::Step(event));
                let stop = options
                    .interrupt
                    .as_ref()
                    .is_some_and(|f| f.load(Ordering::SeqCst));
                if stop && update_in_fit < total {
                    history.interrupted = true;
                    return Ok(history);
                }
            }
            let val = match options.validation {
                Some(v) => Some(self.evaluate(v)?),
                None => None,
            };
            let event = EpochEvent {
                epoch,
                loss: epoch_loss / updates_per_epoch as f64,
                val_accuracy: val.as_ref().map(EvalResult::accuracy),
                val_loss: val.as_ref().map(EvalResult::mean_loss),
            };
            history.epochs.push(event);
            observer.on_event(&Event::Epoch(event));
        }
        Ok(history)
    }

    /// Accuracy and mean cross-entropy on `data` (every example: the last batch is padded).
    pub fn evaluate(&mut self, data: &Arrays) -> Result<EvalResult, TrainError> {
        self.check_data(data, "evaluation data")?;
        self.compile_eval()?;
        let eval = self.eval.as_mut().expect("compiled above");
        let batch = eval.batch_size();
        let features = data.features();
        let mut x = vec![0.0f32; batch * features];
        let mut y = vec![0i32; batch];
        let mut result = EvalResult::default();
        let indices: Vec<usize> = (0..data.len()).collect();
        for chunk in indices.chunks(batch) {
            data.gather(chunk, &mut x, &mut y);
            eval.run_batch(
                &mut self.devices,
                &self.params,
                HostValue::F32(&x),
                &y[..chunk.len()],
                &mut result,
            )?;
        }
        Ok(result)
    }

    /// The logits of `rows` examples of `x` (row-major, the model's input shape per example):
    /// `rows × classes` values.
    pub fn predict(&mut self, x: &[f32], rows: usize) -> Result<Vec<f32>, TrainError> {
        let features = self.input_features();
        if rows == 0 || x.len() != rows * features {
            return Err(setting(
                "x",
                &format!("{} values for {rows} rows", x.len()),
                &format!("each example must hold {features} values and there must be at least one"),
            ));
        }
        self.compile_eval()?;
        let eval = self.eval.as_mut().expect("compiled above");
        let batch = eval.batch_size();
        let mut padded = vec![0.0f32; batch * features];
        let mut out = Vec::with_capacity(rows * self.classes);
        for start in (0..rows).step_by(batch) {
            let n = batch.min(rows - start);
            padded.fill(0.0);
            padded[..n * features].copy_from_slice(&x[start * features..(start + n) * features]);
            eval.logits_into(
                &mut self.devices,
                &self.params,
                HostValue::F32(&padded),
                n,
                &mut out,
            )?;
        }
        Ok(out)
    }

    /// Writes the weights to `DIR/model.safetensors` (atomically, PyTorch's names and layouts)
    /// and returns the file's path.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, TrainError> {
        std::fs::create_dir_all(dir).map_err(|source| TrainError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(WEIGHTS_FILE);
        save_weights(&self.params, &path)?;
        Ok(path)
    }

    /// Loads weights saved by [`Trainer::save`] (a file or its directory), a checkpoint, or any
    /// safetensors file with the model's names and shapes; every parameter must be present.
    pub fn load_weights(&mut self, path: &Path) -> Result<InitReport, TrainError> {
        Ok(load_init_weights(path, &mut self.params, false)?)
    }

    /// The values one example of input holds.
    pub fn input_features(&self) -> usize {
        self.model.input_spec().batch_shape(1).iter().product()
    }

    fn micro_batch(&mut self, x: &[f32], y: &[i32]) -> Result<f32, TrainError> {
        let exec = self
            .train
            .as_mut()
            .expect("compiled before the first micro-batch");
        let micro = self.micro_batches;
        self.micro_batches += 1;
        let batch = MicroBatch {
            inputs: HostValue::F32(x),
            targets: y,
            // Dropout masks are a pure function of (seed, micro-batch): reproducible fits.
            dropout: [self.config.seed as i32, micro as i32],
        };
        Ok(exec.run_micro_batch(
            &mut self.devices,
            &mut self.params,
            &batch,
            self.rule.loss_scale(),
        )?)
    }

    fn compile_training(&mut self, observer: &mut dyn Observer) -> Result<(), TrainError> {
        if self.train.is_some() {
            return Ok(());
        }
        observer.on_event(&Event::Info(self.devices.note().to_string()));
        let start = Instant::now();
        let exec = TrainingExecutor::new(
            &self.model,
            self.config.batch_size,
            self.loss,
            &self.plan_options,
            &mut self.devices,
            &self.params,
        )?;
        let plan = exec.summary();
        observer.on_event(&Event::Info(format!(
            "compiled the training step in {:.2} s: {} dispatches per micro-batch ({} ANE, {} host)",
            start.elapsed().as_secs_f64(),
            plan.dispatches(),
            plan.ane_dispatches,
            plan.host_dispatches
        )));
        self.train = Some(exec);
        Ok(())
    }

    fn compile_eval(&mut self) -> Result<(), TrainError> {
        if self.eval.is_none() {
            self.eval = Some(EvalExecutor::new(
                &self.model,
                self.config.batch_size,
                &self.plan_options,
                &mut self.devices,
                &self.params,
            )?);
        }
        Ok(())
    }

    fn check_data(&self, data: &Arrays, what: &str) -> Result<(), TrainError> {
        let features = self.input_features();
        if data.features() != features {
            return Err(setting(
                what,
                &format!("examples of shape {:?}", data.example_shape()),
                &format!("the model reads {features} values per example"),
            ));
        }
        if let Some(&bad) = data
            .y()
            .iter()
            .find(|&&l| l < 0 || l as usize >= self.classes)
        {
            return Err(setting(
                what,
                &format!("label {bad}"),
                &format!(
                    "labels must be in 0..{} (the model's outputs)",
                    self.classes
                ),
            ));
        }
        Ok(())
    }
}

fn new_rule(config: &TrainerConfig) -> Result<UpdateRule, TrainError> {
    let scaler_config = match config.precision {
        Precision::Fp32 => LossScalerConfig::fixed(1.0),
        Precision::Fp16 => config.loss_scale.clone(),
    };
    Ok(UpdateRule::new(
        config.optimizer.build()?,
        LossScaler::new(scaler_config)?,
        config.clip,
        config.accum,
    ))
}

fn setting(key: &str, value: &str, reason: &str) -> TrainError {
    TrainError::Setting {
        key: key.into(),
        value: value.into(),
        reason: reason.into(),
    }
}
