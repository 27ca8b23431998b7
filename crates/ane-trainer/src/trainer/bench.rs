//! `bench`: time training steps of a model on synthetic data and split each step into staging,
//! device, host kernels and optimizer, with kernels and FLOPs per step and the achieved GFLOP/s.
//!
//! The data is synthetic (standard-normal pixels, uniform labels or tokens, made once), as in
//! `bench/torch_reference.py`, so both sides time the same work: forward, backward and an
//! optimizer update, no data loading. A few warm-up steps run untimed first.

use super::config::{precision_name, TrainConfig, TrainSettings};
use super::error::TrainError;
use super::run::loss_scaler_config;
use super::setup;
use crate::executor::{MicroBatch, Phase, PlanSummary, TrainingExecutor, UpdateRule};
use crate::nn::InputSpec;
use crate::optim::LossScaler;
use crate::rng::Rng;
use ane_compiler::abi::HostValue;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// What to benchmark.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Model, batch size, optimizer, precision, device… (the training settings; data and run
    /// length settings are ignored).
    pub settings: TrainSettings,
    /// Timed steps.
    pub steps: u64,
    /// Untimed steps before them.
    pub warmup: u64,
}

/// Milliseconds per step of each phase.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PhaseMillis {
    /// Batch fill, packing into device buffers, copying outputs back.
    pub staging: f64,
    /// ANE-placed kernels.
    pub device: f64,
    /// Host kernels and gradient accumulation.
    pub host: f64,
    /// The parameter update.
    pub optimizer: f64,
    /// Wall time not in any phase (loop overhead).
    pub other: f64,
}

/// The result of a benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// The model preset.
    pub model: String,
    /// Model parameters.
    pub parameters: usize,
    /// Micro-batch size.
    pub batch_size: usize,
    /// Timed steps.
    pub steps: u64,
    /// `sim` or `ane`.
    pub device: String,
    /// `fp16` or `fp32`.
    pub precision: String,
    /// Where weight gradients ran.
    pub dw: String,
    /// The optimizer.
    pub optimizer: String,
    /// Mean wall time of a step, in milliseconds.
    pub step_ms: f64,
    /// Mean time per phase.
    pub phases: PhaseMillis,
    /// Compiles and dispatches per step.
    pub plan: PlanSummary,
    /// FLOPs per step (all kernels).
    pub flops_per_step: u64,
    /// FLOPs per step divided by the step time.
    pub achieved_gflops: f64,
    /// ANE-placed FLOPs divided by the device time.
    pub device_gflops: f64,
    /// The last step's loss (a sanity check that the step computes something).
    pub last_loss: f32,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = &self.phases;
        writeln!(
            f,
            "bench {} ({} parameters), batch {}, {} {} kernels on {}, dW on {}, {}: {} timed steps",
            self.model,
            self.parameters,
            self.batch_size,
            self.plan.ane_kernels + self.plan.host_kernels,
            self.precision,
            self.device,
            self.dw,
            self.optimizer,
            self.steps
        )?;
        writeln!(f, "step time: {:.3} ms", self.step_ms)?;
        writeln!(
            f,
            "  staging {:.3} ms, device {:.3} ms, host ops {:.3} ms, optimizer {:.3} ms, other {:.3} ms",
            p.staging, p.device, p.host, p.optimizer, p.other
        )?;
        writeln!(
            f,
            "kernels per step: {} ({} ANE + {} host dispatches); compiles: {}",
            self.plan.dispatches(),
            self.plan.ane_dispatches,
            self.plan.host_dispatches,
            self.plan.compiles()
        )?;
        write!(
            f,
            "FLOPs per step: {:.1} M ({:.1} M on ANE kernels); achieved {:.1} GFLOP/s overall, {:.1} GFLOP/s in device time",
            self.flops_per_step as f64 / 1e6,
            self.plan.ane_flops as f64 / 1e6,
            self.achieved_gflops,
            self.device_gflops
        )
    }
}

/// Runs the benchmark.
pub fn bench(options: &BenchOptions) -> Result<BenchReport, TrainError> {
    let config = TrainConfig::resolve(&options.settings, |_, _| PathBuf::new())?;
    let (preset, model) = setup::build_model(&config)?;
    let mut params = model.init_params(config.seed)?;
    let mut devices = setup::open_devices(&config)?;
    let plan_options = setup::plan_options(&config, &devices)?;
    let mut exec = TrainingExecutor::new(
        &model,
        config.batch_size,
        preset.default_loss(),
        &plan_options,
        &mut devices,
        &params,
    )?;
    let scaler = LossScaler::new(loss_scaler_config(&config))?;
    let mut rule = UpdateRule::new(config.optimizer.build()?, scaler, config.clip, 1);

    let mut rng = Rng::derive(config.seed, "bench");
    let batch = config.batch_size;
    let (images, tokens, targets) = synthetic_batch(model.input_spec(), &preset, batch, &mut rng);
    let inputs = if tokens.is_empty() {
        HostValue::F32(&images)
    } else {
        HostValue::I32(&tokens)
    };

    let mut last_loss = f32::NAN;
    let mut timed = Instant::now();
    for step in 0..options.warmup + options.steps {
        if step == options.warmup {
            exec.times_mut().reset();
            timed = Instant::now();
        }
        let micro = MicroBatch {
            inputs,
            targets: &targets,
            dropout: [config.seed as i32, step as i32],
        };
        last_loss = exec.run_micro_batch(&mut devices, &mut params, &micro, rule.loss_scale())?;
        let start = Instant::now();
        rule.apply(&mut params, config.lr)?;
        exec.times_mut().add(Phase::Optimizer, start.elapsed());
    }
    let wall = timed.elapsed().as_secs_f64();
    let steps = options.steps.max(1) as f64;
    let ms = |phase| exec.times().get(phase).as_secs_f64() * 1e3 / steps;
    let step_ms = wall * 1e3 / steps;
    let phases = PhaseMillis {
        staging: ms(Phase::Staging),
        device: ms(Phase::Device),
        host: ms(Phase::Host),
        optimizer: ms(Phase::Optimizer),
        other: (step_ms - exec.times().total().as_secs_f64() * 1e3 / steps).max(0.0),
    };
    let plan = exec.summary();
    let flops = plan.flops();
    Ok(BenchReport {
        model: preset.name().to_string(),
        parameters: model.num_parameters(),
        batch_size: batch,
        steps: options.steps,
        device: devices.name().to_string(),
        precision: precision_name(config.precision).to_string(),
        dw: super::config::dw_name(config.dw).to_string(),
        optimizer: config.optimizer.name().to_string(),
        step_ms,
        phases,
        plan,
        flops_per_step: flops,
        achieved_gflops: flops as f64 / (step_ms * 1e6),
        device_gflops: if phases.device > 0.0 {
            plan.ane_flops as f64 / (phases.device * 1e6)
        } else {
            0.0
        },
        last_loss,
    })
}

/// One synthetic batch: standard-normal features (or uniform token ids) and uniform targets.
fn synthetic_batch(
    input: &InputSpec,
    preset: &crate::nn::Preset,
    batch: usize,
    rng: &mut Rng,
) -> (Vec<f32>, Vec<i32>, Vec<i32>) {
    let classes = match preset {
        crate::nn::Preset::Mlp(c) => c.widths.last().copied().unwrap_or(1),
        crate::nn::Preset::Cnn(c) => c.num_classes,
        crate::nn::Preset::Llama { config, .. } => config.vocab_size,
    };
    let mut draw = |n: usize, below: usize| -> Vec<i32> {
        (0..n).map(|_| rng.below(below as u64) as i32).collect()
    };
    match input {
        InputSpec::Tokens {
            seq_len,
            vocab_size,
            ..
        } => {
            let tokens = draw(batch * seq_len, *vocab_size);
            let targets = draw(batch * seq_len, classes);
            (Vec::new(), tokens, targets)
        }
        InputSpec::Dense { shape, .. } => {
            let n = batch * shape.iter().product::<usize>();
            let targets = draw(batch, classes);
            let images = (0..n).map(|_| rng.normal()).collect();
            (images, Vec::new(), targets)
        }
    }
}
