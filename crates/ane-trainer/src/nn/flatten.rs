//! `Flatten`: `[N, d1, d2, …] → [N, d1·d2·…]` (`torch.nn.Flatten()` with its defaults
//! `start_dim=1, end_dim=-1`).

use super::error::NnError;
use super::module::{Ctx, InModule, Module, ParamSpec};
use ane_compiler::{Graph, ValueId};

/// Keeps the first (batch) axis and merges all the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flatten;

impl Module for Flatten {
    fn declare_params(&self, _: &Ctx, _: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        Ok(())
    }

    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        let dims = g.shape(x).in_module(ctx)?.dims().to_vec();
        let Some((&batch, rest)) = dims.split_first() else {
            return Err(ctx.bad_module("Flatten needs an input of rank ≥ 1, got a scalar"));
        };
        g.reshape(x, &[batch, rest.iter().product()]).in_module(ctx)
    }
}
