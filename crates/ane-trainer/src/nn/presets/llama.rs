//! The `llama` preset and the named shapes: a [`LlamaConfig`] from a base shape plus flags.
//!
//! Rules where flags interact, chosen to match llama2.c's `train.py`/`model.py` behaviour:
//! - `hidden_dim` not given but `dim` or `multiple_of` given → recomputed with
//!   [`llama2c_hidden_dim`] (so `dim=64` alone does not keep the base shape's 768);
//! - `n_heads` given without `n_kv_heads` → plain multi-head attention (`n_kv_heads = n_heads`),
//!   as llama2.c's `ModelArgs` defaults `n_kv_heads` to `n_heads`.

use super::flags::PresetFlags;
use crate::nn::error::NnError;
use crate::nn::llama::{llama2c_hidden_dim, LlamaConfig};

/// Flags the llama presets accept.
pub const LLAMA_FLAGS: [&str; 11] = [
    "dim",
    "n_layers",
    "n_heads",
    "n_kv_heads",
    "hidden_dim",
    "multiple_of",
    "vocab_size",
    "seq_len",
    "norm_eps",
    "dropout",
    "tied",
];

/// The configuration of the llama preset `shape` (a named shape; `llama` means `stories15m`,
/// llama2.c's `train.py` defaults) with `flags` applied, validated.
pub fn llama_config(shape: &str, flags: &PresetFlags) -> Result<LlamaConfig, NnError> {
    let base_name = if shape == "llama" {
        "stories15m"
    } else {
        shape
    };
    let mut c = LlamaConfig::named(base_name).ok_or_else(|| NnError::UnknownPreset {
        name: shape.into(),
        known: super::PRESET_NAMES.join(", "),
    })?;
    flags.only(shape, &LLAMA_FLAGS)?;
    if let Some(v) = flags.dim {
        c.dim = v;
    }
    if let Some(v) = flags.n_layers {
        c.n_layers = v;
    }
    if let Some(v) = flags.n_heads {
        c.n_heads = v;
        c.n_kv_heads = v;
    }
    if let Some(v) = flags.n_kv_heads {
        c.n_kv_heads = v;
    }
    match flags.hidden_dim {
        Some(v) => c.hidden_dim = v,
        None if flags.dim.is_some() || flags.multiple_of.is_some() => {
            let multiple_of = flags
                .multiple_of
                .unwrap_or_else(|| LlamaConfig::multiple_of_for(base_name));
            c.hidden_dim = llama2c_hidden_dim(c.dim, multiple_of);
        }
        None => {}
    }
    if let Some(v) = flags.vocab_size {
        c.vocab_size = v;
    }
    if let Some(v) = flags.seq_len {
        c.seq_len = v;
    }
    if let Some(v) = flags.norm_eps {
        c.norm_eps = v;
    }
    if let Some(v) = flags.dropout {
        c.dropout = v;
    }
    if let Some(v) = flags.tied {
        c.tied_classifier = v;
    }
    c.validate()?;
    Ok(c)
}
