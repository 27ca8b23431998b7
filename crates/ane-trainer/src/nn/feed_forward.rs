//! `SwiGlu`: the Llama feed-forward block, `w2(silu(w1·x) ⊙ w3·x)` with bias-free `w1`, `w3`
//! (`[hidden, dim]`, gate and up) and `w2` (`[dim, hidden]`, down), named as llama2.c's
//! `FeedForward`.

use super::dropout::check_probability;
use super::error::NnError;
use super::init::Init;
use super::linear::Linear;
use super::module::{Ctx, InModule, Module, ParamSpec};
use ane_compiler::{Graph, ValueId};

/// The gated feed-forward block on `[..., dim]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SwiGlu {
    /// Gate projection `[hidden, dim]`.
    pub w1: Linear,
    /// Down projection `[dim, hidden]`.
    pub w2: Linear,
    /// Up projection `[hidden, dim]`.
    pub w3: Linear,
    /// Dropout on the output (0 disables it).
    pub dropout: f32,
}

impl SwiGlu {
    /// Bias-free projections in PyTorch's default init.
    pub fn new(dim: usize, hidden_dim: usize) -> Self {
        SwiGlu {
            w1: Linear::new(dim, hidden_dim).no_bias(),
            w2: Linear::new(hidden_dim, dim).no_bias(),
            w3: Linear::new(dim, hidden_dim).no_bias(),
            dropout: 0.0,
        }
    }

    /// With explicit initializers for each projection.
    pub fn with_inits(mut self, w1: Init, w2: Init, w3: Init) -> Self {
        self.w1.weight_init = w1;
        self.w2.weight_init = w2;
        self.w3.weight_init = w3;
        self
    }

    /// With dropout probability `p` on the output.
    pub fn with_dropout(mut self, p: f32) -> Self {
        self.dropout = p;
        self
    }
}

impl Module for SwiGlu {
    fn declare_params(&self, ctx: &Ctx, params: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        check_probability(ctx, self.dropout)?;
        self.w1.declare_params(&ctx.child("w1"), params)?;
        self.w2.declare_params(&ctx.child("w2"), params)?;
        self.w3.declare_params(&ctx.child("w3"), params)
    }

    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        let gate = self.w1.forward(g, x, &ctx.child("w1"))?;
        let up = self.w3.forward(g, x, &ctx.child("w3"))?;
        let gate = g.silu(gate).in_module(ctx)?;
        let h = g.mul(gate, up).in_module(ctx)?;
        let out = self.w2.forward(g, h, &ctx.child("w2"))?;
        g.dropout(out, self.dropout).in_module(ctx)
    }
}
