//! Max and average pooling and their backward ops.
//!
//! Forward: MIL `max_pool` / `avg_pool` with explicit padding (padding never wins a maximum;
//! `exclude_padding_from_average` = not `count_include_pad`).
//!
//! Backward, both by the tap machinery of `window` (no `conv_transpose`, no gather):
//! - average: `dy` times the divisor's reciprocal (a scalar, or a constant `[OH, OW]` table when
//!   padding is excluded) is scattered onto every tap position;
//! - max: the window maximum is recomputed as a running `maximum` over the tap views (padded with
//!   the dtype's lowest value), then each tap in row-major order claims the still-unclaimed
//!   gradient where it equals the maximum (`equal` + `select`): the first maximum takes all, as
//!   in the IR definition. If every real element of a window equals the dtype's lowest value, a
//!   padding tap can claim the gradient and it is lost — values that low overflow fp16 anyway.

use super::window::{pad_input, scatter_taps, tap_view, Window};
use super::NodeArgs;
use crate::lower::context::LowerCx;
use crate::lower::error::LowerError;
use crate::op::{Op, Pool2dParams};
use ane_mil::builder::{PadSpec, PoolParams, Var};

pub(super) fn lower(cx: &mut LowerCx, n: &NodeArgs) -> Result<Var, LowerError> {
    match n.op {
        Op::MaxPool2d(p) => {
            let r = cx.f.max_pool(n.arg(0), &mil_params(p));
            cx.ok(r)
        }
        Op::AvgPool2d {
            pool,
            count_include_pad,
        } => {
            let r =
                cx.f.avg_pool(n.arg(0), &mil_params(pool), !*count_include_pad);
            cx.ok(r)
        }
        Op::MaxPool2dBackward(p) => {
            let (xd, dyd) = (n.dims(0), n.dims(1));
            let w = window(p, xd, [dyd[2], dyd[3]]);
            max_backward(cx, n.arg(0), n.arg(1), &w)
        }
        Op::AvgPool2dBackward {
            pool,
            count_include_pad,
            input_hw,
        } => {
            let dyd = n.dims(0);
            let w = window(
                pool,
                &[dyd[0], dyd[1], input_hw[0], input_hw[1]],
                [dyd[2], dyd[3]],
            );
            avg_backward(cx, n.arg(0), &w, *count_include_pad)
        }
        _ => unreachable!("pool::lower called for {}", n.op.name()),
    }
}

fn mil_params(p: &Pool2dParams) -> PoolParams {
    PoolParams {
        kernel_sizes: p.kernel.to_vec(),
        strides: p.stride.to_vec(),
        pad: PadSpec::Custom(vec![p.padding[0], p.padding[0], p.padding[1], p.padding[1]]),
        ceil_mode: false,
    }
}

fn window(p: &Pool2dParams, x: &[usize], out: [usize; 2]) -> Window {
    Window {
        n: x[0],
        c: x[1],
        hw: [x[2], x[3]],
        kernel: p.kernel,
        stride: p.stride,
        padding: p.padding,
        out,
    }
}

fn max_backward(cx: &mut LowerCx, x: &Var, dy: &Var, w: &Window) -> Result<Var, LowerError> {
    let lowest = cx.lowest();
    let padded = pad_input(cx, x, w, lowest)?;
    let mut views = Vec::new();
    for tap in w.taps() {
        views.push(tap_view(cx, &padded, w, tap)?);
    }
    let mut max = views[0].clone();
    for v in &views[1..] {
        let r = cx.f.maximum(&max, v);
        max = cx.ok(r)?;
    }
    let zero = cx.scalar(0.0)?;
    let mut unclaimed = dy.clone();
    let mut per_tap = Vec::with_capacity(views.len());
    for (i, v) in views.iter().enumerate() {
        let r = cx.f.equal(v, &max);
        let hit = cx.ok(r)?;
        let r = cx.f.select(&hit, &unclaimed, &zero);
        per_tap.push(cx.ok(r)?);
        if i + 1 < views.len() {
            let r = cx.f.select(&hit, &zero, &unclaimed);
            unclaimed = cx.ok(r)?;
        }
    }
    scatter_taps(cx, &per_tap, w)
}

fn avg_backward(
    cx: &mut LowerCx,
    dy: &Var,
    w: &Window,
    count_include_pad: bool,
) -> Result<Var, LowerError> {
    let [oh, ow] = w.out;
    let divisor = if count_include_pad {
        cx.scalar(1.0 / (w.kernel[0] * w.kernel[1]) as f64)?
    } else {
        let table: Vec<f64> = (0..oh * ow)
            .map(|i| 1.0 / real_taps(w, i / ow, i % ow) as f64)
            .collect();
        let name = format!(
            "avg_pool_divisor_{}x{}_k{}x{}_s{}x{}_p{}x{}",
            w.hw[0],
            w.hw[1],
            w.kernel[0],
            w.kernel[1],
            w.stride[0],
            w.stride[1],
            w.padding[0],
            w.padding[1]
        );
        cx.table(&name, &[1, 1, oh, ow], &table)?
    };
    let r = cx.f.mul(dy, &divisor);
    let share = cx.ok(r)?;
    let per_tap = vec![share; w.kernel[0] * w.kernel[1]];
    scatter_taps(cx, &per_tap, w)
}

/// Taps of window `(i, j)` that fall inside the unpadded input.
fn real_taps(w: &Window, i: usize, j: usize) -> usize {
    let inside = |axis: usize, pos: usize| {
        (0..w.kernel[axis])
            .filter(|&k| {
                let p = pos * w.stride[axis] + k;
                p >= w.padding[axis] && p - w.padding[axis] < w.hw[axis]
            })
            .count()
    };
    inside(0, i) * inside(1, j)
}
