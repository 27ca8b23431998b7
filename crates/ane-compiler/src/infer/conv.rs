//! Inference for `conv2d` and its two backward ops.

use super::{f32_out, Ctx};
use crate::error::GraphError;
use crate::op::{window_output_size, Conv2dParams, Op};
use crate::shape::{Shape, ValueType};

pub(super) fn infer(cx: &Ctx) -> Result<ValueType, GraphError> {
    match cx.op {
        Op::Conv2d(p) => forward(cx, p),
        Op::Conv2dBackwardData { params, input_hw } => backward_data(cx, params, *input_hw),
        Op::Conv2dBackwardWeight { params, kernel_hw } => backward_weight(cx, params, *kernel_hw),
        _ => unreachable!("conv::infer called for {}", cx.op.name()),
    }
}

fn check_params(cx: &Ctx, p: &Conv2dParams) -> Result<(), GraphError> {
    if p.stride.contains(&0) {
        return Err(cx.bad_attribute("stride must be at least 1"));
    }
    if p.groups == 0 {
        return Err(cx.bad_attribute("groups must be at least 1"));
    }
    Ok(())
}

/// Output `[OH, OW]` of a convolution, or an error if the kernel does not fit.
fn output_hw(
    cx: &Ctx,
    p: &Conv2dParams,
    input_hw: [usize; 2],
    kernel_hw: [usize; 2],
) -> Result<[usize; 2], GraphError> {
    if input_hw.contains(&0) {
        return Err(cx.fail(format!("a non-empty spatial size, got {input_hw:?}")));
    }
    let mut out = [0; 2];
    for axis in 0..2 {
        out[axis] = window_output_size(
            input_hw[axis],
            kernel_hw[axis],
            p.stride[axis],
            p.padding[axis],
        )
        .ok_or_else(|| {
            cx.fail(format!(
                "a kernel of {kernel_hw:?} that fits the padded input {input_hw:?} + 2×{:?}",
                p.padding
            ))
        })?;
    }
    Ok(out)
}

fn forward(cx: &Ctx, p: &Conv2dParams) -> Result<ValueType, GraphError> {
    check_params(cx, p)?;
    cx.arity(2, 3)?;
    let x = cx.f32(0)?;
    let w = cx.f32(1)?;
    let expected = format!(
        "x: [N, C, H, W], w: [O, C/{g}, kh, kw], b: [O] with C and O divisible by groups={g}",
        g = p.groups
    );
    if x.rank() != 4 || w.rank() != 4 {
        return Err(cx.fail(expected));
    }
    let (n, c, h, wd) = (x.dims()[0], x.dims()[1], x.dims()[2], x.dims()[3]);
    let (o, cg, kh, kw) = (w.dims()[0], w.dims()[1], w.dims()[2], w.dims()[3]);
    if c % p.groups != 0 || o % p.groups != 0 || cg * p.groups != c {
        return Err(cx.fail(expected));
    }
    if cx.inputs.len() == 3 && *cx.f32(2)? != Shape::from([o]) {
        return Err(cx.fail(expected));
    }
    let [oh, ow] = output_hw(cx, p, [h, wd], [kh, kw])?;
    f32_out([n, o, oh, ow])
}

fn backward_data(
    cx: &Ctx,
    p: &Conv2dParams,
    input_hw: [usize; 2],
) -> Result<ValueType, GraphError> {
    check_params(cx, p)?;
    cx.arity(2, 2)?;
    let dy = cx.f32(0)?;
    let w = cx.f32(1)?;
    if dy.rank() != 4 || w.rank() != 4 || dy.dims()[1] != w.dims()[0] || w.dims()[0] % p.groups != 0
    {
        return Err(cx.fail("dy: [N, O, OH, OW], w: [O, C/groups, kh, kw]"));
    }
    let out_hw = output_hw(cx, p, input_hw, [w.dims()[2], w.dims()[3]])?;
    if out_hw != [dy.dims()[2], dy.dims()[3]] {
        return Err(cx.fail(format!(
            "dy spatial size {out_hw:?} (the convolution output of input_hw {input_hw:?})"
        )));
    }
    f32_out([
        dy.dims()[0],
        w.dims()[1] * p.groups,
        input_hw[0],
        input_hw[1],
    ])
}

fn backward_weight(
    cx: &Ctx,
    p: &Conv2dParams,
    kernel_hw: [usize; 2],
) -> Result<ValueType, GraphError> {
    check_params(cx, p)?;
    cx.arity(2, 2)?;
    let x = cx.f32(0)?;
    let dy = cx.f32(1)?;
    let ok = x.rank() == 4
        && dy.rank() == 4
        && x.dims()[0] == dy.dims()[0]
        && x.dims()[1] % p.groups == 0
        && dy.dims()[1] % p.groups == 0;
    if !ok {
        return Err(cx.fail(format!(
            "x: [N, C, H, W], dy: [N, O, OH, OW] with C and O divisible by groups={}",
            p.groups
        )));
    }
    let out_hw = output_hw(cx, p, [x.dims()[2], x.dims()[3]], kernel_hw)?;
    if out_hw != [dy.dims()[2], dy.dims()[3]] {
        return Err(cx.fail(format!("dy spatial size {out_hw:?}")));
    }
    f32_out([
        dy.dims()[1],
        x.dims()[1] / p.groups,
        kernel_hw[0],
        kernel_hw[1],
    ])
}
