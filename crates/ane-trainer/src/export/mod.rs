//! Core ML export: a trained checkpoint → a `.mlpackage` an app loads with Core ML, which runs it
//! on the same Neural Engine through Apple's public API.
//!
//! The pipeline ([`export_checkpoint`]):
//! 1. rebuild the model from the checkpoint's sidecar and restore its weights (as `eval` does);
//! 2. lower its evaluation graph for one example with the multi-input ABI and bake the weights
//!    in as constants ([`program::inference_program`]);
//! 3. turn that into the `Model` protobuf of an ML Program for the deployment target, with the
//!    large constants in one weight file ([`spec::package_contents`]); classifiers get Core ML's
//!    `classify` op with the dataset's class labels;
//! 4. write the package atomically ([`package::write_package`]).
//!
//! [`reader::read_package`] parses a package back into an ane-mil program the simulator runs.
//! The protobuf messages are hand-written prost structs ([`proto`]) following Apple's schema.

pub mod convert;
mod error;
mod fp16;
pub mod names;
pub mod package;
pub mod program;
pub mod proto;
pub mod reader;
pub mod spec;
pub mod target;

pub use error::ExportError;
pub use package::write_package;
pub use program::{inference_program, InferenceProgram, LOGITS, PROBABILITIES};
pub use reader::{read_package, ReadPackage};
pub use spec::{package_contents, ExportMetadata, PackageContents, CLASS_LABEL, CLASS_PROBS};
pub use target::DeploymentTarget;

use crate::checkpoint::Checkpoint;
use crate::data::{NormStats, Normalize};
use crate::nn::{InputSpec, Preset};
use crate::trainer::config::precision_name;
use crate::trainer::run_dir::locate_checkpoint;
use crate::trainer::TrainConfig;
use ane_compiler::lower::Precision;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The package to write (`NAME.mlpackage`).
    pub out: PathBuf,
    /// The oldest OS it must run on.
    pub target: DeploymentTarget,
    /// Weights and activations in fp16 (what the Neural Engine computes in) or fp32.
    pub precision: Precision,
    /// Replace an existing package at `out`.
    pub overwrite: bool,
    /// `Metadata.author` (default `ane-trainer`).
    pub author: Option<String>,
    /// `Metadata.license` (default empty).
    pub license: Option<String>,
    /// `Metadata.versionString` (default `step-<N>`).
    pub version: Option<String>,
}

impl ExportOptions {
    /// fp16 for macOS 14, written to `out`.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        ExportOptions {
            out: out.into(),
            target: DeploymentTarget::MacOs14,
            precision: Precision::Fp16,
            overwrite: false,
            author: None,
            license: None,
            version: None,
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportReport {
    /// The package.
    pub package: PathBuf,
    /// The checkpoint exported.
    pub checkpoint: PathBuf,
    /// The model preset.
    pub model: String,
    /// The deployment target.
    pub deployment_target: String,
    /// `Model.specificationVersion`.
    pub specification_version: i32,
    /// `fp16` or `fp32`.
    pub precision: String,
    /// Inputs as `name: dtype[shape]`.
    pub inputs: Vec<String>,
    /// Outputs as `name: type`.
    pub outputs: Vec<String>,
    /// Class labels of classifiers (empty otherwise).
    pub class_labels: Vec<String>,
    /// Size of `weight.bin`.
    pub weight_bytes: usize,
}

/// The checkpoint at `path` (a checkpoint or run directory) rebuilt as a model with its weights.
pub struct LoadedCheckpoint {
    /// The checkpoint directory.
    pub dir: PathBuf,
    /// Its training configuration.
    pub config: TrainConfig,
    /// The model preset.
    pub preset: Preset,
    /// The model.
    pub model: crate::nn::Model,
    /// The trained weights.
    pub params: crate::params::ParamStore,
    /// The update it was taken at.
    pub step: u64,
}

/// Opens a checkpoint and rebuilds its model and weights from the configuration in its sidecar.
pub fn load_checkpoint(path: &Path) -> Result<LoadedCheckpoint, ExportError> {
    let (_, dir) = locate_checkpoint(path)?;
    let checkpoint = Checkpoint::open(&dir)?;
    let unknown = |reason: String| ExportError::UnknownModel {
        path: dir.clone(),
        reason,
    };
    let config: TrainConfig =
        serde_json::from_value(checkpoint.meta().config.clone()).map_err(|e| {
            unknown(format!(
                "its sidecar holds no ane-trainer model configuration ({e})"
            ))
        })?;
    let preset = config.preset().map_err(|e| {
        unknown(format!(
            "its model `{}` is unknown to this build: {e}",
            config.model
        ))
    })?;
    let model = preset.model()?;
    let mut params = model.init_params(config.seed)?;
    checkpoint.restore_params(&mut params)?;
    Ok(LoadedCheckpoint {
        step: checkpoint.meta().step,
        dir,
        config,
        preset,
        model,
        params,
    })
}

/// Exports the checkpoint at `path` as a Core ML package (see the module docs).
pub fn export_checkpoint(
    path: &Path,
    options: &ExportOptions,
) -> Result<ExportReport, ExportError> {
    let loaded = load_checkpoint(path)?;
    let labels = class_labels(&loaded);
    let program = inference_program(
        &loaded.model,
        &loaded.params,
        options.precision,
        labels.is_some(),
    )?;
    let metadata = metadata(&loaded, options);
    let contents = package_contents(&program, options.target, labels.as_deref(), &metadata)?;
    write_package(&options.out, &contents, options.overwrite)?;
    let describe = |n: &ane_mil::NamedType| match n.ty.as_tensor() {
        Some(t) => format!("{}: {t}", n.name),
        None => n.name.clone(),
    };
    let mut outputs: Vec<String> = program.outputs.iter().map(describe).collect();
    if labels.is_some() {
        outputs.retain(|o| !o.starts_with(PROBABILITIES));
        outputs.splice(
            0..0,
            [
                format!("{CLASS_LABEL}: string"),
                format!("{CLASS_PROBS}: dict<string, double>"),
            ],
        );
    }
    Ok(ExportReport {
        package: options.out.clone(),
        checkpoint: loaded.dir.clone(),
        model: loaded.preset.name().to_string(),
        deployment_target: options.target.to_string(),
        specification_version: options.target.specification_version(),
        precision: precision_name(options.precision).to_string(),
        inputs: vec![describe(&program.input)],
        outputs,
        class_labels: labels.unwrap_or_default(),
        weight_bytes: contents.weights.len(),
    })
}

/// Fashion-MNIST's class names, in label order.
pub const FASHION_MNIST_LABELS: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// The class labels of an image classifier, one per logit (the dataset's names, then
/// `class_N` for outputs beyond its classes); `None` for language models.
pub fn class_labels(loaded: &LoadedCheckpoint) -> Option<Vec<String>> {
    let outputs = match &loaded.preset {
        Preset::Mlp(c) => c.widths.last().copied().unwrap_or(0),
        Preset::Cnn(c) => c.num_classes,
        Preset::Llama { .. } => return None,
    };
    let named: Vec<String> = if loaded.config.dataset == "fashion-mnist" {
        FASHION_MNIST_LABELS.iter().map(|s| s.to_string()).collect()
    } else {
        (0..10).map(|d| d.to_string()).collect()
    };
    Some(
        (0..outputs)
            .map(|i| {
                named
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("class_{i}"))
            })
            .collect(),
    )
}

/// The normalization statistics the model was trained with (the published ones of its dataset).
fn norm_stats(config: &TrainConfig) -> NormStats {
    if config.dataset == "fashion-mnist" {
        NormStats::fashion_mnist()
    } else {
        NormStats::mnist()
    }
}

/// Metadata: author, licence, version, and the training settings in `userDefined`.
fn metadata(loaded: &LoadedCheckpoint, options: &ExportOptions) -> ExportMetadata {
    let c = &loaded.config;
    let stats = norm_stats(c);
    let input_description = match loaded.model.input_spec() {
        InputSpec::Tokens { vocab_size, .. } => {
            format!("Token ids, each below {vocab_size}")
        }
        InputSpec::Dense { shape, .. } => {
            let pixels = match c.normalize {
                Normalize::None => "raw pixel values 0–255".to_string(),
                Normalize::Unit => "pixel / 255".to_string(),
                Normalize::Standard => format!(
                    "(pixel / 255 − {}) / {} (the dataset's mean and std)",
                    stats.mean, stats.std
                ),
            };
            format!("A grayscale image of shape {shape:?}, row-major, each value {pixels}")
        }
    };
    let mut user = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        user.insert(format!("com.github.ane-trainer.{k}"), v);
    };
    put("version", env!("CARGO_PKG_VERSION").to_string());
    put("model", c.model.clone());
    put("model_flags", c.model_flags.join(" "));
    put("dataset", c.dataset.clone());
    put("normalize", c.normalize.to_string());
    if c.normalize == Normalize::Standard {
        put("normalize_mean", stats.mean.to_string());
        put("normalize_std", stats.std.to_string());
    }
    put("source_checkpoint", loaded.dir.display().to_string());
    put("step", loaded.step.to_string());
    put(
        "training_precision",
        precision_name(c.precision).to_string(),
    );
    put(
        "export_precision",
        precision_name(options.precision).to_string(),
    );
    put("deployment_target", options.target.to_string());
    put(
        "training_config",
        serde_json::to_string(c).unwrap_or_default(),
    );
    ExportMetadata {
        short_description: format!(
            "{} trained with ane-trainer on {} ({} steps)",
            loaded.preset.name(),
            c.dataset,
            loaded.step
        ),
        author: options
            .author
            .clone()
            .unwrap_or_else(|| "ane-trainer".into()),
        license: options.license.clone().unwrap_or_default(),
        version: options
            .version
            .clone()
            .unwrap_or_else(|| format!("step-{}", loaded.step)),
        user_defined: user,
        input_description,
    }
}
