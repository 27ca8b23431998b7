//! `Embedding`: rows of a `[num_embeddings, dim]` table selected by `i32` ids, initialized
//! N(0, 1) like `torch.nn.Embedding`.

use super::error::NnError;
use super::init::Init;
use super::module::{Ctx, InModule, Module, ParamSpec};
use ane_compiler::{Graph, ValueId};

/// A lookup table: ids `[...]` → vectors `[..., dim]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Embedding {
    /// Number of rows (vocabulary size).
    pub num_embeddings: usize,
    /// Width of each row.
    pub dim: usize,
    /// Initializer of `weight` (default N(0, 1)).
    pub init: Init,
}

impl Embedding {
    /// `Embedding(num_embeddings, dim)` with PyTorch's N(0, 1) initialization.
    pub fn new(num_embeddings: usize, dim: usize) -> Self {
        Embedding {
            num_embeddings,
            dim,
            init: Init::normal(1.0),
        }
    }

    /// With another initializer.
    pub fn with_init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// The table shape `[num_embeddings, dim]`.
    pub fn weight_shape(&self) -> [usize; 2] {
        [self.num_embeddings, self.dim]
    }
}

impl Module for Embedding {
    fn declare_params(&self, ctx: &Ctx, params: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        if self.num_embeddings == 0 || self.dim == 0 {
            return Err(ctx.bad_module(format!(
                "Embedding({}, {}) needs non-zero sizes",
                self.num_embeddings, self.dim
            )));
        }
        params.push(ctx.spec("weight", self.weight_shape().to_vec(), self.init));
        Ok(())
    }

    fn forward(&self, g: &mut Graph, ids: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        let table = ctx.param(g, "weight", &self.weight_shape())?;
        g.embedding(ids, table).in_module(ctx)
    }
}
