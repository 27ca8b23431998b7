//! `PresetFlags`: the size settings a user can give on the command line (`--model-flag dim=64`
//! or typed clap options), each optional, parsed with clear errors.

use crate::nn::error::NnError;

/// Every flag name, in the order they are listed in messages.
pub const FLAG_NAMES: [&str; 15] = [
    "widths",
    "input",
    "channels",
    "num_classes",
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

/// Optional overrides of a preset's sizes. Unset fields keep the preset's defaults; setting a
/// field the chosen preset does not have is an error
/// ([`NnError::FlagNotApplicable`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PresetFlags {
    /// mlp: all widths, input first (`784,256,10`).
    pub widths: Option<Vec<usize>>,
    /// cnn: one example's `[channels, height, width]` (`3,32,32`).
    pub input: Option<[usize; 3]>,
    /// cnn: output channels of each conv stage (`16,32`).
    pub channels: Option<Vec<usize>>,
    /// cnn: number of classes.
    pub num_classes: Option<usize>,
    /// llama: model width.
    pub dim: Option<usize>,
    /// llama: number of blocks.
    pub n_layers: Option<usize>,
    /// llama: query heads (also sets `n_kv_heads` unless that is given).
    pub n_heads: Option<usize>,
    /// llama: key/value heads.
    pub n_kv_heads: Option<usize>,
    /// llama: feed-forward width (default: derived from `dim` and `multiple_of` when `dim` is
    /// changed, as llama2.c does).
    pub hidden_dim: Option<usize>,
    /// llama: rounding of the derived `hidden_dim`.
    pub multiple_of: Option<usize>,
    /// llama: vocabulary size.
    pub vocab_size: Option<usize>,
    /// llama: tokens per sequence.
    pub seq_len: Option<usize>,
    /// llama: RMSNorm epsilon.
    pub norm_eps: Option<f32>,
    /// llama: dropout probability.
    pub dropout: Option<f32>,
    /// llama: classifier tied to the embedding.
    pub tied: Option<bool>,
}

impl PresetFlags {
    /// Flags from `key=value` assignments (`["dim=64", "n_layers=2"]`).
    pub fn parse<'a>(assignments: impl IntoIterator<Item = &'a str>) -> Result<Self, NnError> {
        let mut flags = PresetFlags::default();
        for a in assignments {
            let (key, value) = a.split_once('=').ok_or_else(|| NnError::BadFlagValue {
                flag: a.to_string(),
                value: String::new(),
                reason: "expected key=value".into(),
            })?;
            flags.set(key.trim(), value.trim())?;
        }
        Ok(flags)
    }

    /// Sets the flag `key` (dashes and underscores are interchangeable) from its text `value`.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), NnError> {
        let canonical = key.replace('-', "_").to_ascii_lowercase();
        let flag = canonical.as_str();
        match flag {
            "widths" => self.widths = Some(parse_list(flag, value)?),
            "input" => {
                let dims = parse_list(flag, value)?;
                let [c, h, w] = dims[..] else {
                    return Err(bad_value(flag, value, "expected channels,height,width"));
                };
                self.input = Some([c, h, w]);
            }
            "channels" => self.channels = Some(parse_list(flag, value)?),
            "num_classes" => self.num_classes = Some(parse_count(flag, value)?),
            "dim" => self.dim = Some(parse_count(flag, value)?),
            "n_layers" => self.n_layers = Some(parse_count(flag, value)?),
            "n_heads" => self.n_heads = Some(parse_count(flag, value)?),
            "n_kv_heads" => self.n_kv_heads = Some(parse_count(flag, value)?),
            "hidden_dim" => self.hidden_dim = Some(parse_count(flag, value)?),
            "multiple_of" => self.multiple_of = Some(parse_count(flag, value)?),
            "vocab_size" => self.vocab_size = Some(parse_count(flag, value)?),
            "seq_len" => self.seq_len = Some(parse_count(flag, value)?),
            "norm_eps" => self.norm_eps = Some(parse_float(flag, value)?),
            "dropout" => self.dropout = Some(parse_float(flag, value)?),
            "tied" => {
                self.tied = Some(match value.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" => true,
                    "false" | "no" | "0" => false,
                    _ => return Err(bad_value(flag, value, "expected true or false")),
                })
            }
            _ => {
                return Err(NnError::UnknownFlag {
                    flag: key.to_string(),
                    known: FLAG_NAMES.join(", "),
                })
            }
        }
        Ok(())
    }

    /// The names of the flags that are set, in [`FLAG_NAMES`] order.
    pub fn set_names(&self) -> Vec<&'static str> {
        let set = [
            self.widths.is_some(),
            self.input.is_some(),
            self.channels.is_some(),
            self.num_classes.is_some(),
            self.dim.is_some(),
            self.n_layers.is_some(),
            self.n_heads.is_some(),
            self.n_kv_heads.is_some(),
            self.hidden_dim.is_some(),
            self.multiple_of.is_some(),
            self.vocab_size.is_some(),
            self.seq_len.is_some(),
            self.norm_eps.is_some(),
            self.dropout.is_some(),
            self.tied.is_some(),
        ];
        FLAG_NAMES
            .iter()
            .zip(set)
            .filter_map(|(&name, is_set)| is_set.then_some(name))
            .collect()
    }

    /// Errors on the first set flag outside `applicable`.
    pub(crate) fn only(&self, preset: &str, applicable: &[&str]) -> Result<(), NnError> {
        match self
            .set_names()
            .into_iter()
            .find(|f| !applicable.contains(f))
        {
            Some(flag) => Err(NnError::FlagNotApplicable {
                flag: flag.into(),
                preset: preset.into(),
                applicable: applicable.join(", "),
            }),
            None => Ok(()),
        }
    }
}

fn bad_value(flag: &str, value: &str, reason: &str) -> NnError {
    NnError::BadFlagValue {
        flag: flag.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

fn parse_count(flag: &str, value: &str) -> Result<usize, NnError> {
    match value.parse::<usize>() {
        Ok(0) => Err(bad_value(flag, value, "must be at least 1")),
        Ok(n) => Ok(n),
        Err(_) => Err(bad_value(flag, value, "expected a positive integer")),
    }
}

fn parse_list(flag: &str, value: &str) -> Result<Vec<usize>, NnError> {
    value
        .split(',')
        .map(|part| {
            parse_count(flag, part.trim())
                .map_err(|_| bad_value(flag, value, "expected comma-separated positive integers"))
        })
        .collect()
}

fn parse_float(flag: &str, value: &str) -> Result<f32, NnError> {
    match value.parse::<f32>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(bad_value(flag, value, "expected a finite number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_assignments_and_rejects_bad_ones() {
        let f = PresetFlags::parse(["dim=64", "n-layers=2", "widths=784,128,10", "tied=false"])
            .unwrap();
        assert_eq!(f.dim, Some(64));
        assert_eq!(f.n_layers, Some(2));
        assert_eq!(f.widths, Some(vec![784, 128, 10]));
        assert_eq!(f.tied, Some(false));
        assert_eq!(f.set_names(), ["widths", "dim", "n_layers", "tied"]);

        let e = PresetFlags::parse(["dims=4"]).unwrap_err();
        assert!(matches!(e, NnError::UnknownFlag { .. }), "{e}");
        let e = PresetFlags::parse(["dim=0"]).unwrap_err().to_string();
        assert!(e.contains("at least 1"), "{e}");
        let e = PresetFlags::parse(["dim=-3"]).unwrap_err().to_string();
        assert!(e.contains("positive integer"), "{e}");
        let e = PresetFlags::parse(["widths=784,,10"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("comma-separated"), "{e}");
        let e = PresetFlags::parse(["input=28,28"]).unwrap_err().to_string();
        assert!(e.contains("channels,height,width"), "{e}");
        assert!(PresetFlags::parse(["dim"]).is_err());
        assert!(PresetFlags::parse(["dropout=nan"]).is_err());
    }
}
