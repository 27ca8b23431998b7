//! `softmax` along one axis: `e^(x − max) / Σ e^(x − max)`, exponentials in f32, the sum in
//! f64, one rounding. A row that is all −inf gives NaN (−inf − −inf), as the formula does; a
//! NaN anywhere in a row makes the whole row NaN. The kernel is
//! `ane_cpu::reduce::softmax_blocks_f32`; this file is MIL glue.

use crate::buffers::{Buffers, FloatView, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::reduce::Blocks;
use crate::prepare::op_cx::OpCx;
use crate::storage::Kind;
use ane_cpu::reduce::softmax_blocks_f32;
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
                softmax_blocks_f32(self.blocks, x, o, cols, false)
                    .map_err(|e| KernelError::Internal(e.to_string()))
            })
        })
    }
}
