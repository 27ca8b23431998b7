//! `conv` over 1–3 spatial dims with groups (depthwise included), strides, dilations and every
//! pad type. This file is MIL glue: it decodes the arguments, resolves the pad type into
//! explicit padding and widens f16 operands; the convolution itself (im2col + f32 GEMM per
//! (image, group), output starting as the bias) is `ane_cpu::conv::ConvPlan`. f16 results are
//! rounded once.

use crate::buffers::{Buffers, FloatView, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::window::{custom_pads, effective, pad_type, per_dim, window_pads};
use crate::prepare::op_cx::OpCx;
use crate::storage::Kind;
use ane_cpu::conv::{ConvParams, ConvPlan};

/// A float operand of a window op: run-time tensor or constant widened when preparing.
#[derive(Debug)]
enum Param {
    Tensor { lid: Lid, len: usize, f16: bool },
    Const(Vec<f32>),
}

impl Param {
    /// Argument `name` (`weight`, `bias`).
    fn of(cx: &mut OpCx<'_>, name: &str) -> Result<Param, SimError> {
        if cx.is_const(name) {
            return Ok(Param::Const(cx.floats(name)?));
        }
        let t = cx.input(name)?;
        Ok(Param::Tensor {
            lid: t.lid,
            len: t.len(),
            f16: t.kind == Kind::F16,
        })
    }

    /// f32 scratch it needs at run time.
    fn scratch(&self) -> usize {
        match self {
            Param::Tensor { len, f16: true, .. } => *len,
            _ => 0,
        }
    }

    /// The values as f32, widening into the front of `tmp`; returns the rest of `tmp`.
    fn get<'a>(
        &'a self,
        bufs: &'a Buffers,
        tmp: &'a mut [f32],
    ) -> Result<(&'a [f32], &'a mut [f32]), KernelError> {
        match self {
            Param::Const(v) => Ok((v, tmp)),
            Param::Tensor { lid, .. } => {
                let v = bufs.float(*lid)?;
                let n = match v {
                    FloatView::F16(s) => s.len(),
                    FloatView::F32(_) => 0,
                };
                let (head, rest) = tmp.split_at_mut(n);
                Ok((widen(v, head)?, rest))
            }
        }
    }
}

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let w_shape = cx.value("weight")?.shape.clone();
    let spatial = x.shape.len() - 2;
    let strides = per_dim(cx, "strides", spatial)?;
    let dilations = per_dim(cx, "dilations", spatial)?;
    let pt = pad_type(cx)?;
    let custom = custom_pads(cx, pt, spatial)?;
    let groups = cx.int("groups")?.max(1) as usize;
    let in_sp = x.shape[2..].to_vec();
    let extent: Vec<usize> = (0..spatial)
        .map(|d| effective(w_shape[d + 2], dilations[d]))
        .collect();
    let pads = window_pads(pt, &custom, &in_sp, &extent, &strides);
    let params = ConvParams {
        strides,
        dilations,
        pads,
        groups,
    };
    let plan = ConvPlan::conv(&x.shape, &w_shape, &params);
    push_conv_kernel(cx, plan, "convolution")
}

/// Finishes compiling `conv` or `conv_transpose` once its geometry is planned: checks the plan
/// against the inferred output type, resolves `weight` and `bias`, and adds the kernel (the two
/// ops run the same way; only their plans differ).
pub(crate) fn push_conv_kernel(
    cx: &mut OpCx<'_>,
    plan: Result<ConvPlan, ane_cpu::CpuError>,
    what: &str,
) -> Result<(), SimError> {
    let plan = plan.map_err(|e| cx.internal(e.to_string()))?;
    let x = cx.input("x")?;
    let out = cx.output(0)?;
    if plan.output_shape() != out.shape {
        return Err(cx.internal(format!(
            "{what} gives {:?}, the output is typed {:?}",
            plan.output_shape(),
            out.shape
        )));
    }
    let weight = Param::of(cx, "weight")?;
    let bias = if cx.has("bias") {
        Some(Param::of(cx, "bias")?)
    } else {
        None
    };
    let scratch = usize::from(x.kind == Kind::F16) * x.len()
        + weight.scratch()
        + bias.as_ref().map_or(0, Param::scratch)
        + usize::from(out.kind == Kind::F16) * out.len();
    cx.push(
        Conv {
            plan,
            x: x.lid,
            weight,
            bias,
            out: out.lid,
        },
        ScratchNeed::f32(scratch),
    );
    Ok(())
}

/// A planned `conv` or `conv_transpose`.
#[derive(Debug)]
struct Conv {
    plan: ConvPlan,
    x: Lid,
    weight: Param,
    bias: Option<Param>,
    out: Lid,
}

fn internal(e: ane_cpu::CpuError) -> KernelError {
    KernelError::Internal(e.to_string())
}

/// Runs `compute(x, weight, bias, out)` on the f32 views of a window op's operands: f16 ones are
/// widened into `scratch` (sized by the op's `ScratchNeed`), an f16 output is rounded once.
fn with_operands(
    bufs: &mut Buffers,
    scratch: &mut [f32],
    (x, weight, bias, out): (Lid, &Param, Option<&Param>, Lid),
    compute: impl FnOnce(&[f32], &[f32], Option<&[f32]>, &mut [f32]) -> Result<(), KernelError>,
) -> Result<(), KernelError> {
    bufs.with_float_output(out, |bufs, out| {
        let xv = bufs.float(x)?;
        let n = match xv {
            FloatView::F16(v) => v.len(),
            FloatView::F32(_) => 0,
        };
        let (xs, rest) = scratch.split_at_mut(n);
        let x = widen(xv, xs)?;
        let (w, rest) = weight.get(bufs, rest)?;
        let (bias, rest) = match bias {
            Some(b) => {
                let (v, rest) = b.get(bufs, rest)?;
                (Some(v), rest)
            }
            None => (None, rest),
        };
        compute_into(out, rest, |o| compute(x, w, bias, o))
    })
}

impl Kernel for Conv {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let parallel = cx.parallel;
        let operands = (self.x, &self.weight, self.bias.as_ref(), self.out);
        with_operands(bufs, &mut cx.scratch.f32, operands, |x, w, bias, o| {
            self.plan.run_f32(x, w, bias, o, parallel).map_err(internal)
        })
    }
}
