//! `softmax` along one axis: `e^(x − max) / Σ e^(x − max)`, exponentials in f32, the sum in
//! f64, one rounding. A row that is all −inf gives NaN (−inf − −inf), as the formula does; a
//! NaN anywhere in a row makes the whole row NaN.

use crate::buffers::{Buffers, FloatView, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::reduce::Blocks;
use crate::prepare::op_cx::OpCx;
use crate::storage::Kind;
use ane_mil::ops::shape::normalize_axis;

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let a = cx.int("axis")?;
    let axis = normalize_axis(a, x.shape.len()).ok_or_else(|| cx.internal("axis out of range"))?;
    let out = cx.output(0)?;
    let blocks = Blocks {
        outer: x.shape[..axis].iter().product(),
        r: x.shape[axis],
        inner: x.shape[axis + 1..].iter().product(),
    };
    let halves = usize::from(x.kind == Kind::F16) * 2 * x.len();
    cx.push(
        Softmax {
            blocks,
            x: x.lid,
            out: out.lid,
        },
        ScratchNeed {
            f32: halves,
            f64: 2 * blocks.inner,
        },
    );
    Ok(())
}

#[derive(Debug)]
struct Softmax {
    blocks: Blocks,
    x: Lid,
    out: Lid,
}

/// Softmax of every column of `[outer, r, inner]` data into `out`; `cols` holds 2·inner f64.
pub(crate) fn softmax_columns(b: Blocks, x: &[f32], out: &mut [f32], cols: &mut [f64]) {
    let (max, sum) = cols.split_at_mut(b.inner);
    for o in 0..b.outer {
        let block = o * b.r * b.inner;
        max.fill(f64::NEG_INFINITY);
        for i in 0..b.r {
            for (j, m) in max.iter_mut().enumerate() {
                let v = f64::from(x[block + i * b.inner + j]);
                *m = if m.is_nan() || v.is_nan() {
                    f64::NAN
                } else {
                    m.max(v)
                };
            }
        }
        sum[..b.inner].fill(0.0);
        for i in 0..b.r {
            let row = block + i * b.inner;
            let (xs, os) = (&x[row..row + b.inner], &mut out[row..row + b.inner]);
            for (((o, &v), &m), s) in os.iter_mut().zip(xs).zip(max.iter()).zip(sum.iter_mut()) {
                let e = (v - m as f32).exp();
                *o = e;
                *s += f64::from(e);
            }
        }
        for i in 0..b.r {
            let row = block + i * b.inner;
            for (o, &s) in out[row..row + b.inner].iter_mut().zip(sum.iter()) {
                *o = (f64::from(*o) / s) as f32;
            }
        }
    }
}

impl Kernel for Softmax {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let cols = &mut cx.scratch.f64;
        let scratch = &mut cx.scratch.f32;
        bufs.with_float_output(self.out, |bufs, out| {
            let n = match bufs.float(self.x)? {
                FloatView::F16(v) => v.len(),
                FloatView::F32(_) => 0,
            };
            let (xs, rest) = scratch.split_at_mut(n);
            let x = widen(bufs.float(self.x)?, xs)?;
            compute_into(out, rest, |o| {
                softmax_columns(self.blocks, x, o, cols);
                Ok(())
            })
        })
    }
}
