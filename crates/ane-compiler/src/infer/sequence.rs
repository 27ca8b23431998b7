//! Inference for sequence-model ops: embedding lookup, its scatter-add backward, RoPE.

use super::{f32_out, Ctx};
use crate::error::GraphError;
use crate::op::Op;
use crate::shape::ValueType;

pub(super) fn infer(cx: &Ctx) -> Result<ValueType, GraphError> {
    match cx.op {
        Op::Embedding => {
            cx.arity(2, 2)?;
            let ids = cx.i32(0)?;
            let table = cx.f32(1)?;
            if table.rank() != 2 {
                return Err(cx.fail("ids: i32[...], table: [V, D]"));
            }
            let mut dims = ids.dims().to_vec();
            dims.push(table.dims()[1]);
            f32_out(dims)
        }
        Op::EmbeddingBackward { vocab } => {
            cx.arity(2, 2)?;
            let ids = cx.i32(0)?;
            let dy = cx.f32(1)?;
            if dy.rank() != ids.rank() + 1 || dy.dims()[..ids.rank()] != *ids.dims() {
                return Err(cx.fail("ids: i32[...], dy: [..., D] with the leading axes of ids"));
            }
            f32_out([*vocab, dy.last().expect("rank ≥ 1")])
        }
        Op::Rope { base, .. } => {
            cx.arity(1, 1)?;
            if !(base.is_finite() && *base > 0.0) {
                return Err(cx.bad_attribute(format!("base must be positive, got {base}")));
            }
            let x = cx.f32(0)?;
            if x.rank() < 2 || x.last().is_none_or(|d| d == 0 || d % 2 != 0) {
                return Err(cx.fail("x: [..., S, HD] with HD even and non-zero"));
            }
            f32_out(x.clone())
        }
        _ => unreachable!("sequence::infer called for {}", cx.op.name()),
    }
}
