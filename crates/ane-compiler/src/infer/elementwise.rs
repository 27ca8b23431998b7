//! Inference for broadcasting binary arithmetic, scalar arithmetic and activations.

use super::{f32_out, Ctx};
use crate::error::GraphError;
use crate::op::Op;
use crate::shape::{broadcast_shapes, ValueType};

pub(super) fn infer(cx: &Ctx) -> Result<ValueType, GraphError> {
    match cx.op {
        Op::Binary(_) => {
            cx.arity(2, 2)?;
            let (a, b) = (cx.f32(0)?, cx.f32(1)?);
            let out = broadcast_shapes(a, b)
                .ok_or_else(|| cx.fail("shapes that broadcast (numpy rules)"))?;
            f32_out(out)
        }
        Op::ScalarMul(_) | Op::ScalarAdd(_) | Op::Unary(_) => {
            cx.arity(1, 1)?;
            f32_out(cx.f32(0)?.clone())
        }
        Op::UnaryBackward(_) => {
            cx.arity(2, 2)?;
            let (x, dy) = (cx.f32(0)?, cx.f32(1)?);
            if x != dy {
                return Err(cx.fail("dy of the same shape as x"));
            }
            f32_out(x.clone())
        }
        _ => unreachable!("elementwise::infer called for {}", cx.op.name()),
    }
}
