//! Reductions over axes (MIL `reduce_*`), `reduce_argmax`/argmin, and softmax / log-softmax
//! along an axis.
//!
//! Every reduction sees the tensor as `[outer, reduced, inner]`: directly when the reduced axes
//! are contiguous (size-1 dims ignored), else after a permute that moves them last.
//!
//! Precision: sums (`Sum`, `Mean`, norms, `LogSum`, `LogSumExp`, softmax denominators) and
//! products accumulate in **f64**; `Max`/`Min` compare in f32 (exact). A contiguous row is
//! summed in 8 interleaved f64 lanes, and rows longer than 2¹⁶ in fixed 2¹⁶-element blocks
//! whose partial sums are added in order, so results never depend on the thread count.
//!
//! NaN: `Max`/`Min` and softmax propagate NaN; argmax/argmin treat NaN as the extreme value and
//! return the first NaN (numpy). Ties go to the first index. Reducing an empty axis gives the
//! operation's identity (0 for sums, 1 for products, −inf for `Max`, +inf for `Min`, NaN for
//! `Mean`); argmax over an empty axis is an error.

use crate::error::CpuError;
use crate::layout::permute;
use crate::shape::{normalize_axes, normalize_axis, reduced_shape, reduction_view};
use crate::tensor::{Tensor, TensorRef};
use crate::threads::ELEMENTWISE_CHUNK;
use rayon::prelude::*;
use std::borrow::Cow;

/// A reduction (MIL `reduce_<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Mean,
    Prod,
    Max,
    Min,
    /// `Σ |x|`.
    L1Norm,
    /// `sqrt(Σ x²)` (no epsilon).
    L2Norm,
    /// `Σ x²`.
    SumSquare,
    /// `ln(Σ x)`.
    LogSum,
    /// `ln(Σ eˣ)`, computed as `m + ln(Σ e^(x−m))` with `m` the maximum.
    LogSumExp,
}

/// Rows longer than this are summed in blocks of this size.
const ROW_BLOCK: usize = 1 << 16;

/// A tensor seen as `[outer, reduced, inner]`, borrowed or permuted into that layout.
struct ReductionLayout<'a> {
    data: Cow<'a, [f32]>,
    outer: usize,
    reduced: usize,
    inner: usize,
}

fn layout<'a>(x: TensorRef<'a, f32>, axes: &[usize]) -> Result<ReductionLayout<'a>, CpuError> {
    if let Some((outer, reduced, inner)) = reduction_view(x.shape(), axes) {
        return Ok(ReductionLayout {
            data: Cow::Borrowed(x.data()),
            outer,
            reduced,
            inner,
        });
    }
    let kept: Vec<usize> = (0..x.rank()).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let moved = permute(x, &perm)?;
    Ok(ReductionLayout {
        data: Cow::Owned(moved.data),
        outer: kept.iter().map(|&d| x.shape()[d]).product(),
        reduced: axes.iter().map(|&d| x.shape()[d]).product(),
        inner: 1,
    })
}

/// Reduces `x` over `axes` (`None`: every axis; negative axes count from the end). Reduced
/// dims become 1 with `keep_dims`, else disappear (all of them: a scalar, shape `[]`).
pub fn reduce_f32(
    op: ReduceOp,
    x: TensorRef<'_, f32>,
    axes: Option<&[isize]>,
    keep_dims: bool,
) -> Result<Tensor<f32>, CpuError> {
    let axes = match axes {
        Some(a) => normalize_axes("reduce", a, x.rank())?,
        None => (0..x.rank()).collect(),
    };
    let out_shape = reduced_shape(x.shape(), &axes, keep_dims);
    let view = layout(x, &axes)?;
    let data = reduce_layout(op, &view);
    Ok(Tensor {
        data,
        shape: out_shape,
    })
}

/// How elements combine.
#[derive(Clone, Copy)]
enum Combine {
    /// Sum of `map(x)` in f64.
    Sum(fn(f32) -> f64),
    Prod,
    Max,
    Min,
}

fn combine_of(op: ReduceOp) -> Combine {
    match op {
        ReduceOp::Sum | ReduceOp::Mean | ReduceOp::LogSum => Combine::Sum(|x| x as f64),
        ReduceOp::L1Norm => Combine::Sum(|x| x.abs() as f64),
        ReduceOp::L2Norm | ReduceOp::SumSquare => Combine::Sum(|x| (x as f64) * (x as f64)),
        ReduceOp::Prod => Combine::Prod,
        ReduceOp::Max | ReduceOp::LogSumExp => Combine::Max,
        ReduceOp::Min => Combine::Min,
    }
}

fn finish(op: ReduceOp, acc: f64, count: usize) -> f32 {
    (match op {
        ReduceOp::Mean => acc / count as f64,
        ReduceOp::L2Norm => acc.sqrt(),
        ReduceOp::LogSum => acc.ln(),
        _ => acc,
    }) as f32
}

fn max_nan(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if b > a {
        b
    } else {
        a
    }
}

fn min_nan(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.min(b)
    }
}

/// Σ map(x) over a contiguous row: 8 interleaved f64 lanes, then blocks of `ROW_BLOCK`.
fn sum_row(row: &[f32], map: fn(f32) -> f64) -> f64 {
    fn lanes(block: &[f32], map: fn(f32) -> f64) -> f64 {
        let mut acc = [0f64; 8];
        let chunks = block.chunks_exact(8);
        let tail = chunks.remainder();
        for c in chunks {
            for (a, &v) in acc.iter_mut().zip(c) {
                *a += map(v);
            }
        }
        let mut total =
            ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
        for &v in tail {
            total += map(v);
        }
        total
    }
    if row.len() <= ROW_BLOCK {
        return lanes(row, map);
    }
    let partials: Vec<f64> = if row.len() >= 4 * ROW_BLOCK {
        row.par_chunks(ROW_BLOCK).map(|b| lanes(b, map)).collect()
    } else {
        row.chunks(ROW_BLOCK).map(|b| lanes(b, map)).collect()
    };
    partials.iter().sum()
}

/// The combined value of one contiguous row (f64 for sums/products, f32 extremes widened).
fn reduce_row(combine: Combine, row: &[f32]) -> f64 {
    match combine {
        Combine::Sum(map) => sum_row(row, map),
        Combine::Prod => row.iter().fold(1f64, |acc, &v| acc * v as f64),
        Combine::Max => row
            .iter()
            .fold(f32::NEG_INFINITY, |acc, &v| max_nan(acc, v)) as f64,
        Combine::Min => row.iter().fold(f32::INFINITY, |acc, &v| min_nan(acc, v)) as f64,
    }
}

/// Combines rows of a `[reduced, inner]` block column-wise into `acc` (length `inner`).
fn reduce_columns(combine: Combine, block: &[f32], inner: usize, acc: &mut [f64]) {
    match combine {
        Combine::Sum(map) => {
            acc.fill(0.0);
            for row in block.chunks(inner) {
                for (a, &v) in acc.iter_mut().zip(row) {
                    *a += map(v);
                }
            }
        }
        Combine::Prod => {
            acc.fill(1.0);
            for row in block.chunks(inner) {
                for (a, &v) in acc.iter_mut().zip(row) {
                    *a *= v as f64;
                }
            }
        }
        Combine::Max | Combine::Min => {
            let start = if matches!(combine, Combine::Max) {
                f32::NEG_INFINITY
            } else {
                f32::INFINITY
            };
            let mut best = vec![start; inner];
            for row in block.chunks(inner) {
                for (b, &v) in best.iter_mut().zip(row) {
                    *b = if matches!(combine, Combine::Max) {
                        max_nan(*b, v)
                    } else {
                        min_nan(*b, v)
                    };
                }
            }
            for (a, b) in acc.iter_mut().zip(best) {
                *a = b as f64;
            }
        }
    }
}

/// Runs `task(outer_index, outputs_of_that_outer)` over every outer index, in parallel over
/// groups of outer indices sized by the work they represent.
fn for_each_outer<T: Send>(
    out: &mut [T],
    inner: usize,
    work_per_outer: usize,
    task: impl Fn(usize, &mut [T]) + Sync,
) {
    if out.is_empty() || inner == 0 {
        return;
    }
    let per_task = (ELEMENTWISE_CHUNK / work_per_outer.max(1)).max(1);
    let total = out.len() / inner;
    let run = |first: usize, chunk: &mut [T]| {
        for (i, outs) in chunk.chunks_mut(inner).enumerate() {
            task(first + i, outs);
        }
    };
    if total > per_task {
        out.par_chunks_mut(per_task * inner)
            .enumerate()
            .for_each(|(c, chunk)| run(c * per_task, chunk));
    } else {
        run(0, out);
    }
}

fn reduce_layout(op: ReduceOp, view: &ReductionLayout<'_>) -> Vec<f32> {
    let (outer, r, inner) = (view.outer, view.reduced, view.inner);
    let data = &view.data[..];
    let mut out = vec![0f32; outer * inner];
    let combine = combine_of(op);
    for_each_outer(&mut out, inner, r * inner, |o, outs| {
        let block = &data[o * r * inner..(o + 1) * r * inner];
        if op == ReduceOp::LogSumExp {
            log_sum_exp_block(block, r, inner, outs);
        } else if inner == 1 {
            outs[0] = finish(op, reduce_row(combine, block), r);
        } else {
            let mut acc = vec![0f64; inner];
            reduce_columns(combine, block, inner, &mut acc);
            for (o, a) in outs.iter_mut().zip(acc) {
                *o = finish(op, a, r);
            }
        }
    });
    out
}

/// `m + ln Σ e^(x−m)` for each column of a `[r, inner]` block.
fn log_sum_exp_block(block: &[f32], r: usize, inner: usize, outs: &mut [f32]) {
    let mut max = vec![0f64; inner];
    reduce_columns(Combine::Max, block, inner, &mut max);
    let mut sums = vec![0f64; inner];
    for row in block.chunks(inner).take(r) {
        for ((s, &v), &m) in sums.iter_mut().zip(row).zip(&max) {
            if m.is_finite() {
                *s += (v as f64 - m).exp();
            }
        }
    }
    for ((o, s), m) in outs.iter_mut().zip(sums).zip(max) {
        *o = if m.is_finite() {
            (m + s.ln()) as f32
        } else {
            m as f32
        };
    }
}

/// Index of the largest element along `axis` (first on ties; NaN counts as largest), as int32.
pub fn argmax_f32(
    x: TensorRef<'_, f32>,
    axis: isize,
    keep_dims: bool,
) -> Result<Tensor<i32>, CpuError> {
    arg_extreme(x, axis, keep_dims, |candidate, best| {
        !best.is_nan() && (candidate.is_nan() || candidate > best)
    })
}

/// Index of the smallest element along `axis` (first on ties; NaN counts as smallest), as int32.
pub fn argmin_f32(
    x: TensorRef<'_, f32>,
    axis: isize,
    keep_dims: bool,
) -> Result<Tensor<i32>, CpuError> {
    arg_extreme(x, axis, keep_dims, |candidate, best| {
        !best.is_nan() && (candidate.is_nan() || candidate < best)
    })
}

fn arg_extreme(
    x: TensorRef<'_, f32>,
    axis: isize,
    keep_dims: bool,
    better: impl Fn(f32, f32) -> bool + Sync,
) -> Result<Tensor<i32>, CpuError> {
    const OP: &str = "argmax";
    let axis = normalize_axis(OP, axis, x.rank())?;
    let r = x.shape()[axis];
    let out_shape = reduced_shape(x.shape(), &[axis], keep_dims);
    let outer: usize = x.shape()[..axis].iter().product();
    let inner: usize = x.shape()[axis + 1..].iter().product();
    if r == 0 && outer * inner > 0 {
        return Err(CpuError::invalid(
            OP,
            format!("axis {axis} of {:?} is empty", x.shape()),
        ));
    }
    if r > i32::MAX as usize {
        return Err(CpuError::invalid(OP, "axis too long for int32 indices"));
    }
    let data = x.data();
    let mut out = vec![0i32; outer * inner];
    for_each_outer(&mut out, inner, r * inner, |o, outs| {
        let block = &data[o * r * inner..(o + 1) * r * inner];
        let mut best: Vec<f32> = block[..inner].to_vec();
        outs.fill(0);
        for (i, row) in block.chunks(inner).enumerate().skip(1) {
            for ((b, idx), &v) in best.iter_mut().zip(outs.iter_mut()).zip(row) {
                if better(v, *b) {
                    *b = v;
                    *idx = i as i32;
                }
            }
        }
    });
    Ok(Tensor {
        data: out,
        shape: out_shape,
    })
}

/// Softmax along `axis`: `e^(x−max) / Σ e^(x−max)` (exponentials in f32, the sum in f64).
pub fn softmax_f32(x: TensorRef<'_, f32>, axis: isize) -> Result<Tensor<f32>, CpuError> {
    softmax_impl(x, axis, false)
}

/// Log-softmax along `axis`: `x − max − ln Σ e^(x−max)`.
pub fn log_softmax_f32(x: TensorRef<'_, f32>, axis: isize) -> Result<Tensor<f32>, CpuError> {
    softmax_impl(x, axis, true)
}

fn softmax_impl(x: TensorRef<'_, f32>, axis: isize, log: bool) -> Result<Tensor<f32>, CpuError> {
    let axis = normalize_axis("softmax", axis, x.rank())?;
    let r = x.shape()[axis];
    let inner: usize = x.shape()[axis + 1..].iter().product();
    let data = x.data();
    let mut out = vec![0f32; data.len()];
    let block_len = r * inner;
    if block_len > 0 {
        for_each_outer(&mut out, block_len, block_len, |o, outs| {
            softmax_block(&data[o * block_len..(o + 1) * block_len], inner, log, outs);
        });
    }
    Ok(Tensor {
        data: out,
        shape: x.shape().to_vec(),
    })
}

/// Softmax of each column of a `[r, inner]` block into `outs`.
fn softmax_block(block: &[f32], inner: usize, log: bool, outs: &mut [f32]) {
    let mut max = vec![f32::NEG_INFINITY; inner];
    for row in block.chunks(inner) {
        for (m, &v) in max.iter_mut().zip(row) {
            *m = max_nan(*m, v);
        }
    }
    // outs = x − max (log-softmax) or e^(x − max) (softmax), exponentials in f32.
    for (out_row, row) in outs.chunks_mut(inner).zip(block.chunks(inner)) {
        for ((o, &v), &m) in out_row.iter_mut().zip(row).zip(&max) {
            *o = if log { v - m } else { (v - m).exp() };
        }
    }
    let term: fn(f32) -> f64 = if log {
        |v| v.exp() as f64
    } else {
        |v| v as f64
    };
    let sums: Vec<f64> = if inner == 1 {
        vec![sum_row(outs, term)]
    } else {
        let mut sums = vec![0f64; inner];
        for row in outs.chunks(inner) {
            for (s, &v) in sums.iter_mut().zip(row) {
                *s += term(v);
            }
        }
        sums
    };
    for out_row in outs.chunks_mut(inner) {
        for (o, &s) in out_row.iter_mut().zip(&sums) {
            *o = if log {
                (*o as f64 - s.ln()) as f32
            } else {
                (*o as f64 / s) as f32
            };
        }
    }
}

#[cfg(test)]
mod tests;
