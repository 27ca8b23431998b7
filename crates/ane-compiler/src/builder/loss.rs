//! Builder methods for the losses.

use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::Op;

impl Graph {
    /// Mean softmax cross-entropy of `logits: [..., C]` against integer `labels: i32[...]`
    /// (mean over every position), fused and numerically stable; a scalar.
    pub fn cross_entropy(
        &mut self,
        logits: ValueId,
        labels: ValueId,
    ) -> Result<ValueId, GraphError> {
        self.add_node(Op::SoftmaxCrossEntropy, &[logits, labels])
    }

    /// Mean squared error over every element; a scalar.
    pub fn mse_loss(
        &mut self,
        prediction: ValueId,
        target: ValueId,
    ) -> Result<ValueId, GraphError> {
        self.add_node(Op::MseLoss, &[prediction, target])
    }
}
