//! `conv2d` and its backward ops as im2col + matmul, in every precision (runtime-weight `conv`
//! fails on the ANE beyond batch 1 and for grouped convolutions; one formulation keeps host and
//! ANE kernels identical). Columns are built from strided tap views (`window`), never a gather:
//!
//! - forward: `cols[N, g, Cg·K, L] = concat(taps)`, `y = w[1, g, Og, Cg·K] @ cols`;
//! - backward data: `dcols = wᵀ @ dy`, each tap's slice scattered back onto the input grid;
//! - backward weight: `dw = Σ_N dy @ colsᵀ`.
//!
//! Here K = kh·kw taps, L = OH·OW output positions, g groups of Cg input and Og output channels.

use super::window::{pad_input, scatter_taps, tap_view, Window};
use super::NodeArgs;
use crate::lower::context::LowerCx;
use crate::lower::error::LowerError;
use crate::op::{Conv2dParams, Op};
use ane_mil::builder::Var;

pub(super) fn lower(cx: &mut LowerCx, n: &NodeArgs) -> Result<Var, LowerError> {
    match n.op {
        Op::Conv2d(p) => forward(cx, n, p),
        Op::Conv2dBackwardData { params, input_hw } => backward_data(cx, n, params, *input_hw),
        Op::Conv2dBackwardWeight { params, kernel_hw } => {
            backward_weight(cx, n, params, *kernel_hw)
        }
        _ => unreachable!("conv::lower called for {}", n.op.name()),
    }
}

/// Channel and tap counts of one convolution.
struct Sizes {
    groups: usize,
    /// Input channels per group.
    cg: usize,
    /// Output channels per group.
    og: usize,
    /// Taps.
    k: usize,
    /// Output positions.
    l: usize,
}

fn sizes(p: &Conv2dParams, c: usize, o: usize, w: &Window) -> Sizes {
    Sizes {
        groups: p.groups,
        cg: c / p.groups,
        og: o / p.groups,
        k: w.kernel[0] * w.kernel[1],
        l: w.out[0] * w.out[1],
    }
}

fn window(p: &Conv2dParams, x: [usize; 4], kernel: [usize; 2], out: [usize; 2]) -> Window {
    Window {
        n: x[0],
        c: x[1],
        hw: [x[2], x[3]],
        kernel,
        stride: p.stride,
        padding: p.padding,
        out,
    }
}

/// `[N, g, Cg·K, L]`: the im2col matrix of `x`, taps in row-major window order.
fn columns(cx: &mut LowerCx, x: &Var, w: &Window, s: &Sizes) -> Result<Var, LowerError> {
    let padded = pad_input(cx, x, w, 0.0)?;
    let mut taps = Vec::with_capacity(s.k);
    for tap in w.taps() {
        let view = tap_view(cx, &padded, w, tap)?;
        taps.push(cx.reshape(&view, &[w.n, w.c, 1, s.l])?);
    }
    let cols = cx.concat(&taps, 2)?;
    cx.reshape(&cols, &[w.n, s.groups, s.cg * s.k, s.l])
}

fn forward(cx: &mut LowerCx, n: &NodeArgs, p: &Conv2dParams) -> Result<Var, LowerError> {
    let (xd, wd, yd) = (n.dims(0), n.dims(1), n.out.dims());
    let w = window(
        p,
        [xd[0], xd[1], xd[2], xd[3]],
        [wd[2], wd[3]],
        [yd[2], yd[3]],
    );
    let s = sizes(p, xd[1], wd[0], &w);
    let cols = columns(cx, n.arg(0), &w, &s)?;
    let weight = cx.reshape(n.arg(1), &[1, s.groups, s.og, s.cg * s.k])?;
    let y = cx.matmul(&weight, &cols, false, false)?;
    let mut y = cx.reshape(&y, yd)?;
    if let Some(b) = n.args.get(2) {
        let b = cx.reshape(b, &[1, wd[0], 1, 1])?;
        let r = cx.f.add(&y, &b);
        y = cx.ok(r)?;
    }
    Ok(y)
}

fn backward_data(
    cx: &mut LowerCx,
    n: &NodeArgs,
    p: &Conv2dParams,
    input_hw: [usize; 2],
) -> Result<Var, LowerError> {
    let (dyd, wd, xd) = (n.dims(0), n.dims(1), n.out.dims());
    let w = window(
        p,
        [xd[0], xd[1], input_hw[0], input_hw[1]],
        [wd[2], wd[3]],
        [dyd[2], dyd[3]],
    );
    let s = sizes(p, xd[1], wd[0], &w);
    let dy = cx.reshape(n.arg(0), &[w.n, s.groups, s.og, s.l])?;
    let weight = cx.reshape(n.arg(1), &[1, s.groups, s.og, s.cg * s.k])?;
    let dcols = cx.matmul(&weight, &dy, true, false)?;
    let dcols = cx.reshape(&dcols, &[w.n, w.c, s.k, s.l])?;
    let mut per_tap = Vec::with_capacity(s.k);
    for k in 0..s.k {
        let tap = cx.slice_axis(&dcols, 2, k, 1)?;
        per_tap.push(cx.reshape(&tap, &[w.n, w.c, w.out[0], w.out[1]])?);
    }
    scatter_taps(cx, &per_tap, &w)
}

fn backward_weight(
    cx: &mut LowerCx,
    n: &NodeArgs,
    p: &Conv2dParams,
    kernel_hw: [usize; 2],
) -> Result<Var, LowerError> {
    let (xd, dyd, wd) = (n.dims(0), n.dims(1), n.out.dims());
    let w = window(p, [xd[0], xd[1], xd[2], xd[3]], kernel_hw, [dyd[2], dyd[3]]);
    let s = sizes(p, xd[1], dyd[1], &w);
    let cols = columns(cx, n.arg(0), &w, &s)?;
    let dy = cx.reshape(n.arg(1), &[w.n, s.groups, s.og, s.l])?;
    let mut dw = cx.matmul(&dy, &cols, false, true)?;
    if w.n > 1 {
        let r = cx.f.reduce_sum(&dw, &[0], true);
        dw = cx.ok(r)?;
    }
    cx.reshape(&dw, wd)
}
