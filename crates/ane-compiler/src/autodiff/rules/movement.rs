//! Gradients of reductions and data movement: each is the adjoint movement.

use super::RuleCx;
use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::Op;

pub(super) fn backward(g: &mut Graph, cx: &RuleCx) -> Result<Vec<Option<ValueId>>, GraphError> {
    let dy = cx.dy;
    let x_shape = g.shape(cx.input(0))?.clone();
    match &cx.node.op {
        Op::ReduceSum { axes, .. } => Ok(vec![cx.when_needed(g, 0, |g| {
            // Restore the summed axes as size 1, then broadcast back over them.
            let mut kept = x_shape.dims().to_vec();
            for &a in axes {
                kept[a] = 1;
            }
            let dy_kept = g.reshape(dy, &kept)?;
            g.broadcast_to(dy_kept, x_shape.dims())
        })?]),
        Op::BroadcastTo { .. } => Ok(vec![cx.when_needed(g, 0, |g| g.sum_to(dy, &x_shape))?]),
        Op::Reshape { .. } => Ok(vec![
            cx.when_needed(g, 0, |g| g.reshape(dy, x_shape.dims()))?
        ]),
        Op::Permute { perm } => Ok(vec![cx.when_needed(g, 0, |g| {
            let mut inverse = vec![0; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inverse[p] = i;
            }
            g.permute(dy, &inverse)
        })?]),
        Op::Concat { axis } => {
            let mut grads = Vec::with_capacity(cx.node.inputs.len());
            let mut start = 0;
            for (i, &part) in cx.node.inputs.iter().enumerate() {
                let len = g.shape(part)?.dims()[*axis];
                grads.push(cx.when_needed(g, i, |g| {
                    g.add_node(
                        Op::Slice {
                            axis: *axis,
                            start,
                            end: start + len,
                        },
                        &[dy],
                    )
                })?);
                start += len;
            }
            Ok(grads)
        }
        Op::Slice { axis, start, end } => Ok(vec![cx.when_needed(g, 0, |g| {
            let after = x_shape.dims()[*axis] - end;
            g.add_node(
                Op::Pad {
                    axis: *axis,
                    before: *start,
                    after,
                },
                &[dy],
            )
        })?]),
        Op::Pad { axis, before, .. } => Ok(vec![cx.when_needed(g, 0, |g| {
            let len = x_shape.dims()[*axis];
            g.add_node(
                Op::Slice {
                    axis: *axis,
                    start: *before,
                    end: before + len,
                },
                &[dy],
            )
        })?]),
        _ => unreachable!(),
    }
}
