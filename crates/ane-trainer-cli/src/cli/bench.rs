//! `ane-trainer bench`: time training steps on synthetic data, split into phases.

use super::output::emit;
use ane_trainer::trainer::{bench, BenchOptions, TrainSettings};
use clap::Args;
use std::process::ExitCode;

/// Flags of `ane-trainer bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Model preset.
    #[arg(long, default_value = "mlp")]
    model: String,
    /// A model flag `key=value` (repeatable).
    #[arg(long = "model-flag", value_name = "KEY=VALUE")]
    model_flag: Vec<String>,
    /// MLP widths, input first.
    #[arg(long, value_name = "W0,W1,…")]
    widths: Option<String>,
    /// Examples per step.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 50)]
    steps: u64,
    /// Untimed warm-up steps before them.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Kernel precision: fp16 or fp32.
    #[arg(long, default_value = "fp16")]
    precision: String,
    /// Where ANE kernels run: auto, sim, ane.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Where weight gradients run: ane or host.
    #[arg(long, default_value = "ane")]
    dw: String,
    /// Chip to plan for on the simulator.
    #[arg(long, default_value = "m4")]
    chip: String,
    /// MIL dialect of the ANE kernels instead of the chip's: ios16 or ios18.
    #[arg(long, value_name = "ios16|ios18")]
    ane_dialect: Option<String>,
    /// Optimizer: sgd, adam, adamw.
    #[arg(long, default_value = "adam")]
    optimizer: String,
    /// Learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Seed of the weights and the synthetic data.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let settings = TrainSettings {
        model: Some(args.model.clone()),
        model_flag: args.model_flag.clone(),
        widths: args.widths.clone(),
        batch_size: Some(args.batch_size),
        precision: Some(args.precision.clone()),
        device: Some(args.device.clone()),
        dw: Some(args.dw.clone()),
        chip: Some(args.chip.clone()),
        ane_dialect: args.ane_dialect.clone(),
        optimizer: Some(args.optimizer.clone()),
        lr: args.lr,
        seed: Some(args.seed),
        steps: Some(args.steps.max(1)),
        ..TrainSettings::default()
    };
    let report = bench(&BenchOptions {
        settings,
        steps: args.steps,
        warmup: args.warmup,
    })?;
    if args.json {
        emit(&serde_json::to_string_pretty(&report)?)?;
    } else {
        emit(&format!("{report}"))?;
    }
    Ok(ExitCode::SUCCESS)
}
