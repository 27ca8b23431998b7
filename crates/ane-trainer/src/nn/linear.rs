//! `Linear`: `y = x·Wᵀ + b` with `W: [out, in]` (PyTorch layout) and optional `b: [out]`.
//! Default initialization as `torch.nn.Linear`: both U(−1/√in, 1/√in) (see [`Init`]).

use super::error::NnError;
use super::init::Init;
use super::module::{Ctx, InModule, Module, ParamSpec};
use ane_compiler::{Graph, ValueId};

/// A fully connected layer on the last axis of `[..., in]`, giving `[..., out]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// Input features.
    pub in_features: usize,
    /// Output features.
    pub out_features: usize,
    /// Whether there is a bias `[out]`.
    pub bias: bool,
    /// Initializer of `weight` (default U(−1/√in, 1/√in)).
    pub weight_init: Init,
    /// Initializer of `bias` (default U(−1/√in, 1/√in)).
    pub bias_init: Init,
}

impl Linear {
    /// `torch.nn.Linear(in_features, out_features)`: with bias, PyTorch's default init.
    pub fn new(in_features: usize, out_features: usize) -> Self {
        let init = Init::pytorch_default(in_features);
        Linear {
            in_features,
            out_features,
            bias: true,
            weight_init: init,
            bias_init: init,
        }
    }

    /// Without a bias (`bias=False`).
    pub fn no_bias(mut self) -> Self {
        self.bias = false;
        self
    }

    /// With another weight initializer.
    pub fn with_weight_init(mut self, init: Init) -> Self {
        self.weight_init = init;
        self
    }

    /// With another bias initializer.
    pub fn with_bias_init(mut self, init: Init) -> Self {
        self.bias_init = init;
        self
    }

    /// The weight shape `[out, in]`.
    pub fn weight_shape(&self) -> [usize; 2] {
        [self.out_features, self.in_features]
    }
}

impl Module for Linear {
    fn declare_params(&self, ctx: &Ctx, params: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        if self.in_features == 0 || self.out_features == 0 {
            return Err(ctx.bad_module(format!(
                "Linear({} → {}) needs non-zero feature counts",
                self.in_features, self.out_features
            )));
        }
        params.push(ctx.spec("weight", self.weight_shape().to_vec(), self.weight_init));
        if self.bias {
            params.push(ctx.spec("bias", vec![self.out_features], self.bias_init));
        }
        Ok(())
    }

    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        let w = ctx.param(g, "weight", &self.weight_shape())?;
        let b = if self.bias {
            Some(ctx.param(g, "bias", &[self.out_features])?)
        } else {
            None
        };
        g.linear(x, w, b).in_module(ctx)
    }
}
