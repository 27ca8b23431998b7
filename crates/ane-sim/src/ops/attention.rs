//! `scaled_dot_product_attention`: `softmax(Q·Kᵀ / √E + mask) · V` per batch (every dim but the
//! last two). Both products are f32 GEMMs; scores are scaled in f32, the mask added (a bool mask
//! adds −inf where false, a float mask is added as is, broadcast to `[*, L, S]`), each row goes
//! through softmax (f32 exponentials, f64 sum) and the output is rounded once. A row masked
//! everywhere is NaN (see `softmax`); with no keys at all (`S = 0`) the output is 0. Batches
//! run in parallel, each thread with its own scores.

use crate::buffers::{Buffers, FloatView, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::prepare::op_cx::OpCx;
use crate::storage::{Kind, View};
use ane_cpu::gemm::{gemm_f32, MatMut, MatRef};
use ane_cpu::shape::broadcast_strides;
use rayon::prelude::*;

/// The mask, resolved to per-batch offsets and row/column strides into its data.
#[derive(Debug)]
struct Mask {
    lid: Lid,
    bases: Vec<usize>,
    row_stride: usize,
    col_stride: usize,
}

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let q = cx.input("query")?;
    let k = cx.input("key")?;
    let v = cx.input("value")?;
    let mask_in = cx.opt_input("attn_mask")?;
    let out = cx.output(0)?;
    let rank = q.shape.len();
    let batch_shape = &q.shape[..rank - 2];
    let dims = Dims {
        batch: batch_shape.iter().product(),
        l: q.shape[rank - 2],
        e: q.shape[rank - 1],
        s: k.shape[rank - 2],
        ev: v.shape[rank - 1],
    };
    let mask = match &mask_in {
        None => None,
        Some(m) => {
            let mut full = batch_shape.to_vec();
            full.extend([dims.l, dims.s]);
            let strides = broadcast_strides(&m.shape, &full);
            let bases = (0..dims.batch)
                .map(|mut b| {
                    let mut at = 0;
                    for d in (0..batch_shape.len()).rev() {
                        at += (b % batch_shape[d]) * strides[d];
                        b /= batch_shape[d];
                    }
                    at
                })
                .collect();
            Some(Mask {
                lid: m.lid,
                bases,
                row_stride: strides[rank - 2],
                col_stride: strides[rank - 1],
            })
        }
    };
    let f16 = |kind: Kind, len: usize| usize::from(kind == Kind::F16) * len;
    let workers = cx.threads.max(1);
    let scratch = f16(q.kind, q.len())
        + f16(k.kind, k.len())
        + f16(v.kind, v.len())
        + f16(out.kind, out.len())
        + workers * (dims.l * dims.s).max(1);
    let mask_scratch = mask_in.as_ref().map_or(0, |m| f16(m.kind, m.len()));
    cx.push(
        Attention {
            dims,
            scale: (1.0 / (dims.e as f64).sqrt()) as f32,
            workers,
            q: q.lid,
            k: k.lid,
            v: v.lid,
            mask,
            out: out.lid,
        },
        ScratchNeed::f32(scratch + mask_scratch),
    );
    Ok(())
}

#[derive(Debug, Clone, Copy)]
struct Dims {
    batch: usize,
    l: usize,
    e: usize,
    s: usize,
    ev: usize,
}

#[derive(Debug)]
struct Attention {
    dims: Dims,
    scale: f32,
    workers: usize,
    q: Lid,
    k: Lid,
    v: Lid,
    mask: Option<Mask>,
    out: Lid,
}

/// The mask values as the scores see them.
#[derive(Clone, Copy)]
enum MaskData<'a> {
    None,
    Bool(&'a [u8]),
    Float(&'a [f32]),
}

fn internal(e: ane_cpu::CpuError) -> KernelError {
    KernelError::Internal(e.to_string())
}

fn split_widen<'a>(
    v: FloatView<'a>,
    tmp: &'a mut [f32],
) -> Result<(&'a [f32], &'a mut [f32]), KernelError> {
    let n = match v {
        FloatView::F16(s) => s.len(),
        FloatView::F32(_) => 0,
    };
    let (head, rest) = tmp.split_at_mut(n);
    Ok((widen(v, head)?, rest))
}

/// The f32 views attention reads.
#[derive(Clone, Copy)]
struct Operands<'a> {
    q: &'a [f32],
    k: &'a [f32],
    v: &'a [f32],
    mask: MaskData<'a>,
}

impl Attention {
    /// One batch: `out [L, EV]` from `q [L, E]`, `k [S, E]`, `v [S, EV]`.
    fn batch(
        &self,
        b: usize,
        ops: Operands<'_>,
        scores: &mut [f32],
        out: &mut [f32],
        parallel: bool,
    ) -> Result<(), KernelError> {
        let Operands { q, k, v, mask } = ops;
        let d = self.dims;
        let q = &q[b * d.l * d.e..][..d.l * d.e];
        let k = &k[b * d.s * d.e..][..d.s * d.e];
        let v = &v[b * d.s * d.ev..][..d.s * d.ev];
        if d.l == 0 || d.ev == 0 {
            return Ok(());
        }
        if d.s == 0 {
            // No keys: the weighted sum has no terms.
            out.fill(0.0);
            return Ok(());
        }
        let scores = &mut scores[..d.l * d.s];
        if d.e == 0 {
            scores.fill(0.0);
        } else {
            gemm_f32(
                MatMut::row_major(scores, d.l, d.s).map_err(internal)?,
                MatRef::row_major(q, d.l, d.e).map_err(internal)?,
                MatRef::row_major(k, d.s, d.e).map_err(internal)?.t(),
                false,
                parallel,
            )
            .map_err(internal)?;
        }
        for (l, row) in scores.chunks_mut(d.s).enumerate() {
            for (s, x) in row.iter_mut().enumerate() {
                *x *= self.scale;
                if let Some(m) = &self.mask {
                    let at = m.bases[b] + l * m.row_stride + s * m.col_stride;
                    match mask {
                        MaskData::Bool(mv) if mv[at] == 0 => *x = f32::NEG_INFINITY,
                        MaskData::Float(mv) => *x += mv[at],
                        _ => {}
                    }
                }
            }
            let max = row.iter().fold(f32::NEG_INFINITY, |m, &x| {
                if m.is_nan() || x.is_nan() {
                    f32::NAN
                } else {
                    m.max(x)
                }
            });
            let mut sum = 0f64;
            for x in row.iter_mut() {
                *x = (*x - max).exp();
                sum += f64::from(*x);
            }
            for x in row.iter_mut() {
                *x = (f64::from(*x) / sum) as f32;
            }
        }
        gemm_f32(
            MatMut::row_major(out, d.l, d.ev).map_err(internal)?,
            MatRef::row_major(scores, d.l, d.s).map_err(internal)?,
            MatRef::row_major(v, d.s, d.ev).map_err(internal)?,
            false,
            parallel,
        )
        .map_err(internal)
    }
}

impl Kernel for Attention {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let parallel = cx.parallel;
        let scratch = &mut cx.scratch.f32;
        let d = self.dims;
        bufs.with_float_output(self.out, |bufs, out| {
            let (q, rest) = split_widen(bufs.float(self.q)?, scratch)?;
            let (k, rest) = split_widen(bufs.float(self.k)?, rest)?;
            let (v, rest) = split_widen(bufs.float(self.v)?, rest)?;
            let (mask, rest) = match &self.mask {
                None => (MaskData::None, rest),
                Some(m) => match bufs.view(m.lid)? {
                    View::Bool(mv) => (MaskData::Bool(mv), rest),
                    View::F16(mv) => {
                        let (f, rest) = split_widen(FloatView::F16(mv), rest)?;
                        (MaskData::Float(f), rest)
                    }
                    View::F32(mv) => (MaskData::Float(mv), rest),
                    View::I32(_) => {
                        return Err(KernelError::Internal("integer attention mask".into()))
                    }
                },
            };
            let out_tmp = match &out {
                crate::buffers::FloatViewMut::F16(o) => o.len(),
                crate::buffers::FloatViewMut::F32(_) => 0,
            };
            let (o_tmp, scores) = rest.split_at_mut(out_tmp);
            let ops = Operands { q, k, v, mask };
            let chunk = d.l * d.ev;
            let score_len = (d.l * d.s).max(1);
            compute_into(out, o_tmp, |o| {
                if chunk == 0 || d.batch == 0 {
                    return Ok(());
                }
                if parallel && self.workers > 1 && d.batch > 1 {
                    let per = d.batch.div_ceil(self.workers);
                    o.par_chunks_mut(per * chunk)
                        .zip(scores.par_chunks_mut(score_len))
                        .enumerate()
                        .try_for_each(|(g, (block, sc))| {
                            for (i, ob) in block.chunks_mut(chunk).enumerate() {
                                self.batch(g * per + i, ops, sc, ob, false)?;
                            }
                            Ok(())
                        })
                } else {
                    for (b, ob) in o.chunks_mut(chunk).enumerate() {
                        self.batch(b, ops, scores, ob, parallel)?;
                    }
                    Ok(())
                }
            })
        })
    }
}
