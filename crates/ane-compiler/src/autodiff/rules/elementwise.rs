//! Gradients of elementwise arithmetic (with broadcasting) and activations.

use super::RuleCx;
use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::{BinaryOp, Op};

pub(super) fn backward(g: &mut Graph, cx: &RuleCx) -> Result<Vec<Option<ValueId>>, GraphError> {
    let dy = cx.dy;
    match cx.node.op {
        Op::Binary(kind) => {
            let (a, b) = (cx.input(0), cx.input(1));
            let a_shape = g.shape(a)?.clone();
            let b_shape = g.shape(b)?.clone();
            // Each gradient is first formed at the broadcast (output) shape, then summed back down.
            let da = cx.when_needed(g, 0, |g| {
                let full = match kind {
                    BinaryOp::Add | BinaryOp::Sub => dy,
                    BinaryOp::Mul => g.mul(dy, b)?,
                    BinaryOp::Div => g.div(dy, b)?,
                };
                g.sum_to(full, &a_shape)
            })?;
            let db = cx.when_needed(g, 1, |g| {
                let full = match kind {
                    BinaryOp::Add => dy,
                    BinaryOp::Sub => g.neg(dy)?,
                    BinaryOp::Mul => g.mul(dy, a)?,
                    BinaryOp::Div => {
                        // d(a/b)/db = −(a/b)/b: reuse the forward quotient.
                        let dy_y = g.mul(dy, cx.node.output)?;
                        let ratio = g.div(dy_y, b)?;
                        g.neg(ratio)?
                    }
                };
                g.sum_to(full, &b_shape)
            })?;
            Ok(vec![da, db])
        }
        Op::ScalarMul(factor) => Ok(vec![cx.when_needed(g, 0, |g| g.scalar_mul(dy, factor))?]),
        Op::ScalarAdd(_) => Ok(vec![cx.needs(0).then_some(dy)]),
        Op::Unary(kind) => Ok(vec![cx.when_needed(g, 0, |g| {
            g.add_node(Op::UnaryBackward(kind), &[cx.input(0), dy])
        })?]),
        _ => unreachable!(),
    }
}
