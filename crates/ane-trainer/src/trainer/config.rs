//! The training configuration: every setting of a run, where it comes from and how it is checked.
//!
//! Settings come in layers, later ones winning: built-in defaults, a TOML file (`--config`),
//! then command-line flags. [`TrainSettings`] is one layer — every field optional, the same
//! struct parsed by clap from flags and by serde from the file, so every flag is settable in the
//! file under the same name (`batch-size = 64`; `batch_size` is accepted too). [`TrainConfig`] is
//! the resolved, validated result, stored verbatim in every checkpoint's sidecar so `eval` and
//! `--resume` rebuild exactly the same run.
//!
//! Defaults (documented in the README): the `mlp` preset (784-256-10) on the embedded
//! `mnist-sample`, `standard` normalization, 10 epochs of batch 64, Adam at lr 1e-3 (SGD: lr 0.01
//! with momentum 0.9), a constant schedule, seed 0, fp16 kernels with dynamic loss scaling, the
//! ANE when there is one and the simulator otherwise, evaluation and a checkpoint at every epoch
//! end and at the last step.

use super::error::TrainError;
use crate::data::{DatasetName, Normalize};
use crate::executor::DeviceChoice;
use crate::nn::{Preset, PresetFlags};
use crate::optim::{OptimizerConfig, ScheduleKind};
use ane_compiler::lower::Precision;
use ane_compiler::place::DwPlacement;
use ane_device::ChipFamily;
use ane_mil::chip::parse_dialect;
use ane_mil::Dialect;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One layer of settings: every field optional. Parsed from command-line flags (clap) and from a
/// TOML file (serde, kebab-case keys named like the flags).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrainSettings {
    /// Model preset: mlp, cnn, llama, stories260k, stories15m, stories42m, stories110m.
    #[cfg_attr(feature = "cli", arg(long, value_name = "PRESET"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// A model flag `key=value` (repeatable), e.g. `--model-flag dim=64`.
    #[cfg_attr(feature = "cli", arg(long = "model-flag", value_name = "KEY=VALUE"))]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_flag: Vec<String>,
    /// MLP widths, input first (shorthand for `--model-flag widths=…`), e.g. `784,512,10`.
    #[cfg_attr(feature = "cli", arg(long, value_name = "W0,W1,…"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub widths: Option<String>,
    /// Dataset: mnist-sample (embedded), mnist, fashion-mnist.
    #[cfg_attr(feature = "cli", arg(long, value_name = "NAME"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// A directory holding the four IDX files under MNIST's names (each optionally .gz).
    #[cfg_attr(feature = "cli", arg(long, value_name = "DIR"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Allow downloading mnist / fashion-mnist into the cache when not found locally
    /// (default true; `--download=false` forbids it).
    #[cfg_attr(feature = "cli", arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download: Option<bool>,
    /// Input normalization: none (0–255), unit (/255), standard (dataset mean/std).
    #[cfg_attr(feature = "cli", arg(long, value_name = "MODE"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalize: Option<String>,
    /// Number of epochs (passes over the training split).
    #[cfg_attr(feature = "cli", arg(long))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u64>,
    /// Number of updates (instead of --epochs).
    #[cfg_attr(feature = "cli", arg(long))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<u64>,
    /// Examples per micro-batch (the batch size kernels are compiled for).
    #[cfg_attr(feature = "cli", arg(long))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Micro-batches accumulated per update.
    #[cfg_attr(feature = "cli", arg(long))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accum: Option<u32>,
    /// Optimizer: sgd, adam, adamw.
    #[cfg_attr(feature = "cli", arg(long, value_name = "NAME"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<String>,
    /// Peak learning rate.
    #[cfg_attr(feature = "cli", arg(long))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// SGD momentum.
    #[cfg_attr(feature = "cli", arg(long))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f64>,
    /// SGD Nesterov momentum.
    #[cfg_attr(feature = "cli", arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nesterov: Option<bool>,
    /// Weight decay (L2 for sgd/adam, decoupled for adamw).
    #[cfg_attr(feature = "cli", arg(long))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f64>,
    /// Learning-rate schedule: constant[:WARMUP], step:EVERY:GAMMA,
    /// cosine[:WARMUP[:MIN_LR_FRACTION[:START_FACTOR]]].
    #[cfg_attr(feature = "cli", arg(long, value_name = "SCHEDULE"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Clip the global gradient norm to this value.
    #[cfg_attr(feature = "cli", arg(long, value_name = "MAX_NORM"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clip: Option<f64>,
    /// Seed of initialization, data order and dropout.
    #[cfg_attr(feature = "cli", arg(long))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Where ANE kernels run: auto (the ANE if available, else the simulator), sim, ane.
    #[cfg_attr(feature = "cli", arg(long, value_name = "DEVICE"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Kernel precision: fp16 (what the ANE runs) or fp32 (exact reference on the simulator).
    #[cfg_attr(feature = "cli", arg(long, value_name = "PRECISION"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<String>,
    /// Where weight gradients run: ane or host.
    #[cfg_attr(feature = "cli", arg(long, value_name = "WHERE"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dw: Option<String>,
    /// Chip to plan for when running on the simulator: m1 … m5 (default m4).
    #[cfg_attr(feature = "cli", arg(long, value_name = "CHIP"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip: Option<String>,
    /// MIL dialect of the ANE kernels instead of the chip's: ios16 (`program(1.0)`, M1–M3) or
    /// ios18 (`program(1.3)`, M4 and later).
    #[cfg_attr(feature = "cli", arg(long, value_name = "ios16|ios18"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ane_dialect: Option<String>,
    /// Loss scale: `dynamic` (default for fp16) or a fixed number.
    #[cfg_attr(feature = "cli", arg(long, value_name = "dynamic|SCALE"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_scale: Option<String>,
    /// Finite steps before a dynamic loss scale doubles.
    #[cfg_attr(feature = "cli", arg(long, value_name = "STEPS"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss_scale_growth_interval: Option<u32>,
    /// Evaluate on the test split every N updates (default: at every epoch end).
    #[cfg_attr(feature = "cli", arg(long, value_name = "STEPS"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eval_every: Option<u64>,
    /// Save a checkpoint every N updates (default: at every epoch end).
    #[cfg_attr(feature = "cli", arg(long, value_name = "STEPS"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub save_every: Option<u64>,
    /// How many periodic checkpoints to keep (the newest).
    #[cfg_attr(feature = "cli", arg(long, value_name = "N"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_checkpoints: Option<usize>,
    /// Batch size of the evaluation kernels.
    #[cfg_attr(feature = "cli", arg(long))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eval_batch_size: Option<usize>,
    /// Print a progress line every N updates when stderr is not a terminal.
    #[cfg_attr(feature = "cli", arg(long, value_name = "STEPS"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_every: Option<u64>,
    /// Output directory (default: runs/<model>-<dataset>, with -2, -3, … if taken).
    #[cfg_attr(feature = "cli", arg(long, value_name = "DIR"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out: Option<PathBuf>,
    /// Initialize the weights from a safetensors file (or a checkpoint directory).
    #[cfg_attr(feature = "cli", arg(long, value_name = "FILE"))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<PathBuf>,
}

macro_rules! overlay_fields {
    ($base:ident, $top:ident; $($field:ident),*) => {
        $( if $top.$field.is_some() { $base.$field = $top.$field.clone(); } )*
    };
}

impl TrainSettings {
    /// Reads a TOML settings file. Keys are the flag names (`batch-size`, or `batch_size`);
    /// `model-flag` may be a list of `"key=value"` strings or a table (`[model-flag] dim = 64`).
    pub fn from_toml_file(path: &Path) -> Result<TrainSettings, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|source| TrainError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        TrainSettings::from_toml_str(&text).map_err(|reason| TrainError::ConfigFile {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parses settings from TOML text (see [`TrainSettings::from_toml_file`]).
    pub fn from_toml_str(text: &str) -> Result<TrainSettings, String> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        let mut normalized = toml::Table::new();
        for (key, value) in table {
            let key = key.replace('_', "-");
            let value = match (key.as_str(), value) {
                ("model-flag" | "model-flags", toml::Value::Table(flags)) => toml::Value::Array(
                    flags
                        .into_iter()
                        .map(|(k, v)| {
                            let v = match v {
                                toml::Value::String(s) => s,
                                toml::Value::Array(items) => items
                                    .iter()
                                    .map(|i| i.to_string())
                                    .collect::<Vec<_>>()
                                    .join(","),
                                other => other.to_string(),
                            };
                            toml::Value::String(format!("{k}={v}"))
                        })
                        .collect(),
                ),
                (_, value) => value,
            };
            let key = if key == "model-flags" {
                "model-flag".to_string()
            } else {
                key
            };
            normalized.insert(key, value);
        }
        TrainSettings::deserialize(toml::Value::Table(normalized)).map_err(|e| e.to_string())
    }

    /// This layer with every setting of `top` that is set replacing its own (model flags are
    /// appended, so a flag can override one key of a file's list).
    pub fn overlay(&self, top: &TrainSettings) -> TrainSettings {
        let mut base = self.clone();
        overlay_fields!(base, top; model, widths, dataset, data_dir, download, normalize, epochs,
            steps, batch_size, accum, optimizer, lr, momentum, nesterov, weight_decay, schedule,
            clip, seed, device, precision, dw, chip, ane_dialect, loss_scale, loss_scale_growth_interval,
            eval_every, save_every, keep_checkpoints, eval_batch_size, log_every, out, init);
        if top.model.is_some() && top.model != self.model {
            // A different model: flags written for the old one do not carry over.
            base.model_flag.clear();
            if top.widths.is_none() {
                base.widths = None;
            }
        }
        base.model_flag.extend(top.model_flag.iter().cloned());
        if top.epochs.is_some() && top.steps.is_none() {
            base.steps = None;
        }
        if top.steps.is_some() && top.epochs.is_none() {
            base.epochs = None;
        }
        base
    }

    /// The settings that reproduce `config` (every field set).
    pub fn from_config(config: &TrainConfig) -> TrainSettings {
        let (momentum, nesterov, weight_decay) = match &config.optimizer {
            OptimizerConfig::Sgd(c) => (Some(c.momentum), Some(c.nesterov), c.weight_decay),
            OptimizerConfig::Adam(c) | OptimizerConfig::AdamW(c) => (None, None, c.weight_decay),
        };
        TrainSettings {
            model: Some(config.model.clone()),
            model_flag: config.model_flags.clone(),
            widths: None,
            dataset: Some(config.dataset.clone()),
            data_dir: config.data_dir.clone(),
            download: Some(config.download),
            normalize: Some(config.normalize.name().to_string()),
            epochs: config.epochs,
            steps: config.steps,
            batch_size: Some(config.batch_size),
            accum: Some(config.accum),
            optimizer: Some(config.optimizer.name().to_string()),
            lr: Some(config.lr),
            momentum,
            nesterov,
            weight_decay: Some(weight_decay),
            schedule: Some(config.schedule.clone()),
            clip: config.clip,
            seed: Some(config.seed),
            device: Some(config.device.name().to_string()),
            precision: Some(precision_name(config.precision).to_string()),
            dw: Some(dw_name(config.dw).to_string()),
            chip: Some(config.chip.clone()),
            ane_dialect: config.ane_dialect.clone(),
            loss_scale: Some(match config.loss_scale {
                None => "dynamic".to_string(),
                Some(s) => s.to_string(),
            }),
            loss_scale_growth_interval: Some(config.loss_scale_growth_interval),
            eval_every: config.eval_every,
            save_every: config.save_every,
            keep_checkpoints: Some(config.keep_checkpoints),
            eval_batch_size: Some(config.eval_batch_size),
            log_every: config.log_every,
            out: Some(config.out.clone()),
            init: config.init.clone(),
        }
    }
}

/// A resolved, validated configuration (stored in checkpoints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The model preset.
    pub model: String,
    /// Model flags as `key=value`.
    pub model_flags: Vec<String>,
    /// The dataset name.
    pub dataset: String,
    /// A user data directory, when given.
    pub data_dir: Option<PathBuf>,
    /// Whether downloading is allowed.
    pub download: bool,
    /// Input normalization.
    pub normalize: Normalize,
    /// Run length in epochs (exactly one of `epochs` and `steps` is set).
    pub epochs: Option<u64>,
    /// Run length in updates.
    pub steps: Option<u64>,
    /// Micro-batch size.
    pub batch_size: usize,
    /// Micro-batches per update.
    pub accum: u32,
    /// The optimizer and its hyper-parameters.
    pub optimizer: OptimizerConfig,
    /// Peak learning rate.
    pub lr: f64,
    /// The schedule in its canonical text form.
    pub schedule: String,
    /// Global-norm clipping threshold.
    pub clip: Option<f64>,
    /// The run's seed.
    pub seed: u64,
    /// Kernel precision.
    #[serde(with = "precision_serde")]
    pub precision: Precision,
    /// Where ANE kernels run.
    pub device: DeviceChoice,
    /// Where weight gradients run.
    #[serde(with = "dw_serde")]
    pub dw: DwPlacement,
    /// The chip planned for on the simulator (`m4`).
    pub chip: String,
    /// The MIL dialect forced on ANE kernels (`ios16`, `ios18`); `None` follows the chip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ane_dialect: Option<String>,
    /// A fixed loss scale, or `None` for dynamic scaling.
    pub loss_scale: Option<f32>,
    /// Finite steps before a dynamic scale grows.
    pub loss_scale_growth_interval: u32,
    /// Evaluate every N updates (`None`: at epoch ends).
    pub eval_every: Option<u64>,
    /// Checkpoint every N updates (`None`: at epoch ends).
    pub save_every: Option<u64>,
    /// Periodic checkpoints kept.
    pub keep_checkpoints: usize,
    /// Evaluation batch size.
    pub eval_batch_size: usize,
    /// Plain progress line interval (`None`: automatic).
    pub log_every: Option<u64>,
    /// The run directory.
    pub out: PathBuf,
    /// Initial weights.
    pub init: Option<PathBuf>,
}

/// Default number of epochs when neither `--epochs` nor `--steps` is given.
pub const DEFAULT_EPOCHS: u64 = 10;
/// Default micro-batch size.
pub const DEFAULT_BATCH_SIZE: usize = 64;
/// Default evaluation batch size.
pub const DEFAULT_EVAL_BATCH_SIZE: usize = 250;
/// Default number of periodic checkpoints kept.
pub const DEFAULT_KEEP_CHECKPOINTS: usize = 3;

impl TrainConfig {
    /// Resolves `settings` (already layered) into a checked configuration. `default_out` picks
    /// the run directory when `out` is not set.
    pub fn resolve(
        settings: &TrainSettings,
        default_out: impl FnOnce(&str, &str) -> PathBuf,
    ) -> Result<TrainConfig, TrainError> {
        let s = settings;
        let bad = |key: &str, value: &dyn std::fmt::Display, reason: &str| TrainError::Setting {
            key: key.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        };
        let model = s
            .model
            .clone()
            .unwrap_or_else(|| "mlp".into())
            .to_ascii_lowercase();
        let mut model_flags = s.model_flag.clone();
        if let Some(widths) = &s.widths {
            model_flags.push(format!("widths={widths}"));
        }
        let config_model = preset(&model, &model_flags)?;
        let dataset = s.dataset.clone().unwrap_or_else(|| "mnist-sample".into());
        dataset.parse::<DatasetName>()?;
        let normalize = match &s.normalize {
            None => Normalize::default(),
            Some(n) => n.parse().map_err(|e: String| bad("normalize", n, &e))?,
        };
        let (epochs, steps) = match (s.epochs, s.steps) {
            (Some(_), Some(_)) => {
                return Err(TrainError::Conflict(
                    "give --epochs or --steps, not both".into(),
                ))
            }
            (None, None) => (Some(DEFAULT_EPOCHS), None),
            (Some(0), _) => return Err(bad("epochs", &0, "must be at least 1")),
            (_, Some(0)) => return Err(bad("steps", &0, "must be at least 1")),
            other => other,
        };
        let batch_size = positive(s.batch_size.unwrap_or(DEFAULT_BATCH_SIZE), "batch-size")?;
        let accum = positive(s.accum.unwrap_or(1) as usize, "accum")? as u32;
        let optimizer_name = s.optimizer.clone().unwrap_or_else(|| "adam".into());
        let mut optimizer = OptimizerConfig::from_name(&optimizer_name)?;
        match &mut optimizer {
            OptimizerConfig::Sgd(c) => {
                c.momentum = s.momentum.unwrap_or(0.9);
                c.nesterov = s.nesterov.unwrap_or(false);
                if let Some(wd) = s.weight_decay {
                    c.weight_decay = wd;
                }
            }
            OptimizerConfig::Adam(c) | OptimizerConfig::AdamW(c) => {
                if s.momentum.is_some() || s.nesterov.is_some() {
                    return Err(TrainError::Conflict(format!(
                        "--momentum and --nesterov apply to sgd, not {}",
                        optimizer.name()
                    )));
                }
                if let Some(wd) = s.weight_decay {
                    c.weight_decay = wd;
                }
            }
        }
        optimizer.build()?;
        let default_lr = match optimizer {
            OptimizerConfig::Sgd(_) => 0.01,
            _ => 1e-3,
        };
        let lr = s.lr.unwrap_or(default_lr);
        if !(lr.is_finite() && lr > 0.0) {
            return Err(bad("lr", &lr, "must be a positive number"));
        }
        let schedule: ScheduleKind = s.schedule.as_deref().unwrap_or("constant").parse()?;
        if let Some(clip) = s.clip {
            if !(clip.is_finite() && clip > 0.0) {
                return Err(bad("clip", &clip, "must be a positive number"));
            }
        }
        let device = match &s.device {
            None => DeviceChoice::Auto,
            Some(d) => d.parse().map_err(|e: String| bad("device", d, &e))?,
        };
        let precision = match s.precision.as_deref().unwrap_or("fp16") {
            "fp16" => Precision::Fp16,
            "fp32" => Precision::Fp32,
            other => return Err(bad("precision", &other, "expected fp16 or fp32")),
        };
        let dw = match s.dw.as_deref().unwrap_or("ane") {
            "ane" => DwPlacement::Ane,
            "host" => DwPlacement::Host,
            other => return Err(bad("dw", &other, "expected ane or host")),
        };
        let chip = s
            .chip
            .clone()
            .unwrap_or_else(|| "m4".into())
            .to_ascii_lowercase();
        parse_chip(&chip)?;
        let ane_dialect = match &s.ane_dialect {
            None => None,
            Some(text) => {
                parse_dialect(text).map_err(|e| bad("ane-dialect", text, &e))?;
                Some(text.trim().to_ascii_lowercase())
            }
        };
        let loss_scale = match s.loss_scale.as_deref() {
            None | Some("dynamic") => None,
            Some(text) => match text.parse::<f32>() {
                Ok(x) if x.is_finite() && x > 0.0 => Some(x),
                _ => {
                    return Err(bad(
                        "loss-scale",
                        &text,
                        "expected `dynamic` or a positive number",
                    ))
                }
            },
        };
        let loss_scale_growth_interval = s.loss_scale_growth_interval.unwrap_or(2000);
        if loss_scale_growth_interval == 0 {
            return Err(bad("loss-scale-growth-interval", &0, "must be at least 1"));
        }
        for (key, value) in [("eval-every", s.eval_every), ("save-every", s.save_every)] {
            if value == Some(0) {
                return Err(bad(key, &0, "must be at least 1"));
            }
        }
        if s.log_every == Some(0) {
            return Err(bad("log-every", &0, "must be at least 1"));
        }
        let keep_checkpoints = positive(
            s.keep_checkpoints.unwrap_or(DEFAULT_KEEP_CHECKPOINTS),
            "keep-checkpoints",
        )?;
        let eval_batch_size = positive(
            s.eval_batch_size.unwrap_or(DEFAULT_EVAL_BATCH_SIZE),
            "eval-batch-size",
        )?;
        let out = match &s.out {
            Some(out) => out.clone(),
            None => default_out(config_model.name(), &dataset),
        };
        Ok(TrainConfig {
            model,
            model_flags,
            dataset,
            data_dir: s.data_dir.clone(),
            download: s.download.unwrap_or(true),
            normalize,
            epochs,
            steps,
            batch_size,
            accum,
            optimizer,
            lr,
            schedule: schedule.to_string(),
            clip: s.clip,
            seed: s.seed.unwrap_or(0),
            precision,
            device,
            dw,
            chip,
            ane_dialect,
            loss_scale,
            loss_scale_growth_interval,
            eval_every: s.eval_every,
            save_every: s.save_every,
            keep_checkpoints,
            eval_batch_size,
            log_every: s.log_every,
            out,
            init: s.init.clone(),
        })
    }

    /// The model preset with its flags applied.
    pub fn preset(&self) -> Result<Preset, TrainError> {
        preset(&self.model, &self.model_flags)
    }

    /// The dataset.
    pub fn dataset_name(&self) -> Result<DatasetName, TrainError> {
        Ok(self.dataset.parse()?)
    }

    /// The schedule shape.
    pub fn schedule_kind(&self) -> Result<ScheduleKind, TrainError> {
        Ok(self.schedule.parse()?)
    }

    /// The chip family planned for when no Neural Engine is used.
    pub fn chip_family(&self) -> Result<ChipFamily, TrainError> {
        parse_chip(&self.chip)
    }

    /// The MIL dialect forced by `--ane-dialect`, if any.
    pub fn dialect_override(&self) -> Result<Option<Dialect>, TrainError> {
        match &self.ane_dialect {
            None => Ok(None),
            Some(text) => parse_dialect(text)
                .map(Some)
                .map_err(|reason| TrainError::Setting {
                    key: "ane-dialect".into(),
                    value: text.clone(),
                    reason,
                }),
        }
    }

    /// Settings that must not change when a run is resumed (they change the model, the data
    /// stream or the numerics), as `(name, value)` text pairs.
    pub fn identity(&self) -> Vec<(&'static str, String)> {
        vec![
            ("model", self.model.clone()),
            ("model flags", self.model_flags.join(" ")),
            ("dataset", self.dataset.clone()),
            ("normalize", self.normalize.to_string()),
            ("batch-size", self.batch_size.to_string()),
            ("accum", self.accum.to_string()),
            ("optimizer", self.optimizer.name().to_string()),
            ("seed", self.seed.to_string()),
            ("precision", precision_name(self.precision).to_string()),
        ]
    }
}

/// `fp16` or `fp32`.
pub fn precision_name(p: Precision) -> &'static str {
    match p {
        Precision::Fp16 => "fp16",
        Precision::Fp32 => "fp32",
    }
}

/// `ane` or `host`.
pub fn dw_name(dw: DwPlacement) -> &'static str {
    match dw {
        DwPlacement::Ane => "ane",
        DwPlacement::Host => "host",
    }
}

/// `m1` … `m9` (case-insensitive) as a chip family.
pub fn parse_chip(text: &str) -> Result<ChipFamily, TrainError> {
    text.to_ascii_lowercase()
        .strip_prefix('m')
        .and_then(|n| n.parse::<u32>().ok())
        .and_then(ChipFamily::from_generation)
        .ok_or_else(|| TrainError::Setting {
            key: "chip".into(),
            value: text.into(),
            reason: "expected m1, m2, m3, m4 or m5".into(),
        })
}

/// The preset `name` with `key=value` flags.
pub fn preset(name: &str, flags: &[String]) -> Result<Preset, TrainError> {
    let flags = PresetFlags::parse(flags.iter().map(String::as_str))?;
    Ok(Preset::from_name_and_flags(name, &flags)?)
}

fn positive(value: usize, key: &str) -> Result<usize, TrainError> {
    if value == 0 {
        Err(TrainError::Setting {
            key: key.into(),
            value: "0".into(),
            reason: "must be at least 1".into(),
        })
    } else {
        Ok(value)
    }
}

mod precision_serde {
    use super::{precision_name, Precision};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Precision, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(precision_name(*p))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Precision, D::Error> {
        match String::deserialize(d)?.as_str() {
            "fp16" => Ok(Precision::Fp16),
            "fp32" => Ok(Precision::Fp32),
            other => Err(serde::de::Error::custom(format!(
                "unknown precision `{other}`"
            ))),
        }
    }
}

mod dw_serde {
    use super::{dw_name, DwPlacement};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(dw: &DwPlacement, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(dw_name(*dw))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DwPlacement, D::Error> {
        match String::deserialize(d)?.as_str() {
            "ane" => Ok(DwPlacement::Ane),
            "host" => Ok(DwPlacement::Host),
            other => Err(serde::de::Error::custom(format!(
                "unknown dW placement `{other}`"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(s: &TrainSettings) -> Result<TrainConfig, TrainError> {
        TrainConfig::resolve(s, |m, d| PathBuf::from(format!("runs/{m}-{d}")))
    }

    #[test]
    fn defaults() {
        let c = resolve(&TrainSettings::default()).unwrap();
        assert_eq!(c.model, "mlp");
        assert_eq!(c.dataset, "mnist-sample");
        assert_eq!(c.epochs, Some(DEFAULT_EPOCHS));
        assert_eq!(c.optimizer.name(), "adam");
        assert_eq!(c.lr, 1e-3);
        assert_eq!(c.precision, Precision::Fp16);
        assert_eq!(c.out, PathBuf::from("runs/mlp-mnist-sample"));
        assert_eq!(c.loss_scale, None);
        let sgd = resolve(&TrainSettings {
            optimizer: Some("sgd".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(sgd.lr, 0.01);
    }

    #[test]
    fn file_then_flags() {
        let file = TrainSettings::from_toml_str(
            "model = \"cnn\"\nbatch_size = 32\nlr = 0.5\nsteps = 7\n[model-flag]\nchannels = [8, 16]\n",
        )
        .unwrap();
        assert_eq!(file.model_flag, ["channels=8,16"]);
        let flags = TrainSettings {
            lr: Some(0.25),
            epochs: Some(2),
            ..Default::default()
        };
        let c = resolve(&file.overlay(&flags)).unwrap();
        assert_eq!((c.model.as_str(), c.batch_size, c.lr), ("cnn", 32, 0.25));
        assert_eq!(
            (c.epochs, c.steps),
            (Some(2), None),
            "flags replace the run length"
        );
        assert_eq!(c.model_flags, ["channels=8,16"]);
    }

    #[test]
    fn round_trips_through_settings_and_json() {
        let c = resolve(&TrainSettings {
            optimizer: Some("sgd".into()),
            nesterov: Some(true),
            schedule: Some("cosine:10".into()),
            loss_scale: Some("1024".into()),
            widths: Some("784,32,10".into()),
            steps: Some(50),
            ..Default::default()
        })
        .unwrap();
        let again = resolve(&TrainSettings::from_config(&c)).unwrap();
        assert_eq!(again, c);
        let json = serde_json::to_value(&c).unwrap();
        let back: TrainConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
        let toml_text = toml::to_string(&TrainSettings::from_config(&c)).unwrap();
        let from_file = TrainSettings::from_toml_str(&toml_text).unwrap();
        assert_eq!(resolve(&from_file).unwrap(), c);
    }

    #[test]
    fn bad_settings_are_named() {
        let cases: [(TrainSettings, &str); 10] = [
            (
                TrainSettings {
                    model: Some("resnet".into()),
                    ..Default::default()
                },
                "resnet",
            ),
            (
                TrainSettings {
                    optimizer: Some("lamb".into()),
                    ..Default::default()
                },
                "lamb",
            ),
            (
                TrainSettings {
                    dataset: Some("cifar".into()),
                    ..Default::default()
                },
                "cifar",
            ),
            (
                TrainSettings {
                    schedule: Some("cosine:x".into()),
                    ..Default::default()
                },
                "WARMUP",
            ),
            (
                TrainSettings {
                    batch_size: Some(0),
                    ..Default::default()
                },
                "batch-size",
            ),
            (
                TrainSettings {
                    lr: Some(-1.0),
                    ..Default::default()
                },
                "lr",
            ),
            (
                TrainSettings {
                    precision: Some("bf16".into()),
                    ..Default::default()
                },
                "bf16",
            ),
            (
                TrainSettings {
                    epochs: Some(1),
                    steps: Some(1),
                    ..Default::default()
                },
                "not both",
            ),
            (
                TrainSettings {
                    chip: Some("a17".into()),
                    ..Default::default()
                },
                "chip",
            ),
            (
                TrainSettings {
                    ane_dialect: Some("ios17".into()),
                    ..Default::default()
                },
                "ane-dialect",
            ),
        ];
        for (settings, needle) in cases {
            let err = resolve(&settings).unwrap_err().to_string();
            assert!(err.contains(needle), "{err:?} should mention {needle:?}");
        }
        let err = TrainSettings::from_toml_str("batch-sise = 3").unwrap_err();
        assert!(err.contains("batch-sise"), "{err}");
    }

    #[test]
    fn ane_dialect_overrides_the_planned_chips_dialect() {
        use crate::executor::Devices;
        let devices = Devices::simulator("test".into());
        let plain = resolve(&TrainSettings::default()).unwrap();
        assert_eq!(plain.dialect_override().unwrap(), None);
        let options = super::super::setup::plan_options(&plain, &devices).unwrap();
        assert_eq!(options.chip.dialect, Dialect::Ios18, "m4 takes ios18");
        let forced = resolve(&TrainSettings {
            ane_dialect: Some("IOS16".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(forced.ane_dialect.as_deref(), Some("ios16"));
        let options = super::super::setup::plan_options(&forced, &devices).unwrap();
        assert_eq!(options.chip.dialect, Dialect::Ios16);
        // The override survives the config file round trip.
        let toml_text = toml::to_string(&TrainSettings::from_config(&forced)).unwrap();
        assert!(toml_text.contains("ane-dialect = \"ios16\""), "{toml_text}");
    }
}
