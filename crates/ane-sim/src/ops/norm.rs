//! Normalizations: `layer_norm` over any axes, `instance_norm` (each (n, c) plane over its
//! spatial positions) and `batch_norm` (inference form, per-channel statistics).
//!
//! Statistics are computed in f64 with two passes (mean, then the biased variance
//! `Σ (x − mean)² / n`); `epsilon` goes inside the square root; the result
//! `(x − mean) · inv_std · gamma + beta` is formed in f32 and rounded once. `batch_norm` computes
//! `(x − mean_c) · scale_c + beta_c` with `scale_c = gamma_c / sqrt(variance_c + epsilon)`
//! folded in f64.

use crate::buffers::{Buffers, FloatView, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::copy::push_permute;
use crate::ops::reduce::{contiguous_axes, sorted_axes, Blocks};
use crate::prepare::op_cx::OpCx;
use crate::storage::Kind;
use ane_cpu::layout::inverse_permutation;

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
    fn compute(&self, x: &[f32], out: &mut [f32], cols: &mut [f64]) {
        let b = self.blocks;
        let (mean, inv_std) = cols.split_at_mut(b.inner);
        for o in 0..b.outer {
            let block = o * b.r * b.inner;
            mean[..b.inner].fill(0.0);
            for i in 0..b.r {
                for (j, m) in mean.iter_mut().enumerate() {
                    *m += f64::from(x[block + i * b.inner + j]);
                }
            }
            mean.iter_mut().for_each(|m| *m /= b.r as f64);
            inv_std[..b.inner].fill(0.0);
            for i in 0..b.r {
                for j in 0..b.inner {
                    let d = f64::from(x[block + i * b.inner + j]) - mean[j];
                    inv_std[j] += d * d;
                }
            }
            for v in inv_std[..b.inner].iter_mut() {
                *v = 1.0 / (*v / b.r as f64 + f64::from(self.epsilon)).sqrt();
            }
            let (g_outer, b_outer) = match &self.affine {
                Affine::PerChannel {
                    gamma,
                    beta,
                    channels,
                } => {
                    let c = o % (*channels).max(1);
                    (gamma.as_ref().map(|g| g[c]), beta.as_ref().map(|b| b[c]))
                }
                Affine::PerPosition { .. } => (None, None),
            };
            for i in 0..b.r {
                let (g, sh) = match &self.affine {
                    Affine::PerPosition { gamma, beta } => (
                        gamma.as_ref().map_or(1.0, |g| g[i]),
                        beta.as_ref().map_or(0.0, |b| b[i]),
                    ),
                    Affine::PerChannel { .. } => (g_outer.unwrap_or(1.0), b_outer.unwrap_or(0.0)),
                };
                for j in 0..b.inner {
                    let at = block + i * b.inner + j;
                    let normalized = ((f64::from(x[at]) - mean[j]) * inv_std[j]) as f32;
                    out[at] = normalized * g + sh;
                }
            }
        }
    }
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
            compute_into(out, rest, |o| {
                self.compute(x, o, cols);
                Ok(())
            })
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
    let scale = (0..channels)
        .map(|c| {
            let g = gamma.as_ref().map_or(1.0, |g| f64::from(g[c]));
            (g / (f64::from(variance[c]) + f64::from(epsilon)).sqrt()) as f32
        })
        .collect();
    let shift = (0..channels)
        .map(|c| beta.as_ref().map_or(0.0, |b| b[c]))
        .collect();
    let out = cx.output(0)?;
    let plane = x.shape[2..].iter().product();
    cx.push(
        BatchNorm {
            mean,
            scale,
            shift,
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
    mean: Vec<f32>,
    scale: Vec<f32>,
    shift: Vec<f32>,
    plane: usize,
    x: Lid,
    out: Lid,
}

impl Kernel for BatchNorm {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let scratch = &mut cx.scratch.f32;
        let channels = self.mean.len();
        bufs.with_float_output(self.out, |bufs, out| {
            let n = match bufs.float(self.x)? {
                FloatView::F16(v) => v.len(),
                FloatView::F32(_) => 0,
            };
            let (xs, rest) = scratch.split_at_mut(n);
            let x = widen(bufs.float(self.x)?, xs)?;
            compute_into(out, rest, |o| {
                if self.plane == 0 || channels == 0 {
                    return Ok(());
                }
                for (p, (dst, src)) in o
                    .chunks_mut(self.plane)
                    .zip(x.chunks(self.plane))
                    .enumerate()
                {
                    let c = p % channels;
                    let (m, s, b) = (self.mean[c], self.scale[c], self.shift[c]);
                    for (d, &v) in dst.iter_mut().zip(src) {
                        *d = (v - m) * s + b;
                    }
                }
                Ok(())
            })
        })
    }
}
