//! `LayerNorm` and `RmsNorm` over the last axis, weights initialized to 1 and biases to 0 as in
//! PyTorch (`torch.nn.LayerNorm`, `torch.nn.RMSNorm`, llama2.c's `RMSNorm`).

use super::error::NnError;
use super::init::Init;
use super::module::{Ctx, InModule, Module, ParamSpec};
use ane_compiler::{Graph, ValueId};

fn check(ctx: &Ctx, kind: &str, dim: usize, eps: f32) -> Result<(), NnError> {
    if dim == 0 {
        return Err(ctx.bad_module(format!("{kind} needs a non-zero dimension")));
    }
    if !(eps.is_finite() && eps > 0.0) {
        return Err(ctx.bad_module(format!("{kind} eps must be positive, got {eps}")));
    }
    Ok(())
}

/// `(x − mean)/√(var + eps)·weight + bias` over the last axis of size `dim`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerNorm {
    /// Size of the normalized (last) axis.
    pub dim: usize,
    /// Added to the variance (PyTorch's default 1e-5).
    pub eps: f32,
}

impl LayerNorm {
    /// `LayerNorm(dim)` with eps 1e-5, weight ones and bias zeros.
    pub fn new(dim: usize) -> Self {
        LayerNorm { dim, eps: 1e-5 }
    }

    /// With another eps.
    pub fn eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }
}

impl Module for LayerNorm {
    fn declare_params(&self, ctx: &Ctx, params: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        check(ctx, "LayerNorm", self.dim, self.eps)?;
        params.push(ctx.spec("weight", vec![self.dim], Init::Ones));
        params.push(ctx.spec("bias", vec![self.dim], Init::Zeros));
        Ok(())
    }

    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        let w = ctx.param(g, "weight", &[self.dim])?;
        let b = ctx.param(g, "bias", &[self.dim])?;
        g.layer_norm(x, w, b, self.eps).in_module(ctx)
    }
}

/// `x/√(mean(x²) + eps)·weight` over the last axis of size `dim`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsNorm {
    /// Size of the normalized (last) axis.
    pub dim: usize,
    /// Added to the mean square (default 1e-5, Llama 2 / llama2.c's `norm_eps`; PyTorch's own
    /// `RMSNorm` defaults to the dtype's machine epsilon instead).
    pub eps: f32,
}

impl RmsNorm {
    /// `RMSNorm(dim)` with eps 1e-5 and weight ones.
    pub fn new(dim: usize) -> Self {
        RmsNorm { dim, eps: 1e-5 }
    }

    /// With another eps.
    pub fn eps(mut self, eps: f32) -> Self {
        self.eps = eps;
        self
    }
}

impl Module for RmsNorm {
    fn declare_params(&self, ctx: &Ctx, params: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        check(ctx, "RMSNorm", self.dim, self.eps)?;
        params.push(ctx.spec("weight", vec![self.dim], Init::Ones));
        Ok(())
    }

    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        let w = ctx.param(g, "weight", &[self.dim])?;
        g.rms_norm(x, w, self.eps).in_module(ctx)
    }
}
