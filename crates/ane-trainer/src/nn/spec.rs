//! A module tree as data: [`ModuleSpec`] describes a model built from the standard layers with
//! PyTorch's constructor arguments (`{"type": "Linear", "in_features": 784, "out_features":
//! 256}`), serializes to JSON, and builds the module. The Python package builds its models this
//! way, and a saved custom model records its spec so it can be rebuilt without its source.

use super::{
    AvgPool2d, Conv2d, Dropout, Embedding, Flatten, Gelu, LayerNorm, Linear, MaxPool2d, Module,
    NnError, Relu, RmsNorm, Sequential, Sigmoid, Silu, Tanh,
};
use ane_compiler::GeluApprox;
use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

fn one() -> usize {
    1
}

/// One module of a tree, with the arguments of its PyTorch namesake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum ModuleSpec {
    /// `torch.nn.Linear(in_features, out_features, bias=True)`.
    Linear {
        /// Input features.
        in_features: usize,
        /// Output features.
        out_features: usize,
        /// Whether it adds a bias.
        #[serde(default = "yes")]
        bias: bool,
    },
    /// `torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True)`.
    Conv2d {
        /// Input channels.
        in_channels: usize,
        /// Output channels.
        out_channels: usize,
        /// Square kernel side.
        kernel_size: usize,
        /// Stride.
        #[serde(default = "one")]
        stride: usize,
        /// Zero padding on every side.
        #[serde(default)]
        padding: usize,
        /// Whether it adds a bias.
        #[serde(default = "yes")]
        bias: bool,
    },
    /// `torch.nn.ReLU()`.
    ReLU,
    /// `torch.nn.GELU(approximate="none")`; `"tanh"` for the tanh approximation.
    GELU {
        /// `none` or `tanh`.
        #[serde(default)]
        approximate: Option<String>,
    },
    /// `torch.nn.SiLU()`.
    SiLU,
    /// `torch.nn.Sigmoid()`.
    Sigmoid,
    /// `torch.nn.Tanh()`.
    Tanh,
    /// `torch.nn.LayerNorm(normalized_shape, eps=1e-5)` over the last axis.
    LayerNorm {
        /// Size of the last axis.
        normalized_shape: usize,
        /// Added to the variance.
        #[serde(default)]
        eps: Option<f32>,
    },
    /// `torch.nn.RMSNorm(normalized_shape, eps)` over the last axis.
    RMSNorm {
        /// Size of the last axis.
        normalized_shape: usize,
        /// Added to the mean square.
        #[serde(default)]
        eps: Option<f32>,
    },
    /// `torch.nn.Dropout(p=0.5)`.
    Dropout {
        /// Drop probability.
        p: f32,
    },
    /// `torch.nn.Embedding(num_embeddings, embedding_dim)`.
    Embedding {
        /// Table rows.
        num_embeddings: usize,
        /// Row width.
        embedding_dim: usize,
    },
    /// `torch.nn.MaxPool2d(kernel_size, stride=kernel_size, padding=0)`.
    MaxPool2d {
        /// Window side.
        kernel_size: usize,
        /// Stride (the window side by default).
        #[serde(default)]
        stride: Option<usize>,
        /// Padding.
        #[serde(default)]
        padding: usize,
    },
    /// `torch.nn.AvgPool2d(kernel_size, stride=kernel_size, padding=0)`.
    AvgPool2d {
        /// Window side.
        kernel_size: usize,
        /// Stride (the window side by default).
        #[serde(default)]
        stride: Option<usize>,
        /// Padding.
        #[serde(default)]
        padding: usize,
    },
    /// `torch.nn.Flatten()`.
    Flatten,
    /// `torch.nn.Sequential(*children)`: children named `0`, `1`, ….
    Sequential {
        /// The children in order.
        children: Vec<ModuleSpec>,
    },
}

impl ModuleSpec {
    /// Parses a JSON module tree; the error names what is wrong.
    pub fn from_json(text: &str) -> Result<ModuleSpec, NnError> {
        serde_json::from_str(text).map_err(|e| NnError::BadModule {
            module: "spec".into(),
            message: format!("not a module tree: {e}"),
        })
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("module specs serialize")
    }

    /// The module this spec describes.
    pub fn build(&self) -> Result<Box<dyn Module>, NnError> {
        let bad = |module: &str, message: String| NnError::BadModule {
            module: module.into(),
            message,
        };
        Ok(match self {
            ModuleSpec::Linear {
                in_features,
                out_features,
                bias,
            } => {
                let l = Linear::new(*in_features, *out_features);
                Box::new(if *bias { l } else { l.no_bias() })
            }
            ModuleSpec::Conv2d {
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                bias,
            } => {
                let c = Conv2d::new(*in_channels, *out_channels, *kernel_size)
                    .stride(*stride)
                    .padding(*padding);
                Box::new(if *bias { c } else { c.no_bias() })
            }
            ModuleSpec::ReLU => Box::new(Relu),
            ModuleSpec::GELU { approximate } => {
                let approximate = match approximate.as_deref().unwrap_or("none") {
                    "none" => GeluApprox::Exact,
                    "tanh" => GeluApprox::Tanh,
                    other => {
                        return Err(bad(
                            "GELU",
                            format!("approximate must be \"none\" or \"tanh\", got {other:?}"),
                        ))
                    }
                };
                Box::new(Gelu { approximate })
            }
            ModuleSpec::SiLU => Box::new(Silu),
            ModuleSpec::Sigmoid => Box::new(Sigmoid),
            ModuleSpec::Tanh => Box::new(Tanh),
            ModuleSpec::LayerNorm {
                normalized_shape,
                eps,
            } => {
                let mut n = LayerNorm::new(*normalized_shape);
                if let Some(eps) = eps {
                    n.eps = *eps;
                }
                Box::new(n)
            }
            ModuleSpec::RMSNorm {
                normalized_shape,
                eps,
            } => {
                let mut n = RmsNorm::new(*normalized_shape);
                if let Some(eps) = eps {
                    n.eps = *eps;
                }
                Box::new(n)
            }
            ModuleSpec::Dropout { p } => Box::new(Dropout::new(*p)),
            ModuleSpec::Embedding {
                num_embeddings,
                embedding_dim,
            } => Box::new(Embedding::new(*num_embeddings, *embedding_dim)),
            ModuleSpec::MaxPool2d {
                kernel_size,
                stride,
                padding,
            } => Box::new(
                MaxPool2d::new(*kernel_size)
                    .stride(stride.unwrap_or(*kernel_size))
                    .padding(*padding),
            ),
            ModuleSpec::AvgPool2d {
                kernel_size,
                stride,
                padding,
            } => Box::new(
                AvgPool2d::new(*kernel_size)
                    .stride(stride.unwrap_or(*kernel_size))
                    .padding(*padding),
            ),
            ModuleSpec::Flatten => Box::new(Flatten),
            ModuleSpec::Sequential { children } => {
                let mut s = Sequential::new();
                for child in children {
                    s.push_boxed(child.build()?);
                }
                Box::new(s)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{InputSpec, Model};

    #[test]
    fn a_json_tree_builds_a_model_with_torch_names() {
        let spec = ModuleSpec::from_json(
            r#"{"type": "Sequential", "children": [
                {"type": "Linear", "in_features": 784, "out_features": 32},
                {"type": "LayerNorm", "normalized_shape": 32},
                {"type": "GELU"},
                {"type": "Dropout", "p": 0.1},
                {"type": "Linear", "in_features": 32, "out_features": 10, "bias": false}
            ]}"#,
        )
        .unwrap();
        let model = Model::from_boxed(spec.build().unwrap(), InputSpec::images(&[784])).unwrap();
        let names: Vec<&str> = model
            .param_specs()
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["0.weight", "0.bias", "1.weight", "1.bias", "4.weight"]
        );
        assert_eq!(ModuleSpec::from_json(&spec.to_json()).unwrap(), spec);
    }

    #[test]
    fn bad_trees_are_clear_errors() {
        let err = ModuleSpec::from_json(r#"{"type": "Linear", "in_features": 3}"#).unwrap_err();
        assert!(err.to_string().contains("out_features"), "{err}");
        let err = ModuleSpec::from_json(r#"{"type": "Lstm"}"#).unwrap_err();
        assert!(err.to_string().contains("Lstm"), "{err}");
        let gelu = ModuleSpec::GELU {
            approximate: Some("fast".into()),
        };
        assert!(gelu.build().unwrap_err().to_string().contains("fast"));
    }
}
