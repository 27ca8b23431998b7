//! Inference for ops that generate tensors: fills, the causal mask, dropout masks.

use super::{f32_out, Ctx};
use crate::error::GraphError;
use crate::op::Op;
use crate::shape::{Shape, ValueType};

pub(super) fn infer(cx: &Ctx) -> Result<ValueType, GraphError> {
    match cx.op {
        Op::Full { shape, .. } => {
            cx.arity(0, 0)?;
            f32_out(shape.clone())
        }
        Op::CausalMask { size } => {
            cx.arity(0, 0)?;
            if *size == 0 {
                return Err(cx.bad_attribute("size must be at least 1"));
            }
            f32_out([*size, *size])
        }
        Op::DropoutMask { shape, p, .. } => {
            cx.arity(1, 1)?;
            if !(0.0..1.0).contains(p) {
                return Err(cx.bad_attribute(format!("p must be in [0, 1), got {p}")));
            }
            if *cx.i32(0)? != Shape::from([2]) {
                return Err(cx.fail("rng: i32[2] holding (seed, step)"));
            }
            f32_out(shape.clone())
        }
        _ => unreachable!("generated::infer called for {}", cx.op.name()),
    }
}
