//! Builder methods for softmax and the normalisation layers.

use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::Op;

impl Graph {
    /// Softmax along `axis`.
    pub fn softmax(&mut self, x: ValueId, axis: isize) -> Result<ValueId, GraphError> {
        let axis = self.resolve_axis("softmax", x, axis)?;
        self.add_node(Op::Softmax { axis }, &[x])
    }

    /// LayerNorm over the last axis with affine `gamma`, `beta` (`[D]`); PyTorch's default eps is 1e-5.
    pub fn layer_norm(
        &mut self,
        x: ValueId,
        gamma: ValueId,
        beta: ValueId,
        eps: f32,
    ) -> Result<ValueId, GraphError> {
        self.add_node(Op::LayerNorm { eps }, &[x, gamma, beta])
    }

    /// RMSNorm over the last axis with weight `w: [D]`; Llama 2 uses eps 1e-5.
    pub fn rms_norm(&mut self, x: ValueId, w: ValueId, eps: f32) -> Result<ValueId, GraphError> {
        self.add_node(Op::RmsNorm { eps }, &[x, w])
    }
}
