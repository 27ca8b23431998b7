//! Reductions over axes (MIL `reduce_*`), `reduce_argmax`/argmin, and softmax / log-softmax
//! along an axis.
//!
//! Every reduction sees the tensor as `[outer, reduced, inner]`: directly when the reduced axes
//! are contiguous (size-1 dims ignored), else after a permute that moves them last.
//!
//! The kernels ([`blocks`]) work on `[outer, r, inner]` slices into caller-owned outputs (the
//! simulator's entry points); the tensor functions here lay the data out and run them over
//! groups of outer indices in parallel.
//!
//! Precision: sums (`Sum`, `Mean`, norms, `LogSum`, `LogSumExp`, softmax denominators) and
//! products accumulate in **f64**, in index order, and are rounded once; `Max`/`Min` compare
//! exactly. Each output is computed by one task, so results never depend on the thread count.
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

pub mod blocks;

pub use blocks::{
    argmax_blocks, argmin_blocks, reduce_blocks_f32, reduce_blocks_i32, softmax_blocks_f32, Blocks,
};

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
    let b = Blocks {
        outer: view.outer,
        r: view.reduced,
        inner: view.inner,
    };
    let mut data = vec![0f32; b.reduced_len()];
    let x = &view.data[..];
    for_each_outer(&mut data, b, |first, chunk, outs| {
        let mut cols = vec![0f64; b.inner];
        let x = &x[first * b.r * b.inner..][..chunk.len()];
        reduce_blocks_f32(op, chunk, x, &mut cols, outs)
    })?;
    Ok(Tensor {
        data,
        shape: out_shape,
    })
}

/// Runs `task(first_outer, blocks_of_the_chunk, outputs_of_the_chunk)` over groups of outer
/// indices, in parallel when there is enough work; `out` holds `inner` outputs per outer index.
fn for_each_outer<T: Send>(
    out: &mut [T],
    b: Blocks,
    task: impl Fn(usize, Blocks, &mut [T]) -> Result<(), CpuError> + Sync,
) -> Result<(), CpuError> {
    let per_outer = out.len() / b.outer.max(1);
    if out.is_empty() || per_outer == 0 {
        return Ok(());
    }
    let per_task = (ELEMENTWISE_CHUNK / (b.r * b.inner).max(1)).max(1);
    let run = |c: usize, chunk: &mut [T]| {
        let outer = chunk.len() / per_outer;
        task(c * per_task, Blocks { outer, ..b }, chunk)
    };
    if b.outer > per_task {
        out.par_chunks_mut(per_task * per_outer)
            .enumerate()
            .try_for_each(|(c, chunk)| run(c, chunk))
    } else {
        run(0, out)
    }
}

/// Index of the largest element along `axis` (first on ties; NaN counts as largest), as int32.
pub fn argmax_f32(
    x: TensorRef<'_, f32>,
    axis: isize,
    keep_dims: bool,
) -> Result<Tensor<i32>, CpuError> {
    arg_extreme(x, axis, keep_dims, true)
}

/// Index of the smallest element along `axis` (first on ties; NaN counts as smallest), as int32.
pub fn argmin_f32(
    x: TensorRef<'_, f32>,
    axis: isize,
    keep_dims: bool,
) -> Result<Tensor<i32>, CpuError> {
    arg_extreme(x, axis, keep_dims, false)
}

fn arg_extreme(
    x: TensorRef<'_, f32>,
    axis: isize,
    keep_dims: bool,
    max: bool,
) -> Result<Tensor<i32>, CpuError> {
    const OP: &str = "argmax";
    let axis = normalize_axis(OP, axis, x.rank())?;
    let out_shape = reduced_shape(x.shape(), &[axis], keep_dims);
    let b = axis_blocks(x.shape(), axis);
    if b.r == 0 && b.reduced_len() > 0 {
        return Err(CpuError::invalid(
            OP,
            format!("axis {axis} of {:?} is empty", x.shape()),
        ));
    }
    let data = x.data();
    let mut out = vec![0i32; b.reduced_len()];
    for_each_outer(&mut out, b, |first, chunk, outs| {
        let x = &data[first * b.r * b.inner..][..chunk.len()];
        if max {
            argmax_blocks(chunk, x, outs)
        } else {
            argmin_blocks(chunk, x, outs)
        }
    })?;
    Ok(Tensor {
        data: out,
        shape: out_shape,
    })
}

/// `shape` seen as `[outer, shape[axis], inner]`.
fn axis_blocks(shape: &[usize], axis: usize) -> Blocks {
    Blocks {
        outer: shape[..axis].iter().product(),
        r: shape[axis],
        inner: shape[axis + 1..].iter().product(),
    }
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
    let b = axis_blocks(x.shape(), axis);
    let data = x.data();
    let mut out = vec![0f32; data.len()];
    for_each_outer(&mut out, b, |first, chunk, outs| {
        let mut cols = vec![0f64; 2 * b.inner];
        let x = &data[first * b.r * b.inner..][..chunk.len()];
        softmax_blocks_f32(chunk, x, outs, &mut cols, log)
    })?;
    Ok(Tensor {
        data: out,
        shape: x.shape().to_vec(),
    })
}

#[cfg(test)]
mod tests;
