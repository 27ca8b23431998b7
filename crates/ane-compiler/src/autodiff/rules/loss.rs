//! Gradients of the losses.

use super::{scale_by_scalar, RuleCx};
use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::Op;

pub(super) fn backward(g: &mut Graph, cx: &RuleCx) -> Result<Vec<Option<ValueId>>, GraphError> {
    match cx.node.op {
        Op::SoftmaxCrossEntropy => {
            let (logits, labels) = (cx.input(0), cx.input(1));
            let dlogits = cx.when_needed(g, 0, |g| {
                g.add_node(Op::SoftmaxCrossEntropyBackward, &[logits, labels, cx.dy])
            })?;
            Ok(vec![dlogits, None])
        }
        Op::MseLoss => {
            // d/dp mean((p − t)²) = 2(p − t)/N; the target gets the negation.
            let (p, t) = (cx.input(0), cx.input(1));
            let n = g.shape(p)?.numel().max(1);
            let diff = g.sub(p, t)?;
            let scaled = g.scalar_mul(diff, 2.0 / n as f32)?;
            let dp = scale_by_scalar(g, scaled, cx.dy)?;
            let dt = cx.when_needed(g, 1, |g| g.neg(dp))?;
            Ok(vec![cx.needs(0).then_some(dp), dt])
        }
        _ => unreachable!(),
    }
}
