//! `ane-trainer export CKPT --format mlpackage --out NAME.mlpackage`: a checkpoint as a Core ML
//! package.

use super::output::emit;
use ane_compiler::lower::Precision;
use ane_trainer::export::{export_checkpoint, DeploymentTarget, ExportOptions};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `ane-trainer export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// A checkpoint directory, or a run directory (its newest checkpoint is used).
    #[arg(value_name = "CHECKPOINT")]
    checkpoint: PathBuf,
    /// The package format: mlpackage (a Core ML ML Program).
    #[arg(long, value_name = "FORMAT", default_value = "mlpackage")]
    format: String,
    /// The package to write, e.g. `Digits.mlpackage`.
    #[arg(long, value_name = "NAME.mlpackage")]
    out: PathBuf,
    /// The oldest OS the package must run on: macOS13, macOS14, macOS15, iOS16, iOS17, iOS18.
    #[arg(long, value_name = "TARGET", default_value = "macOS14")]
    deployment_target: String,
    /// Compute precision of weights and activations: fp16 (the Neural Engine's) or fp32.
    #[arg(long, value_name = "fp16|fp32", default_value = "fp16")]
    precision: String,
    /// Replace an existing package at --out.
    #[arg(long)]
    overwrite: bool,
    /// The model's author (metadata; default `ane-trainer`).
    #[arg(long)]
    author: Option<String>,
    /// The model's licence (metadata).
    #[arg(long)]
    license: Option<String>,
    /// The model's version string (metadata; default `step-<N>`).
    #[arg(long = "model-version", value_name = "VERSION")]
    model_version: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `export`.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    if !args.format.eq_ignore_ascii_case("mlpackage") {
        anyhow::bail!(
            "--format: unknown format `{}` (expected mlpackage)",
            args.format
        );
    }
    let target: DeploymentTarget = args
        .deployment_target
        .parse()
        .map_err(|e| anyhow::anyhow!("--deployment-target: {e}"))?;
    let precision = match args.precision.to_ascii_lowercase().as_str() {
        "fp16" => Precision::Fp16,
        "fp32" => Precision::Fp32,
        other => anyhow::bail!("--precision: unknown precision `{other}` (expected fp16 or fp32)"),
    };
    let options = ExportOptions {
        out: args.out.clone(),
        target,
        precision,
        overwrite: args.overwrite,
        author: args.author.clone(),
        license: args.license.clone(),
        version: args.model_version.clone(),
    };
    let report = export_checkpoint(&args.checkpoint, &options)?;
    if args.json {
        emit(&serde_json::to_string_pretty(&report)?)?;
    } else {
        emit(&format!(
            "wrote {} ({} model, {} {}, spec {}, weights {} bytes)",
            report.package.display(),
            report.model,
            report.deployment_target,
            report.precision,
            report.specification_version,
            report.weight_bytes
        ))?;
        emit(&format!("  inputs:  {}", report.inputs.join(", ")))?;
        emit(&format!("  outputs: {}", report.outputs.join(", ")))?;
        if !report.class_labels.is_empty() {
            emit(&format!("  classes: {}", report.class_labels.join(", ")))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
