//! Inference for reductions and data movement: reduce_sum, broadcast_to, reshape, permute,
//! concat, slice, pad.

use super::{f32_out, Ctx};
use crate::error::GraphError;
use crate::op::Op;
use crate::shape::{broadcast_shapes, ValueType};

pub(super) fn infer(cx: &Ctx) -> Result<ValueType, GraphError> {
    match cx.op {
        Op::ReduceSum { axes, keep_dims } => {
            cx.arity(1, 1)?;
            let x = cx.f32(0)?;
            let sorted = axes.windows(2).all(|w| w[0] < w[1]);
            if !sorted || axes.iter().any(|&a| a >= x.rank()) {
                return Err(cx.fail(format!(
                    "distinct increasing axes below the rank {} of x",
                    x.rank()
                )));
            }
            let dims = x
                .dims()
                .iter()
                .enumerate()
                .filter_map(|(i, &d)| match (axes.contains(&i), keep_dims) {
                    (false, _) => Some(d),
                    (true, true) => Some(1),
                    (true, false) => None,
                })
                .collect::<Vec<_>>();
            f32_out(dims)
        }
        Op::BroadcastTo { shape } => {
            cx.arity(1, 1)?;
            let x = &cx.inputs[0];
            if broadcast_shapes(&x.shape, shape).as_ref() != Some(shape) {
                return Err(cx.fail(format!("x that broadcasts to {shape}")));
            }
            Ok(ValueType {
                dtype: x.dtype,
                shape: shape.clone(),
            })
        }
        Op::Reshape { shape } => {
            cx.arity(1, 1)?;
            let x = &cx.inputs[0];
            if x.shape.numel() != shape.numel() {
                return Err(cx.fail(format!(
                    "x with {} elements (the target shape {shape})",
                    shape.numel()
                )));
            }
            Ok(ValueType {
                dtype: x.dtype,
                shape: shape.clone(),
            })
        }
        Op::Permute { perm } => {
            cx.arity(1, 1)?;
            let x = &cx.inputs[0];
            let mut seen = vec![false; x.shape.rank()];
            let valid = perm.len() == x.shape.rank()
                && perm
                    .iter()
                    .all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
            if !valid {
                return Err(cx.fail(format!(
                    "perm {perm:?} to be a permutation of the axes of x"
                )));
            }
            Ok(ValueType {
                dtype: x.dtype,
                shape: perm
                    .iter()
                    .map(|&p| x.shape.dims()[p])
                    .collect::<Vec<_>>()
                    .into(),
            })
        }
        Op::Concat { axis } => concat(cx, *axis),
        Op::Slice { axis, start, end } => {
            cx.arity(1, 1)?;
            let x = &cx.inputs[0];
            let size = x.shape.dims().get(*axis).copied();
            if !matches!(size, Some(s) if start < end && *end <= s) {
                return Err(cx.fail(format!(
                    "axis {axis} of x to hold the non-empty range {start}..{end}"
                )));
            }
            let mut dims = x.shape.dims().to_vec();
            dims[*axis] = end - start;
            Ok(ValueType {
                dtype: x.dtype,
                shape: dims.into(),
            })
        }
        Op::Pad {
            axis,
            before,
            after,
        } => {
            cx.arity(1, 1)?;
            let x = cx.f32(0)?;
            if *axis >= x.rank() {
                return Err(cx.fail(format!("x with an axis {axis}")));
            }
            let mut dims = x.dims().to_vec();
            dims[*axis] += before + after;
            f32_out(dims)
        }
        _ => unreachable!("movement::infer called for {}", cx.op.name()),
    }
}

fn concat(cx: &Ctx, axis: usize) -> Result<ValueType, GraphError> {
    cx.arity(1, usize::MAX)?;
    let first = &cx.inputs[0];
    let expected =
        || format!("values of one dtype and rank above {axis}, equal in every axis but {axis}");
    if axis >= first.shape.rank() {
        return Err(cx.fail(expected()));
    }
    let mut total = 0;
    for t in cx.inputs {
        let same_elsewhere = t.shape.rank() == first.shape.rank()
            && (0..t.shape.rank()).all(|a| a == axis || t.shape.dims()[a] == first.shape.dims()[a]);
        if t.dtype != first.dtype || !same_elsewhere {
            return Err(cx.fail(expected()));
        }
        total += t.shape.dims()[axis];
    }
    let mut dims = first.shape.dims().to_vec();
    dims[axis] = total;
    Ok(ValueType {
        dtype: first.dtype,
        shape: dims.into(),
    })
}
