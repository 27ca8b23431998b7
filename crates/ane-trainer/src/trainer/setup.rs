//! What `train`, `eval` and `bench` share: loading the dataset a configuration names, building
//! its model, checking the two fit, opening devices and choosing plan options.

use super::config::TrainConfig;
use super::error::TrainError;
use crate::data::{load_dataset, ImageDataset, LoadOptions};
use crate::executor::Devices;
use crate::nn::{InputSpec, Model, Preset};
use ane_compiler::plan::PlanOptions;

/// Loads the configured dataset: `--data-dir` if given, else the embedded sample, a system
/// package, the cache, or (when allowed) a download.
pub fn load_data(config: &TrainConfig) -> Result<ImageDataset, TrainError> {
    let options = LoadOptions {
        data_dir: config.data_dir.clone(),
        download: config.download,
        ..LoadOptions::default()
    };
    Ok(load_dataset(config.dataset_name()?, &options)?)
}

/// The configured preset and its model.
pub fn build_model(config: &TrainConfig) -> Result<(Preset, Model), TrainError> {
    let preset = config.preset()?;
    let model = preset.model()?;
    Ok((preset, model))
}

/// Fails unless `model` reads one of `dataset`'s images per example and has an output per class.
pub fn check_fits(
    preset: &Preset,
    model: &Model,
    dataset: &ImageDataset,
) -> Result<(), TrainError> {
    let fail = |reason: String| TrainError::ModelData {
        model: preset.name().to_string(),
        dataset: dataset.name().to_string(),
        reason,
    };
    let (h, w) = (dataset.height(), dataset.width());
    match model.input_spec() {
        InputSpec::Tokens { .. } => {
            return Err(fail(
                "it reads token ids, and image datasets hold pixels (train language models through the library API)"
                    .into(),
            ))
        }
        InputSpec::Dense { shape, .. } => {
            let fits = match shape.as_slice() {
                [n] => *n == h * w,
                [1, mh, mw] => (*mh, *mw) == (h, w),
                _ => false,
            };
            if !fits {
                return Err(fail(format!(
                    "it reads inputs of shape {shape:?}, the images are 1×{h}×{w} (flattened: {}); \
                     adjust the model flags (e.g. --widths {},…)",
                    h * w,
                    h * w
                )));
            }
        }
    }
    let outputs = match preset {
        Preset::Mlp(c) => c.widths.last().copied().unwrap_or(0),
        Preset::Cnn(c) => c.num_classes,
        Preset::Llama { .. } => 0,
    };
    if outputs < dataset.num_classes() {
        return Err(fail(format!(
            "it has {outputs} outputs for {} classes",
            dataset.num_classes()
        )));
    }
    Ok(())
}

/// Opens the configured devices (the Neural Engine printing the `--ane-dialect` dialect when
/// one is forced).
pub fn open_devices(config: &TrainConfig) -> Result<Devices, TrainError> {
    Ok(Devices::open(config.device, config.dialect_override()?)?)
}

/// Plan options: the Neural Engine's own chip and dialect when it is used, else the configured
/// chip; `--ane-dialect` overrides the dialect either way.
pub fn plan_options(config: &TrainConfig, devices: &Devices) -> Result<PlanOptions, TrainError> {
    let chip = match devices.chip() {
        Some(chip) => chip,
        None => config.chip_family()?,
    };
    let mut options = PlanOptions::new(chip)
        .with_precision(config.precision)
        .with_dw(config.dw);
    if let Some(dialect) = config.dialect_override()?.or(devices.dialect()) {
        options.chip.dialect = dialect;
    }
    Ok(options)
}
