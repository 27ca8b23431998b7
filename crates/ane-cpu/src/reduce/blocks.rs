//! The reduction kernels proper, on data already laid out as `[outer, r, inner]` blocks: column
//! reductions in f64 accumulated in index order, int32 reductions, argmax, and softmax along
//! the middle dim. They write into caller-owned outputs and scratch and never allocate (the
//! simulator runs them from planned buffers; the tensor functions of [`super`] run them per
//! outer index in parallel).

use super::ReduceOp;
use crate::error::CpuError;

/// A tensor seen as `[outer, r, inner]`: `r` consecutive rows of `inner` elements, reduced
/// column-wise, repeated `outer` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocks {
    /// Number of independent blocks.
    pub outer: usize,
    /// Length of the reduced dim.
    pub r: usize,
    /// Elements after the reduced dim (contiguous columns).
    pub inner: usize,
}

impl Blocks {
    /// Elements of the `[outer, r, inner]` data.
    pub fn len(&self) -> usize {
        self.outer * self.r * self.inner
    }

    /// Whether the data is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements of the reduced output `[outer, inner]`.
    pub fn reduced_len(&self) -> usize {
        self.outer * self.inner
    }
}

fn check(op: &'static str, b: Blocks, x_len: usize, out_len: usize) -> Result<(), CpuError> {
    if x_len != b.len() || out_len != b.reduced_len() {
        return Err(CpuError::invalid(
            op,
            format!(
                "{b:?} needs {} input and {} output elements, got {x_len} and {out_len}",
                b.len(),
                b.reduced_len()
            ),
        ));
    }
    Ok(())
}

fn init(op: ReduceOp) -> f64 {
    match op {
        ReduceOp::Max | ReduceOp::LogSumExp => f64::NEG_INFINITY,
        ReduceOp::Min => f64::INFINITY,
        ReduceOp::Prod => 1.0,
        _ => 0.0,
    }
}

fn add(op: ReduceOp, acc: f64, v: f64) -> f64 {
    match op {
        ReduceOp::Sum | ReduceOp::Mean | ReduceOp::LogSum => acc + v,
        ReduceOp::L1Norm => acc + v.abs(),
        ReduceOp::L2Norm | ReduceOp::SumSquare => acc + v * v,
        ReduceOp::Prod => acc * v,
        ReduceOp::Max | ReduceOp::LogSumExp => {
            if acc.is_nan() || v.is_nan() {
                f64::NAN
            } else {
                acc.max(v)
            }
        }
        ReduceOp::Min => {
            if acc.is_nan() || v.is_nan() {
                f64::NAN
            } else {
                acc.min(v)
            }
        }
    }
}

fn finish(op: ReduceOp, acc: f64, r: usize) -> f64 {
    match op {
        ReduceOp::Mean => acc / r as f64,
        ReduceOp::L2Norm => acc.sqrt(),
        ReduceOp::LogSum => acc.ln(),
        _ => acc,
    }
}

/// Reduces every column of `x [outer, r, inner]` into `out [outer, inner]`, accumulating in
/// f64 in index order and rounding once; `cols` is scratch of at least `inner` f64s.
pub fn reduce_blocks_f32(
    op: ReduceOp,
    b: Blocks,
    x: &[f32],
    cols: &mut [f64],
    out: &mut [f32],
) -> Result<(), CpuError> {
    check("reduce", b, x.len(), out.len())?;
    let cols = cols
        .get_mut(..b.inner)
        .ok_or_else(|| CpuError::invalid("reduce", "column scratch shorter than inner"))?;
    for o in 0..b.outer {
        cols.fill(init(op));
        for i in 0..b.r {
            let row = &x[(o * b.r + i) * b.inner..][..b.inner];
            for (c, &v) in cols.iter_mut().zip(row) {
                *c = add(op, *c, f64::from(v));
            }
        }
        let outs = &mut out[o * b.inner..][..b.inner];
        if op == ReduceOp::LogSumExp {
            log_sum_exp_columns(b, &x[o * b.r * b.inner..][..b.r * b.inner], cols, outs);
            continue;
        }
        for (slot, &c) in outs.iter_mut().zip(cols.iter()) {
            *slot = finish(op, c, b.r) as f32;
        }
    }
    Ok(())
}

/// `m + ln Σ e^(x−m)` for each column of one `[r, inner]` block, given the column maxima `max`.
fn log_sum_exp_columns(b: Blocks, block: &[f32], max: &[f64], outs: &mut [f32]) {
    for (j, slot) in outs.iter_mut().enumerate() {
        let m = max[j];
        *slot = if m.is_finite() {
            let sum: f64 = (0..b.r)
                .map(|i| (f64::from(block[i * b.inner + j]) - m).exp())
                .sum();
            (m + sum.ln()) as f32
        } else {
            m as f32
        };
    }
}

/// Int32 reductions of every column: sums wrap, the mean truncates toward zero (0 over an empty
/// axis), max/min of an empty axis give `i32::MIN`/`i32::MAX`, norms are the f64 result
/// truncated. Only `Sum`, `Mean`, `Max`, `Min`, `L2Norm` are defined on ints.
pub fn reduce_blocks_i32(
    op: ReduceOp,
    b: Blocks,
    x: &[i32],
    out: &mut [i32],
) -> Result<(), CpuError> {
    check("reduce", b, x.len(), out.len())?;
    if !matches!(
        op,
        ReduceOp::Sum | ReduceOp::Mean | ReduceOp::Max | ReduceOp::Min | ReduceOp::L2Norm
    ) {
        return Err(CpuError::invalid(
            "reduce",
            format!("{op:?} is not defined on int32"),
        ));
    }
    for o in 0..b.outer {
        for j in 0..b.inner {
            let column = (0..b.r).map(|i| x[(o * b.r + i) * b.inner + j]);
            out[o * b.inner + j] = match op {
                ReduceOp::Sum => column.fold(0i32, i32::wrapping_add),
                ReduceOp::Mean => {
                    let sum: i64 = column.map(i64::from).sum();
                    if b.r == 0 {
                        0
                    } else {
                        (sum / b.r as i64) as i32
                    }
                }
                ReduceOp::Max => column.max().unwrap_or(i32::MIN),
                ReduceOp::Min => column.min().unwrap_or(i32::MAX),
                _ => column
                    .map(|v| f64::from(v) * f64::from(v))
                    .sum::<f64>()
                    .sqrt() as i32,
            };
        }
    }
    Ok(())
}

/// First index of the maximum of every column (NaN counts as the maximum, numpy's rule);
/// errors when the axis is empty but the output is not.
pub fn argmax_blocks<T: Copy + Into<f64>>(
    b: Blocks,
    x: &[T],
    out: &mut [i32],
) -> Result<(), CpuError> {
    arg_extreme_blocks("argmax", b, x, out, |v, best| {
        !best.is_nan() && (v.is_nan() || v > best)
    })
}

/// First index of the minimum of every column (NaN counts as the minimum).
pub fn argmin_blocks<T: Copy + Into<f64>>(
    b: Blocks,
    x: &[T],
    out: &mut [i32],
) -> Result<(), CpuError> {
    arg_extreme_blocks("argmin", b, x, out, |v, best| {
        !best.is_nan() && (v.is_nan() || v < best)
    })
}

fn arg_extreme_blocks<T: Copy + Into<f64>>(
    op: &'static str,
    b: Blocks,
    x: &[T],
    out: &mut [i32],
    better: impl Fn(f64, f64) -> bool,
) -> Result<(), CpuError> {
    check(op, b, x.len(), out.len())?;
    if b.r == 0 && !out.is_empty() {
        return Err(CpuError::invalid(op, "the axis is empty"));
    }
    if b.r > i32::MAX as usize {
        return Err(CpuError::invalid(op, "axis too long for int32 indices"));
    }
    for o in 0..b.outer {
        for j in 0..b.inner {
            let mut best = f64::NEG_INFINITY;
            let mut index = 0;
            for i in 0..b.r {
                let v: f64 = x[(o * b.r + i) * b.inner + j].into();
                if i == 0 || better(v, best) {
                    best = v;
                    index = i;
                }
            }
            out[o * b.inner + j] = index as i32;
        }
    }
    Ok(())
}

/// Softmax (or log-softmax) of every column of `x [outer, r, inner]` into `out` (same shape):
/// `e^(x − max) / Σ e^(x − max)` with the exponentials in f32 and the sum in f64 in index
/// order, one rounding; log-softmax is `x − max − ln Σ e^(x − max)`. A column that is all −inf
/// gives NaN (−inf − −inf), a NaN anywhere in a column makes it all NaN. `cols` is scratch of
/// at least `2 · inner` f64s.
pub fn softmax_blocks_f32(
    b: Blocks,
    x: &[f32],
    out: &mut [f32],
    cols: &mut [f64],
    log: bool,
) -> Result<(), CpuError> {
    if x.len() != b.len() || out.len() != b.len() || cols.len() < 2 * b.inner {
        return Err(CpuError::invalid(
            "softmax",
            format!(
                "{b:?} needs {} input and output elements and {} scratch, got {}, {} and {}",
                b.len(),
                2 * b.inner,
                x.len(),
                out.len(),
                cols.len()
            ),
        ));
    }
    let (max, sum) = cols.split_at_mut(b.inner);
    let sum = &mut sum[..b.inner];
    for o in 0..b.outer {
        let block = o * b.r * b.inner;
        max.fill(f64::NEG_INFINITY);
        for i in 0..b.r {
            for (j, m) in max.iter_mut().enumerate() {
                let v = f64::from(x[block + i * b.inner + j]);
                *m = if m.is_nan() || v.is_nan() {
                    f64::NAN
                } else {
                    m.max(v)
                };
            }
        }
        sum.fill(0.0);
        for i in 0..b.r {
            let row = block + i * b.inner;
            let (xs, os) = (&x[row..row + b.inner], &mut out[row..row + b.inner]);
            for (((o, &v), &m), s) in os.iter_mut().zip(xs).zip(max.iter()).zip(sum.iter_mut()) {
                let shifted = v - m as f32;
                let e = shifted.exp();
                *o = if log { shifted } else { e };
                *s += f64::from(e);
            }
        }
        for i in 0..b.r {
            let row = block + i * b.inner;
            for (o, &s) in out[row..row + b.inner].iter_mut().zip(sum.iter()) {
                *o = if log {
                    (f64::from(*o) - s.ln()) as f32
                } else {
                    (f64::from(*o) / s) as f32
                };
            }
        }
    }
    Ok(())
}
