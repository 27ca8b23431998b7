//! `ane-trainer inspect`: plan a model's training step (or its evaluation pass) without running
//! anything; print the kernel table and optionally write every kernel's MIL and weights.

use super::output::emit;
use ane_compiler::plan::{plan_training_step, PlanOptions};
use ane_trainer::executor::{eval_graph, training_step_graph};
use ane_trainer::nn::Preset;
use ane_trainer::trainer::config::{parse_chip, preset};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Flags of `ane-trainer inspect`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Model preset: mlp, cnn, llama, stories260k, stories15m, stories42m, stories110m.
    #[arg(long, default_value = "mlp")]
    model: String,
    /// A model flag `key=value` (repeatable), e.g. `--model-flag dim=64`.
    #[arg(long = "model-flag", value_name = "KEY=VALUE")]
    model_flag: Vec<String>,
    /// MLP widths, input first.
    #[arg(long, value_name = "W0,W1,…")]
    widths: Option<String>,
    /// Where weight gradients run: ane or host.
    #[arg(long, default_value = "ane")]
    dw: String,
    /// Chip family to plan for: m1 … m5.
    #[arg(long, default_value = "m4")]
    chip: String,
    /// Kernel precision: fp16 or fp32.
    #[arg(long, default_value = "fp16")]
    precision: String,
    /// Batch size (default: 64 for mlp and cnn, 1 for transformer presets).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Plan the evaluation pass (forward only, logits) instead of the training step.
    #[arg(long)]
    eval: bool,
    /// Also print every dispatch and every buffer crossing a kernel boundary.
    #[arg(long)]
    verbose: bool,
    /// Write every kernel's `model.mil` and weight files, and `plan.txt`, under DIR.
    #[arg(long, value_name = "DIR")]
    dump: Option<PathBuf>,
}

/// Runs `inspect`.
pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let mut flags = args.model_flag.clone();
    if let Some(w) = &args.widths {
        flags.push(format!("widths={w}"));
    }
    let preset = preset(&args.model, &flags)?;
    let model = preset.model()?;
    let batch = args.batch_size.unwrap_or(match preset {
        Preset::Llama { .. } => 1,
        _ => 64,
    });
    if batch == 0 {
        anyhow::bail!("--batch-size must be at least 1");
    }
    let options = plan_options(&args)?;
    let start = Instant::now();
    let graph = if args.eval {
        eval_graph(&model, batch)?
    } else {
        training_step_graph(&model, batch, preset.default_loss())?
    };
    let traced = start.elapsed();
    let plan = plan_training_step(&graph.graph, &options)?;
    let planned = start.elapsed() - traced;
    emit(&format!(
        "model {}: {} parameter tensors, {} parameters; batch {batch}; {} graph: {} nodes",
        preset.name(),
        model.param_specs().len(),
        model.num_parameters(),
        if args.eval {
            "evaluation"
        } else {
            "training-step"
        },
        graph.graph.nodes().len()
    ))?;
    emit(plan.table().trim_end())?;
    if args.verbose {
        emit(&format!("dispatches:\n{}", plan.dispatch_table()))?;
        emit(&format!("buffers:\n{}", plan.buffer_table()))?;
    }
    emit(&format!(
        "traced in {:.2} s, planned in {:.2} s (nothing compiled or run)",
        traced.as_secs_f64(),
        planned.as_secs_f64()
    ))?;
    if let Some(dir) = &args.dump {
        plan.dump(dir)
            .map_err(|e| anyhow::anyhow!("cannot write the plan to {}: {e}", dir.display()))?;
        emit(&format!(
            "wrote {} kernel(s) (model.mil and weights) and plan.txt to {}",
            plan.kernels.len(),
            dir.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn plan_options(args: &InspectArgs) -> anyhow::Result<PlanOptions> {
    let chip = parse_chip(&args.chip)?;
    let precision = match args.precision.as_str() {
        "fp16" => ane_compiler::lower::Precision::Fp16,
        "fp32" => ane_compiler::lower::Precision::Fp32,
        other => anyhow::bail!("invalid precision `{other}`: expected fp16 or fp32"),
    };
    let dw = match args.dw.as_str() {
        "ane" => ane_compiler::place::DwPlacement::Ane,
        "host" => ane_compiler::place::DwPlacement::Host,
        other => anyhow::bail!("invalid dw `{other}`: expected ane or host"),
    };
    Ok(PlanOptions::new(chip).with_precision(precision).with_dw(dw))
}
