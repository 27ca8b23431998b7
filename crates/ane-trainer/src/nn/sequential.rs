//! `Sequential`: children applied in order, named `0`, `1`, … like `torch.nn.Sequential`, so a
//! model `Sequential[Linear, ReLU, Linear]` has parameters `0.weight`, `0.bias`, `2.weight`,
//! `2.bias` (parameter-free children still take an index).

use super::error::NnError;
use super::module::{Ctx, Module, ParamSpec};
use ane_compiler::{Graph, ValueId};

/// A chain of modules; the output of child `i` is the input of child `i + 1`.
#[derive(Debug, Default)]
pub struct Sequential {
    children: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// An empty chain (the identity).
    pub fn new() -> Self {
        Sequential::default()
    }

    /// The chain with `module` appended (builder style).
    pub fn then(mut self, module: impl Module + 'static) -> Self {
        self.push(module);
        self
    }

    /// Appends `module`; it will be named by its index.
    pub fn push(&mut self, module: impl Module + 'static) {
        self.children.push(Box::new(module));
    }

    /// Appends an already boxed module.
    pub fn push_boxed(&mut self, module: Box<dyn Module>) {
        self.children.push(module);
    }

    /// Number of children.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// True when there are no children.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// The children, in order.
    pub fn children(&self) -> &[Box<dyn Module>] {
        &self.children
    }
}

impl Module for Sequential {
    fn declare_params(&self, ctx: &Ctx, params: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        for (i, child) in self.children.iter().enumerate() {
            child.declare_params(&ctx.child(&i.to_string()), params)?;
        }
        Ok(())
    }

    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        self.children
            .iter()
            .enumerate()
            .try_fold(x, |h, (i, child)| {
                child.forward(g, h, &ctx.child(&i.to_string()))
            })
    }
}
