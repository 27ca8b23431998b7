//! Gradients of embedding lookup (scatter-add) and RoPE (the inverse rotation).

use super::RuleCx;
use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::Op;

pub(super) fn backward(g: &mut Graph, cx: &RuleCx) -> Result<Vec<Option<ValueId>>, GraphError> {
    match cx.node.op {
        Op::Embedding => {
            let (ids, table) = (cx.input(0), cx.input(1));
            let vocab = g.shape(table)?.dims()[0];
            let dtable = cx.when_needed(g, 1, |g| {
                g.add_node(Op::EmbeddingBackward { vocab }, &[ids, cx.dy])
            })?;
            Ok(vec![None, dtable])
        }
        Op::Rope { base, inverse } => Ok(vec![cx.when_needed(g, 0, |g| {
            // A rotation's adjoint is the rotation by the opposite angle.
            g.add_node(
                Op::Rope {
                    base,
                    inverse: !inverse,
                },
                &[cx.dy],
            )
        })?]),
        _ => unreachable!(),
    }
}
