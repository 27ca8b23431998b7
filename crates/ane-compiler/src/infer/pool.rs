//! Inference for max and average pooling and their backward ops.

use super::{f32_out, Ctx};
use crate::error::GraphError;
use crate::op::{window_output_size, Op, Pool2dParams};
use crate::shape::{Shape, ValueType};

pub(super) fn infer(cx: &Ctx) -> Result<ValueType, GraphError> {
    match cx.op {
        Op::MaxPool2d(p) | Op::AvgPool2d { pool: p, .. } => {
            cx.arity(1, 1)?;
            let x = nchw(cx, 0)?;
            let [oh, ow] = output_hw(cx, p, [x.dims()[2], x.dims()[3]])?;
            f32_out([x.dims()[0], x.dims()[1], oh, ow])
        }
        Op::MaxPool2dBackward(p) => {
            cx.arity(2, 2)?;
            let x = nchw(cx, 0)?;
            let dy = nchw(cx, 1)?;
            let [oh, ow] = output_hw(cx, p, [x.dims()[2], x.dims()[3]])?;
            if *dy != Shape::from([x.dims()[0], x.dims()[1], oh, ow]) {
                return Err(cx.fail(format!("dy: [N, C, {oh}, {ow}] (the pooled shape of x)")));
            }
            f32_out(x.clone())
        }
        Op::AvgPool2dBackward { pool, input_hw, .. } => {
            cx.arity(1, 1)?;
            let dy = nchw(cx, 0)?;
            let [oh, ow] = output_hw(cx, pool, *input_hw)?;
            if [dy.dims()[2], dy.dims()[3]] != [oh, ow] {
                return Err(cx.fail(format!(
                    "dy spatial size [{oh}, {ow}] (the pooled size of input_hw {input_hw:?})"
                )));
            }
            f32_out([dy.dims()[0], dy.dims()[1], input_hw[0], input_hw[1]])
        }
        _ => unreachable!("pool::infer called for {}", cx.op.name()),
    }
}

fn nchw<'a>(cx: &'a Ctx, i: usize) -> Result<&'a Shape, GraphError> {
    let s = cx.f32(i)?;
    if s.rank() != 4 {
        return Err(cx.fail(format!("{}: [N, C, H, W]", cx.op.input_name(i))));
    }
    Ok(s)
}

fn output_hw(cx: &Ctx, p: &Pool2dParams, input_hw: [usize; 2]) -> Result<[usize; 2], GraphError> {
    if p.kernel.contains(&0) || p.stride.contains(&0) {
        return Err(cx.bad_attribute("kernel and stride must be at least 1"));
    }
    if p.padding[0] > p.kernel[0] / 2 || p.padding[1] > p.kernel[1] / 2 {
        return Err(cx.bad_attribute(format!(
            "padding {:?} must be at most half the kernel {:?}",
            p.padding, p.kernel
        )));
    }
    if input_hw.contains(&0) {
        return Err(cx.fail(format!("a non-empty spatial size, got {input_hw:?}")));
    }
    let mut out = [0; 2];
    for axis in 0..2 {
        out[axis] = window_output_size(
            input_hw[axis],
            p.kernel[axis],
            p.stride[axis],
            p.padding[axis],
        )
        .ok_or_else(|| {
            cx.fail(format!(
                "an input of at least the window {:?} (input {input_hw:?}, padding {:?})",
                p.kernel, p.padding
            ))
        })?;
    }
    Ok(out)
}
