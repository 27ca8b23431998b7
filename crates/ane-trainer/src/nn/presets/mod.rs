//! Model presets selectable by name for the CLI: `mlp`, `cnn`, `llama` and the Stories shapes
//! (`stories260k`, `stories15m`, `stories42m`, `stories110m`), each adjustable with
//! [`PresetFlags`].
//!
//! ```
//! use ane_trainer::nn::{Preset, PresetFlags};
//! let flags = PresetFlags::parse(["dim=64", "n_layers=2", "n_heads=4"]).unwrap();
//! let model = Preset::from_name_and_flags("llama", &flags).unwrap().model().unwrap();
//! assert!(model.param_specs().iter().any(|p| p.name == "layers.1.attention.wo.weight"));
//! ```

mod cnn;
mod flags;
mod llama;
mod mlp;

pub use cnn::CnnConfig;
pub use flags::{PresetFlags, FLAG_NAMES};
pub use llama::{llama_config, LLAMA_FLAGS};
pub use mlp::MlpConfig;

use super::error::NnError;
use super::llama::{Llama, LlamaConfig, LLAMA_SHAPE_NAMES};
use super::model::{Loss, Model};

/// Every preset name [`Preset::from_name_and_flags`] accepts.
pub const PRESET_NAMES: [&str; 7] = [
    "mlp",
    "cnn",
    "llama",
    "stories260k",
    "stories15m",
    "stories42m",
    "stories110m",
];

/// Flags the `mlp` preset accepts.
pub const MLP_FLAGS: [&str; 1] = ["widths"];
/// Flags the `cnn` preset accepts.
pub const CNN_FLAGS: [&str; 3] = ["input", "channels", "num_classes"];

/// A chosen preset with its final configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum Preset {
    /// Multi-layer perceptron.
    Mlp(MlpConfig),
    /// Small convolutional classifier.
    Cnn(CnnConfig),
    /// Llama-style decoder.
    Llama {
        /// The name it was selected by (`llama`, `stories110m`, …).
        name: String,
        /// Its configuration after flags.
        config: LlamaConfig,
    },
}

impl Preset {
    /// The preset called `name` (case-insensitive) with `flags` applied and validated. Unknown
    /// names, flags the preset does not have and impossible sizes are errors that say which.
    pub fn from_name_and_flags(name: &str, flags: &PresetFlags) -> Result<Preset, NnError> {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "mlp" => {
                flags.only("mlp", &MLP_FLAGS)?;
                let mut config = MlpConfig::default();
                if let Some(widths) = &flags.widths {
                    config.widths = widths.clone();
                }
                config.validate()?;
                Ok(Preset::Mlp(config))
            }
            "cnn" => {
                flags.only("cnn", &CNN_FLAGS)?;
                let mut config = CnnConfig::default();
                if let Some(input) = flags.input {
                    config.input = input;
                }
                if let Some(channels) = &flags.channels {
                    config.channels = channels.clone();
                }
                if let Some(classes) = flags.num_classes {
                    config.num_classes = classes;
                }
                config.validate()?;
                Ok(Preset::Cnn(config))
            }
            shape if shape == "llama" || LLAMA_SHAPE_NAMES.contains(&shape) => Ok(Preset::Llama {
                name: shape.to_string(),
                config: llama_config(shape, flags)?,
            }),
            _ => Err(NnError::UnknownPreset {
                name: name.into(),
                known: PRESET_NAMES.join(", "),
            }),
        }
    }

    /// The preset's name.
    pub fn name(&self) -> &str {
        match self {
            Preset::Mlp(_) => "mlp",
            Preset::Cnn(_) => "cnn",
            Preset::Llama { name, .. } => name,
        }
    }

    /// The flags this preset accepts.
    pub fn applicable_flags(&self) -> &'static [&'static str] {
        match self {
            Preset::Mlp(_) => &MLP_FLAGS,
            Preset::Cnn(_) => &CNN_FLAGS,
            Preset::Llama { .. } => &LLAMA_FLAGS,
        }
    }

    /// The loss the preset trains with (softmax cross-entropy for all three).
    pub fn default_loss(&self) -> Loss {
        Loss::CrossEntropy
    }

    /// The model (module tree, input specification, declared parameters).
    pub fn model(&self) -> Result<Model, NnError> {
        match self {
            Preset::Mlp(c) => c.model(),
            Preset::Cnn(c) => c.model(),
            Preset::Llama { config, .. } => Llama::model(*config),
        }
    }
}
