//! Inference for softmax, LayerNorm and RMSNorm and the norms' backward ops.

use super::{f32_out, Ctx};
use crate::error::GraphError;
use crate::op::Op;
use crate::shape::{Shape, ValueType};

pub(super) fn infer(cx: &Ctx) -> Result<ValueType, GraphError> {
    match cx.op {
        Op::Softmax { axis } => {
            cx.arity(1, 1)?;
            let x = cx.f32(0)?;
            if *axis >= x.rank() {
                return Err(cx.fail(format!("x with an axis {axis}")));
            }
            f32_out(x.clone())
        }
        Op::LayerNorm { eps } => {
            check_eps(cx, *eps)?;
            cx.arity(3, 3)?;
            let d = feature_dim(cx, 0, "x: [..., D], gamma: [D], beta: [D]")?;
            vector_of(cx, &[1, 2], d, "x: [..., D], gamma: [D], beta: [D]")?;
            f32_out(cx.f32(0)?.clone())
        }
        Op::LayerNormBackwardInput { eps } | Op::RmsNormBackwardInput { eps } => {
            check_eps(cx, *eps)?;
            cx.arity(3, 3)?;
            let expected = "x: [..., D], weight: [D], dy: same shape as x";
            let d = feature_dim(cx, 0, expected)?;
            vector_of(cx, &[1], d, expected)?;
            if cx.f32(2)? != cx.f32(0)? {
                return Err(cx.fail(expected));
            }
            f32_out(cx.f32(0)?.clone())
        }
        Op::LayerNormBackwardWeight { eps } | Op::RmsNormBackwardWeight { eps } => {
            check_eps(cx, *eps)?;
            cx.arity(2, 2)?;
            let expected = "x: [..., D], dy: same shape as x";
            let d = feature_dim(cx, 0, expected)?;
            if cx.f32(1)? != cx.f32(0)? {
                return Err(cx.fail(expected));
            }
            f32_out([d])
        }
        Op::RmsNorm { eps } => {
            check_eps(cx, *eps)?;
            cx.arity(2, 2)?;
            let d = feature_dim(cx, 0, "x: [..., D], w: [D]")?;
            vector_of(cx, &[1], d, "x: [..., D], w: [D]")?;
            f32_out(cx.f32(0)?.clone())
        }
        _ => unreachable!("norm::infer called for {}", cx.op.name()),
    }
}

fn check_eps(cx: &Ctx, eps: f32) -> Result<(), GraphError> {
    if eps.is_finite() && eps > 0.0 {
        Ok(())
    } else {
        Err(cx.bad_attribute(format!("eps must be positive and finite, got {eps}")))
    }
}

/// The last-axis size of input `i` (rank ≥ 1, D ≥ 1).
fn feature_dim(cx: &Ctx, i: usize, expected: &str) -> Result<usize, GraphError> {
    match cx.f32(i)?.last() {
        Some(d) if d > 0 => Ok(d),
        _ => Err(cx.fail(expected)),
    }
}

/// Checks inputs `indices` are f32 vectors of length `d`.
fn vector_of(cx: &Ctx, indices: &[usize], d: usize, expected: &str) -> Result<(), GraphError> {
    for &i in indices {
        if *cx.f32(i)? != Shape::from([d]) {
            return Err(cx.fail(expected));
        }
    }
    Ok(())
}
