//! `Dropout(p)`: inverted dropout in training graphs, the identity in evaluation graphs
//! (`torch.nn.Dropout`). Masks come from the graph's `dropout_rng` input, see
//! [`ane_compiler::dropout`].

use super::error::NnError;
use super::module::{Ctx, InModule, Module, ParamSpec};
use ane_compiler::{Graph, ValueId};

/// Zeroes each element with probability `p` and scales the rest by `1/(1−p)` while training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dropout {
    /// Drop probability, in `[0, 1)`.
    pub p: f32,
}

impl Dropout {
    /// `Dropout(p)`; `p` is checked when the model is built.
    pub fn new(p: f32) -> Self {
        Dropout { p }
    }
}

/// Checks a drop probability: finite and in `[0, 1)` (PyTorch allows `p = 1`, which zeroes
/// everything and makes training pointless; we reject it).
pub(crate) fn check_probability(ctx: &Ctx, p: f32) -> Result<(), NnError> {
    if p.is_finite() && (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(ctx.bad_module(format!("dropout probability must be in [0, 1), got {p}")))
    }
}

impl Module for Dropout {
    fn declare_params(&self, ctx: &Ctx, _: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        check_probability(ctx, self.p)
    }

    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        check_probability(ctx, self.p)?;
        g.dropout(x, self.p).in_module(ctx)
    }
}
