//! `max_pool` and `avg_pool` over 1–3 spatial dims, with every pad type and ceil mode. This file
//! is MIL glue (arguments, pad type, f16 widening, one rounding of f16 results); the pooling
//! itself is `ane_cpu::pool::PoolPlan`, whose output size rule (coremltools') matches shape
//! inference.
//!
//! A window covers input positions `[o·s − pad_before, o·s − pad_before + k)`. Padded positions
//! never win a max (a window with no real element gives −inf). `avg_pool` sums in f64 and
//! divides by the number of real elements (`exclude_padding_from_average`) or by the window size
//! clipped to the padded input (the default; positions a ceil-mode window hangs past the padding
//! never count). A window with no real element averages to 0.

use crate::buffers::{Buffers, FloatView, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::window::{custom_pads, pad_type, per_dim, window_pads};
use crate::prepare::op_cx::OpCx;
use crate::storage::Kind;
use ane_cpu::pool::{PoolKind, PoolParams, PoolPlan};

/// The op types handled here.
pub(crate) const OPS: &[&str] = &["max_pool", "avg_pool"];

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let spatial = x.shape.len() - 2;
    let kernel = per_dim(cx, "kernel_sizes", spatial)?;
    let strides = per_dim(cx, "strides", spatial)?;
    let pt = pad_type(cx)?;
    let custom = custom_pads(cx, pt, spatial)?;
    let pads = window_pads(pt, &custom, &x.shape[2..], &kernel, &strides);
    let kind = if cx.op_type == "max_pool" {
        PoolKind::Max
    } else {
        PoolKind::Avg {
            exclude_padding: cx.bool("exclude_padding_from_average")?,
        }
    };
    let params = PoolParams {
        kernel,
        strides,
        pads,
        ceil_mode: cx.has("ceil_mode") && cx.bool("ceil_mode")?,
    };
    let plan = PoolPlan::new(&x.shape, &params, kind).map_err(|e| cx.internal(e.to_string()))?;
    let out = cx.output(0)?;
    if plan.output_shape() != out.shape.as_slice() {
        return Err(cx.internal(format!(
            "pooling gives {:?}, the output is typed {:?}",
            plan.output_shape(),
            out.shape
        )));
    }
    let scratch =
        usize::from(x.kind == Kind::F16) * x.len() + usize::from(out.kind == Kind::F16) * out.len();
    cx.push(
        Pool {
            plan,
            x: x.lid,
            out: out.lid,
        },
        ScratchNeed::f32(scratch),
    );
    Ok(())
}

#[derive(Debug)]
struct Pool {
    plan: PoolPlan,
    x: Lid,
    out: Lid,
}

impl Kernel for Pool {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let parallel = cx.parallel;
        let scratch = &mut cx.scratch.f32;
        bufs.with_float_output(self.out, |bufs, out| {
            let xv = bufs.float(self.x)?;
            let n = match xv {
                FloatView::F16(v) => v.len(),
                FloatView::F32(_) => 0,
            };
            let (xs, rest) = scratch.split_at_mut(n);
            let x = widen(xv, xs)?;
            compute_into(out, rest, |o| {
                self.plan
                    .run_f32(x, o, parallel)
                    .map_err(|e| KernelError::Internal(e.to_string()))
            })
        })
    }
}
