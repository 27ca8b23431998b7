//! Inference for `linear` and batched `matmul`.

use super::{f32_out, Ctx};
use crate::error::GraphError;
use crate::op::Op;
use crate::shape::{broadcast_shapes, Shape, ValueType};

pub(super) fn infer(cx: &Ctx) -> Result<ValueType, GraphError> {
    match cx.op {
        Op::Linear => linear(cx),
        Op::MatMul {
            transpose_a,
            transpose_b,
        } => matmul(cx, *transpose_a, *transpose_b),
        _ => unreachable!("linalg::infer called for {}", cx.op.name()),
    }
}

fn linear(cx: &Ctx) -> Result<ValueType, GraphError> {
    cx.arity(2, 3)?;
    let x = cx.f32(0)?;
    let w = cx.f32(1)?;
    let expected = "x: [..., in], w: [out, in], b: [out]";
    if x.rank() < 1 || w.rank() != 2 || x.last() != Some(w.dims()[1]) {
        return Err(cx.fail(expected));
    }
    let out = w.dims()[0];
    if cx.inputs.len() == 3 && *cx.f32(2)? != Shape::from([out]) {
        return Err(cx.fail(expected));
    }
    let mut dims = x.dims().to_vec();
    *dims.last_mut().expect("rank checked") = out;
    f32_out(dims)
}

fn matmul(cx: &Ctx, transpose_a: bool, transpose_b: bool) -> Result<ValueType, GraphError> {
    cx.arity(2, 2)?;
    let a = cx.f32(0)?;
    let b = cx.f32(1)?;
    let expected = "a: [..., M, K], b: [..., K, N] (after the requested transposes) with broadcastable batch axes";
    if a.rank() < 2 || b.rank() < 2 {
        return Err(cx.fail(expected));
    }
    let (m, ka) = last_two(a, transpose_a);
    let (kb, n) = last_two(b, transpose_b);
    if ka != kb {
        return Err(cx.fail(expected));
    }
    let batch_a = Shape::from(&a.dims()[..a.rank() - 2]);
    let batch_b = Shape::from(&b.dims()[..b.rank() - 2]);
    let batch = broadcast_shapes(&batch_a, &batch_b).ok_or_else(|| cx.fail(expected))?;
    let mut dims = batch.dims().to_vec();
    dims.extend([m, n]);
    f32_out(dims)
}

/// The (rows, cols) of the last two axes, after an optional transpose.
fn last_two(s: &Shape, transpose: bool) -> (usize, usize) {
    let r = s.rank();
    let (rows, cols) = (s.dims()[r - 2], s.dims()[r - 1]);
    if transpose {
        (cols, rows)
    } else {
        (rows, cols)
    }
}
