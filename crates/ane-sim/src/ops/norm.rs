//! Normalizations: `layer_norm` over any axes, `instance_norm` (each (n, c) plane over its
//! spatial positions) and `batch_norm` (inference form, per-channel statistics).
//!
//! Statistics are computed in f64 with two passes (mean, then the biased variance
//! `Σ (x − mean)² / n`); `epsilon` goes inside the square root; the result
//! `(x − mean) · inv_std · gamma + beta` is formed in f32 and rounded once. `batch_norm` computes
//! `(x − mean_c) · scale_c + beta_c` with `scale_c = gamma_c / sqrt(variance_c + epsilon)`
//! folded in f64. The kernels are `ane_cpu::norm`'s (`normalize_blocks_f32`, `BatchNormPlan`);
//! this file is MIL glue.

use crate::buffers::{Buffers, FloatView, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::copy::push_permute;
use crate::ops::reduce::{contiguous_axes, sorted_axes, Blocks};
use crate::prepare::op_cx::OpCx;
use crate::storage::Kind;
use ane_cpu::layout::inverse_permutation;
use ane_cpu::norm::{normalize_blocks_f32, BatchNormParams, BatchNormPlan, NormAffine};

/// The op types handled here.
pub(crate) const OPS: &[&str] = &["layer_norm", "batch_norm", "instance_norm"];

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    match cx.op_type.as_str() {
        "layer_norm" => layer_norm(cx),
        "instance_norm" => instance_norm(cx),
        "batch_norm" => batch_norm(cx),
        other => Err(cx.internal(format!("`{other}` is not a norm"))),
    }
}

fn opt_floats(cx: &OpCx<'_>, name: &str) -> Result<Option<Vec<f32>>, SimError> {
    if cx.has(name) {
        cx.floats(name).map(Some)
    } else {
        Ok(None)
    }
}

/// How the normalized values are scaled and shifted.
#[derive(Debug, Clone)]
enum Affine {
    /// `gamma`/`beta` indexed by the position inside the normalized block (`layer_norm`).
    PerPosition {
        gamma: Option<Vec<f32>>,
        beta: Option<Vec<f32>>,
    },
    /// `gamma`/`beta` indexed by channel `outer % channels` (`instance_norm`).
    PerChannel {
        gamma: Option<Vec<f32>>,
        beta: Option<Vec<f32>>,
        channels: usize,
    },
}

fn scratch_for(kind: Kind, len: usize, inner: usize) -> ScratchNeed {
    ScratchNeed {
        f32: usize::from(kind == Kind::F16) * 2 * len,
        f64: 2 * inner,
    }
}

fn layer_norm(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let axes = sorted_axes(cx, "axes", x.shape.len())?;
    let epsilon = cx.float("epsilon")?;
    let affine = Affine::PerPosition {
        gamma: opt_floats(cx, "gamma")?,
        beta: opt_floats(cx, "beta")?,
    };
    let (src, blocks, perm) = contiguous_axes(cx, &x, &axes)?;
    let scratch = scratch_for(x.kind, x.len(), blocks.inner);
    match perm {
        None => {
            let out = cx.output(0)?;
            cx.push(
                Norm {
                    blocks,
                    epsilon,
                    affine,
                    x: src,
                    out: out.lid,
                },
                scratch,
            );
        }
        Some(perm) => {
            // Normalize in the moved layout, then move the result back.
            let moved = cx.temp(x.kind, x.len());
            cx.push(
                Norm {
                    blocks,
                    epsilon,
                    affine,
                    x: src,
                    out: moved,
                },
                scratch,
            );
            cx.read_temp(moved);
            let out = cx.output(0)?;
            let moved_shape: Vec<usize> = perm.iter().map(|&p| x.shape[p]).collect();
            push_permute(
                cx,
                x.kind,
                moved,
                out.lid,
                &moved_shape,
                &inverse_permutation(&perm),
            )?;
        }
    }
    Ok(())
}

fn instance_norm(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let epsilon = cx.float("epsilon")?;
    let channels = x.shape[1];
    let affine = Affine::PerChannel {
        gamma: opt_floats(cx, "gamma")?,
        beta: opt_floats(cx, "beta")?,
        channels,
    };
    let blocks = Blocks {
        outer: x.shape[..2].iter().product(),
        r: x.shape[2..].iter().product(),
        inner: 1,
    };
    let out = cx.output(0)?;
    let scratch = scratch_for(x.kind, x.len(), 1);
    cx.push(
        Norm {
            blocks,
            epsilon,
            affine,
            x: x.lid,
            out: out.lid,
        },
        scratch,
    );
    Ok(())
}

#[derive(Debug)]
struct Norm {
    blocks: Blocks,
    epsilon: f32,
    affine: Affine,
    x: Lid,
    out: Lid,
}

impl Norm {
    fn compute(&self, x: &[f32], out: &mut [f32], cols: &mut [f64]) -> Result<(), KernelError> {
        let affine = match &self.affine {
            Affine::PerPosition { gamma, beta } => NormAffine::PerPosition {
                gamma: gamma.as_deref(),
                beta: beta.as_deref(),
            },
            Affine::PerChannel {
                gamma,
                beta,
                channels,
            } => NormAffine::PerChannel {
                gamma: gamma.as_deref(),
                beta: beta.as_deref(),
                channels: *channels,
            },
        };
        normalize_blocks_f32(self.blocks, x, out, cols, self.epsilon, &affine).map_err(internal)
    }
}

fn internal(e: ane_cpu::CpuError) -> KernelError {
    KernelError::Internal(e.to_string())
}

impl Kernel for Norm {
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
            compute_into(out, rest, |o| self.compute(x, o, cols))
        })
    }
}

fn batch_norm(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let channels = x.shape[1];
    let mean = cx.floats("mean")?;
    let variance = cx.floats("variance")?;
    let gamma = opt_floats(cx, "gamma")?;
    let beta = opt_floats(cx, "beta")?;
    let epsilon = cx.float("epsilon")?;
    if mean.len() != channels || variance.len() != channels {
        return Err(cx.internal("per-channel statistics do not match C"));
    }
    let params = BatchNormParams {
        mean: &mean,
        variance: &variance,
        gamma: gamma.as_deref(),
        beta: beta.as_deref(),
        epsilon,
    };
    let plan = BatchNormPlan::new(channels, &params).map_err(|e| cx.internal(e.to_string()))?;
    let out = cx.output(0)?;
    let plane = x.shape[2..].iter().product();
    cx.push(
        BatchNorm {
            plan,
            plane,
            x: x.lid,
            out: out.lid,
        },
        ScratchNeed::f32(usize::from(x.kind == Kind::F16) * 2 * x.len()),
    );
    Ok(())
}

#[derive(Debug)]
struct BatchNorm {
    plan: BatchNormPlan,
    plane: usize,
    x: Lid,
    out: Lid,
}

impl Kernel for BatchNorm {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let parallel = cx.parallel;
        let scratch = &mut cx.scratch.f32;
        bufs.with_float_output(self.out, |bufs, out| {
            let n = match bufs.float(self.x)? {
                FloatView::F16(v) => v.len(),
                FloatView::F32(_) => 0,
            };
            let (xs, rest) = scratch.split_at_mut(n);
            let x = widen(bufs.float(self.x)?, xs)?;
            compute_into(out, rest, |o| {
                self.plan
                    .run_f32(x, self.plane, o, parallel)
                    .map_err(internal)
            })
        })
    }
}
