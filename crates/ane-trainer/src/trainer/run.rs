//! The training loop: set a run up (or pick one up from its newest checkpoint), then for every
//! update run `accum` micro-batches, apply the update, log it, and evaluate and checkpoint when
//! due; finish with an evaluation on the test split, a final checkpoint and a summary.
//!
//! **Bit-exact resume.** Everything a step depends on is either in the checkpoint (fp32 master
//! weights, optimizer state, loss scaler, data cursor, step) or a pure function of the
//! configuration and the step (data order: the seed and the epoch; dropout masks: the seed and the
//! micro-batch number; the learning rate: the schedule and the step). So N updates, a stop, and M
//! more give the same losses and weights as N+M updates in one run. `--stop-after` ends an
//! invocation early on purpose (as an interruption would) without changing the run's length, so
//! schedules that depend on it (cosine) continue exactly too.

use super::config::{TrainConfig, TrainSettings};
use super::error::TrainError;
use super::evaluate::evaluate_split;
use super::progress::{RunObserver, StepStatus};
use super::run_dir::{
    check_fresh, default_run_dir, locate_checkpoint, CHECKPOINTS_DIR, CONFIG_FILE, METRICS_FILE,
};
use super::run_lock::RunLock;
use super::setup;
use super::summary::TrainSummary;
use crate::checkpoint::{load_init_weights, save_step, Checkpoint, RunState};
use crate::data::{Batch, BatchCursor, ImageDataset, LastBatch, PixelMap, ShuffledBatches};
use crate::executor::{EvalExecutor, EvalResult, MicroBatch, Phase, TrainingExecutor, UpdateRule};
use crate::metrics::{Ema, MetricsRecord, MetricsWriter, RateWindow};
use crate::optim::{LossScaler, LossScalerConfig, LrSchedule};
use crate::params::ParamStore;
use ane_compiler::abi::HostValue;
use ane_compiler::lower::Precision;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to run, beyond the configuration.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Continue the run in this directory (or from this checkpoint) instead of starting one.
    pub resume: Option<PathBuf>,
    /// End this invocation after this many updates (a checkpoint is saved), leaving the run's
    /// length — and so its schedule — unchanged.
    pub stop_after: Option<u64>,
    /// Where default run directories are created (`runs`).
    pub runs_root: PathBuf,
    /// When this flag becomes true (a Ctrl-C handler sets it), the run stops after the current
    /// step, saves a checkpoint and returns [`TrainError::Interrupted`].
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            resume: None,
            stop_after: None,
            runs_root: PathBuf::from("runs"),
            interrupt: None,
        }
    }
}

/// Resolves the configuration of a new run, or of a resumed one (its saved configuration with
/// `settings` on top), and the checkpoint to resume from.
pub fn resolve_run(
    settings: &TrainSettings,
    options: &RunOptions,
) -> Result<(TrainConfig, Option<Checkpoint>), TrainError> {
    let Some(path) = &options.resume else {
        let config = TrainConfig::resolve(settings, |model, dataset| {
            default_run_dir(&options.runs_root, model, dataset)
        })?;
        check_fresh(&config.out)?;
        return Ok((config, None));
    };
    let (run_dir, dir) = locate_checkpoint(path)?;
    let fail = |reason: String| TrainError::Resume {
        path: dir.clone(),
        reason,
    };
    let checkpoint = Checkpoint::open(&dir)?;
    let saved: TrainConfig = serde_json::from_value(checkpoint.meta().config.clone())
        .map_err(|e| fail(format!("its sidecar holds no training configuration ({e})")))?;
    if let Some(out) = &settings.out {
        if out != &run_dir {
            return Err(TrainError::Conflict(format!(
                "--resume continues the run in {}; do not give another --out ({})",
                run_dir.display(),
                out.display()
            )));
        }
    }
    let layered = TrainSettings::from_config(&saved).overlay(&TrainSettings {
        out: Some(run_dir.clone()),
        ..settings.clone()
    });
    let config = TrainConfig::resolve(&layered, |_, _| run_dir.clone())?;
    let changed: Vec<String> = saved
        .identity()
        .into_iter()
        .zip(config.identity())
        .filter(|(a, b)| a.1 != b.1)
        .map(|((name, was), (_, now))| format!("{name} {was:?} → {now:?}"))
        .collect();
    if !changed.is_empty() {
        return Err(fail(format!(
            "the checkpoint was trained with other settings ({}); resume with the same ones",
            changed.join(", ")
        )));
    }
    Ok((config, Some(checkpoint)))
}

/// The number of updates of a run: `--steps`, or enough updates to cover `--epochs` of
/// `batches_per_epoch` micro-batches each.
pub fn total_steps(config: &TrainConfig, batches_per_epoch: u64) -> Result<u64, TrainError> {
    match (config.steps, config.epochs) {
        (Some(steps), _) => Ok(steps),
        (None, Some(epochs)) => epochs
            .checked_mul(batches_per_epoch)
            .map(|batches| batches.div_ceil(u64::from(config.accum)))
            .ok_or_else(|| TrainError::Setting {
                key: "epochs".into(),
                value: epochs.to_string(),
                reason: format!(
                    "{epochs} epochs of {batches_per_epoch} batches overflow the step counter; \
                     ask for fewer epochs (or --steps)"
                ),
            }),
        (None, None) => Ok(0),
    }
}

/// The loss scaler a configuration asks for: fixed at 1 for fp32 kernels (nothing underflows),
/// fixed when `--loss-scale` is a number, dynamic otherwise.
pub fn loss_scaler_config(config: &TrainConfig) -> LossScalerConfig {
    match (config.precision, config.loss_scale) {
        (_, Some(fixed)) => LossScalerConfig::fixed(fixed),
        (Precision::Fp32, None) => LossScalerConfig::fixed(1.0),
        (Precision::Fp16, None) => LossScalerConfig {
            growth_interval: config.loss_scale_growth_interval,
            ..LossScalerConfig::default()
        },
    }
}

/// Trains as `settings` and `options` say, reporting progress to `observer`; returns the
/// summary (which the CLI prints).
pub fn train(
    settings: &TrainSettings,
    options: &RunOptions,
    observer: &mut dyn RunObserver,
) -> Result<TrainSummary, TrainError> {
    let started = Instant::now();
    let mut log = |line: &str| observer.info(line);
    let (config, resume_from) = resolve_run(settings, options)?;
    let dataset = setup::load_data(&config)?;
    log(&describe_dataset(&dataset));
    let (preset, model) = setup::build_model(&config)?;
    setup::check_fits(&preset, &model, &dataset)?;
    let mut params = model.init_params(config.seed)?;
    if let (Some(init), None) = (&config.init, &resume_from) {
        let report = load_init_weights(init, &mut params, false)?;
        log(&format!(
            "initialized {} parameter(s) from {}{}",
            report.loaded.len(),
            init.display(),
            if report.unused.is_empty() {
                String::new()
            } else {
                format!(" ({} unused tensor(s) in the file)", report.unused.len())
            }
        ));
    }
    log(&format!(
        "model {}: {} parameters; {} kernels, batch {}{}",
        preset.name(),
        model.num_parameters(),
        super::config::precision_name(config.precision),
        config.batch_size,
        if config.accum > 1 {
            format!(" × {} accumulated", config.accum)
        } else {
            String::new()
        }
    ));

    let mut devices = setup::open_devices(&config)?;
    log(devices.note());
    let plan_options = setup::plan_options(&config, &devices)?;
    let compile_start = Instant::now();
    let mut exec = TrainingExecutor::new(
        &model,
        config.batch_size,
        preset.default_loss(),
        &plan_options,
        &mut devices,
        &params,
    )?;
    let mut evaluator = EvalExecutor::new(
        &model,
        config.eval_batch_size,
        &plan_options,
        &mut devices,
        &params,
    )?;
    let plan = exec.summary();
    let (ane_compiles, host_compiles) = devices.compile_counts();
    log(&format!(
        "planned and compiled {} kernels ({ane_compiles} ANE-placed, {host_compiles} host) in {:.2} s; \
         {} dispatches per micro-batch ({} ANE, {} host)",
        ane_compiles + host_compiles,
        compile_start.elapsed().as_secs_f64(),
        plan.dispatches(),
        plan.ane_dispatches,
        plan.host_dispatches
    ));

    let map = PixelMap::new(config.normalize, dataset.stats());
    let mut stream = ShuffledBatches::new(
        dataset.train(),
        config.batch_size,
        LastBatch::Drop,
        config.seed,
        map.clone(),
    )?;
    let total = total_steps(&config, stream.batches_per_epoch())?;
    let schedule = LrSchedule::new(config.schedule_kind()?, config.lr, total)?;
    let scaler_config = loss_scaler_config(&config);
    let metrics_path = config.out.join(METRICS_FILE);

    std::fs::create_dir_all(&config.out).map_err(|source| TrainError::Io {
        path: config.out.clone(),
        source,
    })?;
    // One run per directory, from its first write to its end (released on every return).
    let _run_lock = RunLock::acquire(&config.out)?;
    let (mut rule, mut step, mut metrics) = match &resume_from {
        Some(checkpoint) => {
            let run = checkpoint.run_state();
            let scaler = match run.loss_scaler {
                Some(state) => LossScaler::from_state(scaler_config, state)?,
                None => LossScaler::new(scaler_config)?,
            };
            let mut rule =
                UpdateRule::new(config.optimizer.build()?, scaler, config.clip, config.accum);
            checkpoint.restore(&mut params, rule.optimizer_mut())?;
            let cursor: BatchCursor =
                serde_json::from_value(run.data_cursor).map_err(|e| TrainError::Resume {
                    path: checkpoint.dir().to_path_buf(),
                    reason: format!("its data cursor is unreadable ({e})"),
                })?;
            stream.seek(cursor)?;
            write_config_file(&config)?;
            let metrics = MetricsWriter::resume(&metrics_path, run.step)?;
            log(&format!(
                "resuming {} at step {} of {total}",
                config.out.display(),
                run.step
            ));
            (rule, run.step, metrics)
        }
        None => {
            std::fs::create_dir_all(&config.out).map_err(|source| TrainError::Io {
                path: config.out.clone(),
                source,
            })?;
            write_config_file(&config)?;
            let scaler = LossScaler::new(scaler_config)?;
            let rule =
                UpdateRule::new(config.optimizer.build()?, scaler, config.clip, config.accum);
            log(&format!(
                "training for {total} steps; writing to {}",
                config.out.display()
            ));
            (rule, 0, MetricsWriter::create(&metrics_path)?)
        }
    };

    let first_step = step;
    let last_step = match options.stop_after {
        Some(n) => (step + n).min(total),
        None => total,
    };
    observer.begin(total, step, config.log_every);
    let mut batch: Batch<i32> = Batch::for_split(config.batch_size, dataset.train());
    let mut smoothed = Ema::new(0.9)?;
    let mut rate = RateWindow::new(20)?;
    let mut samples = 0u64;
    let mut last_loss = None;
    let mut last_eval: Option<(u64, EvalResult)> = None;
    let mut last_saved: Option<(u64, PathBuf)> = None;
    let mut train_time = Duration::ZERO;
    rate.mark(0.0, 0);

    while step < last_step {
        let step_start = Instant::now();
        let mut loss_sum = 0.0f64;
        let mut epoch = 0;
        let mut epoch_ended = false;
        for k in 0..config.accum {
            let fill = Instant::now();
            let position = stream.next_into(&mut batch)?;
            exec.times_mut().add(Phase::Staging, fill.elapsed());
            epoch = position.epoch;
            epoch_ended |= position.last_in_epoch;
            let micro = step * u64::from(config.accum) + u64::from(k);
            let micro_batch = MicroBatch {
                inputs: HostValue::F32(batch.images_padded()),
                targets: batch.labels_padded(),
                dropout: [config.seed as i32, micro as i32],
            };
            let loss =
                exec.run_micro_batch(&mut devices, &mut params, &micro_batch, rule.loss_scale())?;
            loss_sum += f64::from(loss);
        }
        let loss = loss_sum / f64::from(config.accum);
        let lr = schedule.lr(step);
        let update_start = Instant::now();
        let outcome = rule.apply(&mut params, lr)?;
        exec.times_mut()
            .add(Phase::Optimizer, update_start.elapsed());
        step += 1;
        train_time += step_start.elapsed();
        rule.check_divergence(
            config.precision,
            step,
            loss,
            "lower --lr, add --clip 1.0, or check the input normalization",
        )?;

        samples += (config.batch_size * config.accum as usize) as u64;
        rate.mark(train_time.as_secs_f64(), samples);
        smoothed.update(loss);
        last_loss = Some(loss);
        let mut record = MetricsRecord {
            step,
            epoch: Some(epoch),
            loss: Some(loss),
            lr: Some(lr),
            loss_scale: Some(f64::from(outcome.loss_scale)),
            samples_per_sec: rate.per_sec(),
            grad_norm: outcome.grad_norm,
            skipped: (!outcome.applied).then_some(true),
            elapsed_sec: Some(started.elapsed().as_secs_f64()),
            ..Default::default()
        };
        let finishing = step == last_step;
        let eval_due = match config.eval_every {
            Some(n) => step % n == 0,
            None => epoch_ended,
        };
        if eval_due || finishing {
            let result =
                evaluate_split(&mut evaluator, &mut devices, &params, dataset.test(), &map)?;
            record.eval_accuracy = Some(result.accuracy());
            record.eval_loss = Some(result.mean_loss());
            observer.message(&format!(
                "step {step}: test accuracy {:.2}%, test loss {:.4}",
                100.0 * result.accuracy(),
                result.mean_loss()
            ));
            last_eval = Some((step, result));
        }
        metrics.write(&record)?;
        let save_due = match config.save_every {
            Some(n) => step % n == 0,
            None => epoch_ended,
        };
        if save_due || finishing {
            let path = save_checkpoint(&config, &params, &rule, step, stream.cursor())?;
            last_saved = Some((step, path));
        }
        observer.step(&StepStatus {
            step,
            epoch,
            loss: smoothed.value(),
            lr,
            loss_scale: outcome.loss_scale,
            samples_per_sec: rate.per_sec(),
        });
        let interrupted = options
            .interrupt
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::SeqCst));
        if interrupted && step < last_step {
            observer.finish();
            let checkpoint = match last_saved {
                Some((saved, path)) if saved == step => path,
                _ => save_checkpoint(&config, &params, &rule, step, stream.cursor())?,
            };
            return Err(TrainError::Interrupted {
                step,
                total,
                checkpoint,
                out: config.out.clone(),
            });
        }
    }
    observer.finish();

    // A run already at its end (resumed after the last step) still reports its accuracy.
    let (eval_step, result) = match last_eval {
        Some(done) => done,
        None => (
            step,
            evaluate_split(&mut evaluator, &mut devices, &params, dataset.test(), &map)?,
        ),
    };
    debug_assert_eq!(eval_step, step);
    let checkpoint = match last_saved {
        Some((_, path)) => Some(path),
        None => locate_checkpoint(&config.out).ok().map(|(_, c)| c),
    };
    let steps_this_run = step - first_step;
    let train_secs = train_time.as_secs_f64().max(1e-9);
    let (ane_compiles, host_compiles) = devices.compile_counts();
    let scaler = rule.scaler_state();
    Ok(TrainSummary {
        out: config.out.clone(),
        checkpoint,
        device: devices.name().to_string(),
        model: preset.name().to_string(),
        dataset: config.dataset.clone(),
        final_step: step,
        total_steps: total,
        steps_this_run,
        last_loss,
        test_accuracy: result.accuracy(),
        test_correct: result.correct,
        test_examples: result.examples,
        test_loss: result.mean_loss(),
        wall_time: started.elapsed(),
        train_time,
        steps_per_sec: steps_this_run as f64 / train_secs,
        samples_per_sec: samples as f64 / train_secs,
        train_plan: plan,
        eval_plan: evaluator.summary(),
        compiles: ane_compiles + host_compiles,
        loss_scale_skips: scaler.skipped,
        loss_scale_backoffs: scaler.backoffs,
        loss_scale_growths: scaler.growths,
        final_loss_scale: scaler.scale,
        phases: *exec.times(),
    })
}

/// Saves the checkpoint of `step` under the run's checkpoints directory, keeping the newest
/// `keep_checkpoints`.
fn save_checkpoint(
    config: &TrainConfig,
    params: &ParamStore,
    rule: &UpdateRule,
    step: u64,
    cursor: BatchCursor,
) -> Result<PathBuf, TrainError> {
    let run = RunState {
        step,
        config: serde_json::to_value(config).expect("configurations serialize"),
        data_cursor: serde_json::to_value(cursor).expect("cursors serialize"),
        // Every random stream is a pure function of the seed and the step (data order, dropout
        // masks): there is no generator state to carry.
        rng: BTreeMap::new(),
        loss_scaler: Some(rule.scaler_state()),
    };
    Ok(save_step(
        &config.out.join(CHECKPOINTS_DIR),
        params,
        rule.optimizer(),
        &run,
        Some(config.keep_checkpoints),
    )?)
}

/// Writes `DIR/config.toml`: the resolved settings, so `--config DIR/config.toml` repeats the run.
fn write_config_file(config: &TrainConfig) -> Result<(), TrainError> {
    let path = config.out.join(CONFIG_FILE);
    let mut settings = TrainSettings::from_config(config);
    settings.out = None;
    let text = format!(
        "# Settings of this run, resolved by ane-trainer; `ane-trainer train --config {}` repeats it\n# (with another --out).\n{}",
        path.display(),
        toml::to_string(&settings).expect("settings serialize")
    );
    std::fs::write(&path, text).map_err(|source| TrainError::Io { path, source })
}

/// One line about the dataset for stderr.
fn describe_dataset(dataset: &ImageDataset) -> String {
    format!(
        "dataset {}: {} train / {} test images of {}×{}, {} classes ({})",
        dataset.name(),
        dataset.train().len(),
        dataset.test().len(),
        dataset.height(),
        dataset.width(),
        dataset.num_classes(),
        dataset.source()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_length_overflow_is_an_error_not_a_wrapped_count() {
        let settings = TrainSettings {
            epochs: Some(u64::MAX),
            ..TrainSettings::default()
        };
        let config = TrainConfig::resolve(&settings, |_, _| PathBuf::from("runs/x")).unwrap();
        let err = total_steps(&config, 62).unwrap_err().to_string();
        assert!(err.contains("overflow") && err.contains("--steps"), "{err}");
        let settings = TrainSettings {
            epochs: Some(3),
            ..TrainSettings::default()
        };
        let config = TrainConfig::resolve(&settings, |_, _| PathBuf::from("runs/x")).unwrap();
        assert_eq!(total_steps(&config, 62).unwrap(), 186);
    }
}
