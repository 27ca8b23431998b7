//! Declaring graph inputs: data tensors, integer ids and named parameters.

use crate::dtype::DType;
use crate::error::GraphError;
use crate::graph::{Graph, InputKind, ValueId};

impl Graph {
    /// A data input fed each step, e.g. `g.input("images", &[b, 784], DType::F32)`.
    pub fn input(
        &mut self,
        name: &str,
        shape: &[usize],
        dtype: DType,
    ) -> Result<ValueId, GraphError> {
        self.add_input(name, InputKind::Data, shape, dtype)
    }

    /// An `i32` data input of ids or labels, e.g. `g.input_ids("labels", &[b])`.
    pub fn input_ids(&mut self, name: &str, shape: &[usize]) -> Result<ValueId, GraphError> {
        self.add_input(name, InputKind::Data, shape, DType::I32)
    }

    /// A trainable `f32` parameter with a hierarchical PyTorch-style name and layout, e.g.
    /// `g.param("0.weight", &[256, 784])` for a Linear(784 → 256).
    pub fn param(&mut self, name: &str, shape: &[usize]) -> Result<ValueId, GraphError> {
        self.add_input(name, InputKind::Param, shape, DType::F32)
    }
}
