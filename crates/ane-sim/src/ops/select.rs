//! `select(cond, a, b)`: picks `a` where `cond` is true, else `b`, with the three operands
//! broadcast together (numpy). Elements move in their storage type.

use crate::buffers::{Buffers, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::broadcast::BroadcastPlan;
use crate::exec::parallel::for_chunks;
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::prepare::op_cx::OpCx;
use crate::storage::{with_elem, Elem};

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let cond = cx.input("cond")?;
    let a = cx.input("a")?;
    let b = cx.input("b")?;
    let out = cx.output(0)?;
    if a.kind != b.kind || a.kind != out.kind {
        return Err(cx.internal("`a`, `b` and the output are stored differently"));
    }
    let plan = BroadcastPlan::new(&out.shape, [&cond.shape, &a.shape, &b.shape]);
    with_elem!(a.kind, T => {
        cx.push(
            Select::<T> { plan, cond: cond.lid, a: a.lid, b: b.lid, out: out.lid, _t: std::marker::PhantomData },
            ScratchNeed::default(),
        );
    });
    Ok(())
}

#[derive(Debug)]
struct Select<T> {
    plan: BroadcastPlan<3>,
    cond: Lid,
    a: Lid,
    b: Lid,
    out: Lid,
    _t: std::marker::PhantomData<T>,
}

impl<T: Elem + std::fmt::Debug> Kernel for Select<T> {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let steps: [usize; 3] = std::array::from_fn(|k| usize::from(self.plan.contiguous(k)));
        bufs.with_typed_output::<T, _>(self.out, |bufs, out| {
            let c = bufs.get::<u8>(self.cond)?;
            let a = bufs.get::<T>(self.a)?;
            let b = bufs.get::<T>(self.b)?;
            for_chunks(out, cx.parallel, |start, chunk| {
                self.plan
                    .for_each_segment(start, start + chunk.len(), usize::MAX, |s| {
                        let o = &mut chunk[s.out - start..][..s.len];
                        for (i, slot) in o.iter_mut().enumerate() {
                            let pick = c[s.at[0] + i * steps[0]] != 0;
                            *slot = if pick {
                                a[s.at[1] + i * steps[1]]
                            } else {
                                b[s.at[2] + i * steps[2]]
                            };
                        }
                        Ok(())
                    })
            })
        })
    }
}
