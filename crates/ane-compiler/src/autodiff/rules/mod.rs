//! Gradient rules: for one forward node and the gradient `dy` of its output, the gradient of each
//! input (`None` where the input needs none or cannot have one). One module per op family.

mod conv;
mod elementwise;
mod linalg;
mod loss;
mod movement;
mod norm;
mod sequence;

use crate::error::GraphError;
use crate::graph::{Graph, Node, ValueId};
use crate::op::Op;

/// Gradients of `node`'s inputs given `dy`; `needs[i]` says whether input `i` wants one.
pub(super) fn backward(
    g: &mut Graph,
    node: &Node,
    dy: ValueId,
    needs: &[bool],
) -> Result<Vec<Option<ValueId>>, GraphError> {
    let cx = RuleCx { node, dy, needs };
    match &node.op {
        // Generated tensors have no differentiable inputs (the dropout rng is i32).
        Op::Full { .. } | Op::CausalMask { .. } | Op::DropoutMask { .. } => Ok(cx.none()),
        Op::Linear | Op::MatMul { .. } => linalg::backward(g, &cx),
        Op::Conv2d(_) | Op::MaxPool2d(_) | Op::AvgPool2d { .. } => conv::backward(g, &cx),
        Op::Binary(_) | Op::ScalarMul(_) | Op::ScalarAdd(_) | Op::Unary(_) => {
            elementwise::backward(g, &cx)
        }
        Op::ReduceSum { .. }
        | Op::BroadcastTo { .. }
        | Op::Reshape { .. }
        | Op::Permute { .. }
        | Op::Concat { .. }
        | Op::Slice { .. }
        | Op::Pad { .. } => movement::backward(g, &cx),
        Op::Softmax { .. } | Op::LayerNorm { .. } | Op::RmsNorm { .. } => norm::backward(g, &cx),
        Op::Embedding | Op::Rope { .. } => sequence::backward(g, &cx),
        Op::SoftmaxCrossEntropy | Op::MseLoss => loss::backward(g, &cx),
        // Backward ops are listed one by one (no wildcard) so a new op cannot silently miss a rule.
        op @ (Op::Conv2dBackwardData { .. }
        | Op::Conv2dBackwardWeight { .. }
        | Op::MaxPool2dBackward(_)
        | Op::AvgPool2dBackward { .. }
        | Op::UnaryBackward(_)
        | Op::LayerNormBackwardInput { .. }
        | Op::LayerNormBackwardWeight { .. }
        | Op::RmsNormBackwardInput { .. }
        | Op::RmsNormBackwardWeight { .. }
        | Op::EmbeddingBackward { .. }
        | Op::SoftmaxCrossEntropyBackward) => {
            Err(GraphError::NoGradientRule { op: op.to_string() })
        }
    }
}

/// What a rule sees: the forward node, the incoming gradient and which inputs need gradients.
pub(super) struct RuleCx<'a> {
    pub node: &'a Node,
    pub dy: ValueId,
    pub needs: &'a [bool],
}

impl RuleCx<'_> {
    /// Input `i` of the forward node.
    pub fn input(&self, i: usize) -> ValueId {
        self.node.inputs[i]
    }

    /// Whether input `i` exists and wants a gradient.
    pub fn needs(&self, i: usize) -> bool {
        self.needs.get(i).copied().unwrap_or(false)
    }

    /// No gradients at all.
    pub fn none(&self) -> Vec<Option<ValueId>> {
        vec![None; self.node.inputs.len()]
    }

    /// Computes input `i`'s gradient with `f` only if it is needed.
    pub fn when_needed(
        &self,
        g: &mut Graph,
        i: usize,
        f: impl FnOnce(&mut Graph) -> Result<ValueId, GraphError>,
    ) -> Result<Option<ValueId>, GraphError> {
        if self.needs(i) {
            f(g).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// `value · upstream` for a scalar `upstream` gradient, skipping the product when `upstream` is the
/// constant 1 seeded at the loss (the usual case).
pub(super) fn scale_by_scalar(
    g: &mut Graph,
    value: ValueId,
    upstream: ValueId,
) -> Result<ValueId, GraphError> {
    let is_one = matches!(
        g.producing_node(upstream).map(|n| &n.op),
        Some(Op::Full { value, .. }) if *value == 1.0
    );
    if is_one {
        Ok(value)
    } else {
        g.mul(value, upstream)
    }
}
