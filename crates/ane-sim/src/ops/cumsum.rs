//! `cumsum` along an axis (`exclusive`: each output sums the elements before it; `reverse`:
//! from the end). Float sums run in f64 and each output is rounded once; int32 sums wrap.

use crate::buffers::{Buffers, FloatView, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::reduce::Blocks;
use crate::prepare::op_cx::OpCx;
use crate::storage::{Kind, View};
use ane_mil::ops::shape::normalize_axis;

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let a = cx.int("axis")?;
    let axis = normalize_axis(a, x.shape.len()).ok_or_else(|| cx.internal("axis out of range"))?;
    let exclusive = cx.bool("exclusive")?;
    let reverse = cx.bool("reverse")?;
    let out = cx.output(0)?;
    let blocks = Blocks {
        outer: x.shape[..axis].iter().product(),
        r: x.shape[axis],
        inner: x.shape[axis + 1..].iter().product(),
    };
    cx.push(
        Cumsum {
            blocks,
            exclusive,
            reverse,
            x: x.lid,
            out: out.lid,
        },
        ScratchNeed::f32(usize::from(x.kind == Kind::F16) * 2 * x.len()),
    );
    Ok(())
}

#[derive(Debug)]
struct Cumsum {
    blocks: Blocks,
    exclusive: bool,
    reverse: bool,
    x: Lid,
    out: Lid,
}

impl Cumsum {
    /// Calls `column(positions)` for every column along the axis, with positions in
    /// accumulation order.
    fn for_each_column(&self, mut column: impl FnMut(&mut dyn Iterator<Item = usize>)) {
        let b = self.blocks;
        let reverse = self.reverse;
        for o in 0..b.outer {
            for j in 0..b.inner {
                let mut positions = (0..b.r).map(|step| {
                    let i = if reverse { b.r - 1 - step } else { step };
                    (o * b.r + i) * b.inner + j
                });
                column(&mut positions);
            }
        }
    }
}

impl Kernel for Cumsum {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let exclusive = self.exclusive;
        let scratch = &mut cx.scratch.f32;
        if let View::I32(_) = bufs.view(self.x)? {
            return bufs.with_typed_output::<i32, _>(self.out, |bufs, out| {
                let x = bufs.get::<i32>(self.x)?;
                self.for_each_column(|positions| {
                    let mut sum = 0i32;
                    for at in positions {
                        let next = sum.wrapping_add(x[at]);
                        out[at] = if exclusive { sum } else { next };
                        sum = next;
                    }
                });
                Ok(())
            });
        }
        bufs.with_float_output(self.out, |bufs, out| {
            let xv = bufs.float(self.x)?;
            let n = match xv {
                FloatView::F16(v) => v.len(),
                FloatView::F32(_) => 0,
            };
            let (xs, rest) = scratch.split_at_mut(n);
            let x = widen(xv, xs)?;
            compute_into(out, rest, |o| {
                self.for_each_column(|positions| {
                    let mut sum = 0f64;
                    for at in positions {
                        let next = sum + f64::from(x[at]);
                        o[at] = if exclusive { sum as f32 } else { next as f32 };
                        sum = next;
                    }
                });
                Ok(())
            })
        })
    }
}
