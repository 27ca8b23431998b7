//! `conv` over 1–3 spatial dims with groups (depthwise included), strides, dilations and every
//! pad type. Each (image, group) pair is one f32 GEMM `W_g [C_out/g, C_in/g·ΠK] ·
//! col [C_in/g·ΠK, ΠD_out]`, where `col` is the im2col expansion of the image (the image itself
//! for pointwise kernels). The output starts as the bias and the GEMM accumulates onto it; f16
//! results are rounded once. Pairs run in parallel (each thread with its own `col` scratch and
//! a single-threaded GEMM) when there are enough of them, else one by one with a parallel GEMM.

use crate::buffers::{Buffers, FloatView, FloatViewMut, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::window::{custom_pads, effective, pad_type, per_dim, window_pads};
use crate::prepare::op_cx::OpCx;
use crate::storage::Kind;
use ane_cpu::gemm::{gemm_f32, MatMut, MatRef};
use rayon::prelude::*;

/// A float operand of a window op: run-time tensor or constant widened when preparing.
#[derive(Debug)]
pub(crate) enum Param {
    Tensor { lid: Lid, len: usize, f16: bool },
    Const(Vec<f32>),
}

impl Param {
    /// Argument `name` (`weight`, `bias`).
    pub(crate) fn of(cx: &mut OpCx<'_>, name: &str) -> Result<Param, SimError> {
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
    pub(crate) fn scratch(&self) -> usize {
        match self {
            Param::Tensor { len, f16: true, .. } => *len,
            _ => 0,
        }
    }

    /// The values as f32, widening into the front of `tmp`; returns the rest of `tmp`.
    pub(crate) fn get<'a>(
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

/// Sizes of a convolution (also used by `conv_transpose`).
#[derive(Debug, Clone)]
pub(crate) struct Geometry {
    pub batch: usize,
    pub groups: usize,
    pub cin_g: usize,
    pub cout_g: usize,
    pub in_sp: Vec<usize>,
    pub kernel: Vec<usize>,
    pub out_sp: Vec<usize>,
    pub strides: Vec<usize>,
    pub dilations: Vec<usize>,
    pub pads_before: Vec<usize>,
    /// Row-major strides of the input and output spatial dims (set by [`Geometry::finish`]).
    pub in_strides: Vec<usize>,
    pub out_strides: Vec<usize>,
}

impl Geometry {
    /// Fills in the derived strides.
    pub(crate) fn finish(mut self) -> Self {
        self.in_strides = ane_cpu::shape::row_major_strides(&self.in_sp);
        self.out_strides = ane_cpu::shape::row_major_strides(&self.out_sp);
        self
    }

    pub(crate) fn in_plane(&self) -> usize {
        self.in_sp.iter().product()
    }
    pub(crate) fn out_plane(&self) -> usize {
        self.out_sp.iter().product()
    }
    pub(crate) fn taps(&self) -> usize {
        self.kernel.iter().product()
    }
    fn pointwise(&self) -> bool {
        self.kernel.iter().all(|&k| k == 1)
            && self.strides.iter().all(|&s| s == 1)
            && self.pads_before.iter().all(|&p| p == 0)
            && self.in_sp == self.out_sp
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
    let kernel = w_shape[2..].to_vec();
    let extent: Vec<usize> = (0..spatial)
        .map(|d| effective(kernel[d], dilations[d]))
        .collect();
    let pads = window_pads(pt, &custom, &in_sp, &extent, &strides);
    let weight = Param::of(cx, "weight")?;
    let bias = if cx.has("bias") {
        Some(Param::of(cx, "bias")?)
    } else {
        None
    };
    let out = cx.output(0)?;
    let geo = Geometry {
        batch: x.shape[0],
        groups,
        cin_g: x.shape[1] / groups,
        cout_g: w_shape[0] / groups,
        in_sp,
        kernel,
        out_sp: out.shape[2..].to_vec(),
        strides,
        dilations,
        pads_before: pads.iter().map(|p| p.0).collect(),
        in_strides: Vec::new(),
        out_strides: Vec::new(),
    }
    .finish();
    let workers = cx.threads.max(1);
    let col_len = if geo.pointwise() {
        1
    } else {
        (geo.cin_g * geo.taps() * geo.out_plane()).max(1)
    };
    let scratch = usize::from(x.kind == Kind::F16) * x.len()
        + weight.scratch()
        + bias.as_ref().map_or(0, Param::scratch)
        + usize::from(out.kind == Kind::F16) * out.len()
        + workers * col_len;
    cx.push(
        Conv {
            geo,
            workers,
            col_len,
            x: x.lid,
            weight,
            bias,
            out: out.lid,
        },
        ScratchNeed::f32(scratch),
    );
    Ok(())
}

#[derive(Debug)]
struct Conv {
    geo: Geometry,
    workers: usize,
    col_len: usize,
    x: Lid,
    weight: Param,
    bias: Option<Param>,
    out: Lid,
}

/// For output positions `0..count` reading input `o·stride + offset`, the range whose input
/// lies in `0..limit`.
fn valid_range(count: usize, limit: usize, stride: usize, offset: isize) -> (usize, usize) {
    let lo = if offset >= 0 {
        0
    } else {
        offset.unsigned_abs().div_ceil(stride)
    };
    let hi = if (limit as isize) <= offset {
        0
    } else {
        ((limit as isize - offset) as usize).div_ceil(stride)
    };
    let hi = hi.min(count);
    (lo.min(hi), hi)
}

/// Advances a multi-index over `extents`; false after the last one.
fn advance(index: &mut [usize], extents: &[usize]) -> bool {
    for d in (0..index.len()).rev() {
        index[d] += 1;
        if index[d] < extents[d] {
            return true;
        }
        index[d] = 0;
    }
    false
}

/// Expands one group of one image `[C_in/g, *D]` into `col [C_in/g · ΠK, ΠD_out]`:
/// `col[(c, k), o] = x[c, o·s + k·dil − pad_before]`, zero in the padding.
fn im2col(geo: &Geometry, input: &[f32], col: &mut [f32]) {
    let s = geo.in_sp.len();
    let last = s - 1;
    let (in_plane, out_plane) = (geo.in_plane(), geo.out_plane());
    let (out_row, in_row) = (geo.out_sp[last], geo.in_sp[last]);
    let in_strides = &geo.in_strides;
    let outer_extents = &geo.out_sp[..last];
    let mut rows = col.chunks_mut(out_plane);
    let mut k = [0usize; 3];
    let mut o = [0usize; 3];
    for c in 0..geo.cin_g {
        let plane = &input[c * in_plane..(c + 1) * in_plane];
        k[..s].fill(0);
        loop {
            let Some(row) = rows.next() else { return };
            let offset = |d: usize, k: &[usize; 3]| {
                k[d] as isize * geo.dilations[d] as isize - geo.pads_before[d] as isize
            };
            let stride = geo.strides[last];
            let (lo, hi) = valid_range(out_row, in_row, stride, offset(last, &k));
            o[..last].fill(0);
            for seg in row.chunks_mut(out_row) {
                let mut base = 0isize;
                let mut inside = lo < hi;
                for d in 0..last {
                    let at = (o[d] * geo.strides[d]) as isize + offset(d, &k);
                    inside &= at >= 0 && (at as usize) < geo.in_sp[d];
                    base += at * in_strides[d] as isize;
                }
                if inside {
                    let first = base + (lo * stride) as isize + offset(last, &k);
                    let src = &plane[first as usize..];
                    seg[..lo].fill(0.0);
                    if stride == 1 {
                        seg[lo..hi].copy_from_slice(&src[..hi - lo]);
                    } else {
                        for (dst, v) in seg[lo..hi].iter_mut().zip(src.iter().step_by(stride)) {
                            *dst = *v;
                        }
                    }
                    seg[hi..].fill(0.0);
                } else {
                    seg.fill(0.0);
                }
                if !advance(&mut o[..last], outer_extents) {
                    break;
                }
            }
            if !advance(&mut k[..s], &geo.kernel) {
                break;
            }
        }
    }
}

/// Writes each channel's bias into its output rows; returns whether it did.
pub(crate) fn fill_bias(
    out: &mut [f32],
    bias: Option<&[f32]>,
    first_channel: usize,
    plane: usize,
) -> bool {
    match bias {
        Some(b) if plane > 0 => {
            for (c, row) in out.chunks_mut(plane).enumerate() {
                row.fill(b[first_channel + c]);
            }
            true
        }
        _ => false,
    }
}

fn internal(e: ane_cpu::CpuError) -> KernelError {
    KernelError::Internal(e.to_string())
}

/// The f32 views a convolution reads.
#[derive(Clone, Copy)]
pub(crate) struct Operands<'a> {
    pub x: &'a [f32],
    pub w: &'a [f32],
    pub bias: Option<&'a [f32]>,
}

impl Conv {
    /// One (image, group) product into its output block.
    fn task(
        &self,
        t: usize,
        ops: Operands<'_>,
        out: &mut [f32],
        col: &mut [f32],
        parallel: bool,
    ) -> Result<(), KernelError> {
        let Operands { x, w, bias } = ops;
        let geo = &self.geo;
        let (n, g) = (t / geo.groups, t % geo.groups);
        let cin = geo.cin_g * geo.groups;
        let in_len = geo.cin_g * geo.in_plane();
        let input = &x[(n * cin + g * geo.cin_g) * geo.in_plane()..][..in_len];
        let rows = geo.cin_g * geo.taps();
        let acc = fill_bias(out, bias, g * geo.cout_g, geo.out_plane());
        if rows == 0 {
            if !acc {
                out.fill(0.0);
            }
            return Ok(());
        }
        let cols: &[f32] = if geo.pointwise() {
            input
        } else {
            let col = &mut col[..rows * geo.out_plane()];
            im2col(geo, input, col);
            col
        };
        let w_g = &w[g * geo.cout_g * rows..][..geo.cout_g * rows];
        gemm_f32(
            MatMut::row_major(out, geo.cout_g, geo.out_plane()).map_err(internal)?,
            MatRef::row_major(w_g, geo.cout_g, rows).map_err(internal)?,
            MatRef::row_major(cols, rows, geo.out_plane()).map_err(internal)?,
            acc,
            parallel,
        )
        .map_err(internal)
    }

    fn compute(
        &self,
        ops: Operands<'_>,
        out: &mut [f32],
        cols: &mut [f32],
        parallel: bool,
    ) -> Result<(), KernelError> {
        let geo = &self.geo;
        let chunk = geo.cout_g * geo.out_plane();
        let tasks = geo.batch * geo.groups;
        if chunk == 0 || tasks == 0 {
            return Ok(());
        }
        let flops = chunk * geo.cin_g * geo.taps();
        let split = parallel
            && self.workers > 1
            && tasks > 1
            && (tasks >= 2 * self.workers || flops < 1 << 22);
        if split {
            let per = tasks.div_ceil(self.workers);
            out.par_chunks_mut(per * chunk)
                .zip(cols.par_chunks_mut(self.col_len))
                .enumerate()
                .try_for_each(|(group, (block, col))| {
                    for (i, o) in block.chunks_mut(chunk).enumerate() {
                        self.task(group * per + i, ops, o, col, false)?;
                    }
                    Ok(())
                })
        } else {
            for (t, o) in out.chunks_mut(chunk).enumerate() {
                self.task(t, ops, o, &mut cols[..self.col_len], parallel)?;
            }
            Ok(())
        }
    }
}

impl Kernel for Conv {
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
            let (w, rest) = self.weight.get(bufs, rest)?;
            let (bias, rest) = match &self.bias {
                Some(b) => {
                    let (v, rest) = b.get(bufs, rest)?;
                    (Some(v), rest)
                }
                None => (None, rest),
            };
            let out_tmp = match &out {
                FloatViewMut::F16(o) => o.len(),
                FloatViewMut::F32(_) => 0,
            };
            let (o_tmp, cols) = rest.split_at_mut(out_tmp);
            let ops = Operands { x, w, bias };
            compute_into(out, o_tmp, |o| self.compute(ops, o, cols, parallel))
        })
    }
}
