//! Max and average pooling (MIL `max_pool`, `avg_pool`) over 1–3 spatial dims of
//! `[N, C, *D]` tensors, with strides, explicit before/after padding and ceil mode.
//!
//! Output size follows coremltools (mil-ops.md §1.12): `floor((D + P − k) / s) + 1`, or in ceil
//! mode `floor((D + P − k + s − 1) / s) + 1`, minus one when `P > 0` and the last window would
//! start at or past `D + pad_before`.
//!
//! Padded positions never win a max (they count as −inf). Average pooling divides by the
//! window's size clipped to the padded input (`exclude_padding = false`, the MIL default) or by
//! the number of real elements in it (`exclude_padding = true`). A window with no real element
//! (possible only with unusual ceil-mode geometry) gives −inf for max and 0 for average.
//!
//! [`PoolPlan`] works out the windows once and pools into a caller-owned buffer without
//! allocating (the simulator's entry point); [`max_pool_f32`] / [`avg_pool_f32`] wrap it.

use crate::error::CpuError;
use crate::shape::num_elements;
use crate::tensor::{Tensor, TensorRef};
use crate::threads::ELEMENTWISE_CHUNK;
use rayon::prelude::*;

/// Most spatial dims a pooling takes (MIL pools over 1–3).
pub const MAX_POOL_DIMS: usize = 3;

/// Which pooling a [`PoolPlan`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// The maximum of the real elements (NaN propagates).
    Max,
    /// The f64 mean; `exclude_padding` is MIL's `exclude_padding_from_average`.
    Avg {
        /// Divide by the number of real elements instead of the padded window size.
        exclude_padding: bool,
    },
}

/// Window geometry of a pooling op over `S` spatial dims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolParams {
    /// Window size per spatial dim (≥ 1).
    pub kernel: Vec<usize>,
    /// Step per spatial dim (≥ 1).
    pub strides: Vec<usize>,
    /// Padding `(before, after)` per spatial dim.
    pub pads: Vec<(usize, usize)>,
    /// Round the output size up instead of down.
    pub ceil_mode: bool,
}

/// Output size of pooling along one dim (coremltools' rule), `None` if the window does not fit.
pub fn pool_output_size(
    input: usize,
    kernel: usize,
    stride: usize,
    pads: (usize, usize),
    ceil_mode: bool,
) -> Option<usize> {
    let padded = input + pads.0 + pads.1;
    if stride == 0 || kernel == 0 || padded < kernel {
        return None;
    }
    if !ceil_mode {
        return Some((padded - kernel) / stride + 1);
    }
    let mut out = (padded - kernel).div_ceil(stride) + 1;
    if pads.0 + pads.1 > 0 && (out - 1) * stride >= input + pads.0 {
        out -= 1;
    }
    Some(out)
}

/// One output position's window along one dim: the real input range and the padded size.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: usize,
    end: usize,
    padded_len: usize,
}

/// Windows along each spatial dim, and the output spatial shape.
fn windows(
    op: &'static str,
    x_shape: &[usize],
    p: &PoolParams,
) -> Result<Vec<Vec<Window>>, CpuError> {
    if x_shape.len() < 3 {
        return Err(CpuError::invalid(
            op,
            format!("input {x_shape:?} must be [N, C, *spatial] with at least one spatial dim"),
        ));
    }
    let s = x_shape.len() - 2;
    if s > MAX_POOL_DIMS {
        return Err(CpuError::invalid(
            op,
            format!(
                "input {x_shape:?} has {s} spatial dims, at most {MAX_POOL_DIMS} are supported"
            ),
        ));
    }
    if p.kernel.len() != s || p.strides.len() != s || p.pads.len() != s {
        return Err(CpuError::invalid(
            op,
            format!("kernel, strides and pads need one entry per spatial dim ({s})"),
        ));
    }
    (0..s)
        .map(|d| {
            let input = x_shape[d + 2];
            let (k, st, pads) = (p.kernel[d], p.strides[d], p.pads[d]);
            let out = pool_output_size(input, k, st, pads, p.ceil_mode).ok_or_else(|| {
                CpuError::invalid(
                    op,
                    format!(
                        "window {k} (stride {st}) does not fit input {input} padded by {pads:?}"
                    ),
                )
            })?;
            Ok((0..out)
                .map(|o| {
                    // Window [w0, w0 + k) in padded coordinates shifted by pad_before.
                    let w0 = (o * st) as isize - pads.0 as isize;
                    let w1 = w0 + k as isize;
                    let padded_end = (input + pads.1) as isize;
                    let start = w0.clamp(0, input as isize) as usize;
                    let end = w1.clamp(0, input as isize) as usize;
                    Window {
                        start,
                        end: end.max(start),
                        padded_len: (w1.min(padded_end) - w0).max(0) as usize,
                    }
                })
                .collect())
        })
        .collect()
}

/// A checked pooling: the windows of every output position, worked out once from the input
/// shape and parameters.
#[derive(Debug, Clone)]
pub struct PoolPlan {
    kind: PoolKind,
    /// Windows per spatial dim, one per output position.
    wins: Vec<Vec<Window>>,
    /// Row-major strides of the input's spatial dims.
    in_strides: Vec<usize>,
    in_plane: usize,
    out_plane: usize,
    out_shape: Vec<usize>,
    /// Planes per parallel task (enough window work to amortize scheduling).
    planes_per_task: usize,
}

impl PoolPlan {
    /// Plans `kind` pooling of `x [N, C, *D]` (1 to [`MAX_POOL_DIMS`] spatial dims).
    pub fn new(x_shape: &[usize], params: &PoolParams, kind: PoolKind) -> Result<Self, CpuError> {
        let op = match kind {
            PoolKind::Max => "max_pool",
            PoolKind::Avg { .. } => "avg_pool",
        };
        let wins = windows(op, x_shape, params)?;
        let in_sp = &x_shape[2..];
        let out_sp: Vec<usize> = wins.iter().map(Vec::len).collect();
        let mut out_shape = x_shape[..2].to_vec();
        out_shape.extend_from_slice(&out_sp);
        num_elements(op, &out_shape)?;
        let out_plane: usize = out_sp.iter().product();
        let window_size: usize = params.kernel.iter().product();
        Ok(PoolPlan {
            kind,
            wins,
            in_strides: crate::shape::row_major_strides(in_sp),
            in_plane: in_sp.iter().product(),
            out_plane,
            out_shape,
            planes_per_task: (ELEMENTWISE_CHUNK / (out_plane * window_size).max(1)).max(1),
        })
    }

    /// The output shape `[N, C, *D_out]`.
    pub fn output_shape(&self) -> &[usize] {
        &self.out_shape
    }

    /// Pools `x` (the planned input's length) into `out` (the output shape's length) without
    /// allocating; with `parallel` false everything runs on the calling thread.
    pub fn run_f32(&self, x: &[f32], out: &mut [f32], parallel: bool) -> Result<(), CpuError> {
        let op = match self.kind {
            PoolKind::Max => "max_pool",
            PoolKind::Avg { .. } => "avg_pool",
        };
        let planes = self.out_shape[0] * self.out_shape[1];
        if x.len() != planes * self.in_plane || out.len() != planes * self.out_plane {
            return Err(CpuError::invalid(
                op,
                format!(
                    "input has {} and output {} elements, the plan needs {} and {}",
                    x.len(),
                    out.len(),
                    planes * self.in_plane,
                    planes * self.out_plane
                ),
            ));
        }
        if self.out_plane == 0 {
            return Ok(());
        }
        let per = self.planes_per_task;
        if parallel && planes > per {
            out.par_chunks_mut(per * self.out_plane)
                .enumerate()
                .for_each(|(c, chunk)| {
                    for (i, p) in chunk.chunks_mut(self.out_plane).enumerate() {
                        self.plane(x, c * per + i, p);
                    }
                });
        } else {
            for (i, p) in out.chunks_mut(self.out_plane).enumerate() {
                self.plane(x, i, p);
            }
        }
        Ok(())
    }

    /// Pools input plane `index` into `out` (one output plane).
    fn plane(&self, x: &[f32], index: usize, out: &mut [f32]) {
        let plane = &x[index * self.in_plane..(index + 1) * self.in_plane];
        let s = self.wins.len();
        let mut o = [0usize; MAX_POOL_DIMS];
        let mut win = [Window {
            start: 0,
            end: 0,
            padded_len: 0,
        }; MAX_POOL_DIMS];
        for (w, dim) in win.iter_mut().zip(&self.wins) {
            *w = dim[0];
        }
        let strides = &self.in_strides;
        for slot in out.iter_mut() {
            let w = &win[..s];
            *slot = match self.kind {
                PoolKind::Max => {
                    let mut best = f32::NEG_INFINITY;
                    for_window_rows(w, strides, |start, end| {
                        for &v in &plane[start..end] {
                            // NaN propagates: once `best` is NaN nothing replaces it.
                            if !best.is_nan() && (v.is_nan() || v > best) {
                                best = v;
                            }
                        }
                    });
                    best
                }
                PoolKind::Avg { exclude_padding } => {
                    let mut sum = 0f64;
                    for_window_rows(w, strides, |start, end| {
                        sum += plane[start..end].iter().map(|&v| v as f64).sum::<f64>();
                    });
                    let count: usize = if exclude_padding {
                        w.iter().map(|w| w.end - w.start).product()
                    } else {
                        w.iter().map(|w| w.padded_len).product()
                    };
                    if count == 0 {
                        0.0
                    } else {
                        (sum / count as f64) as f32
                    }
                }
            };
            // Advance the output odometer and the window of each dim that moved.
            for d in (0..s).rev() {
                o[d] += 1;
                if o[d] < self.wins[d].len() {
                    win[d] = self.wins[d][o[d]];
                    break;
                }
                o[d] = 0;
                win[d] = self.wins[d][0];
            }
        }
    }
}

/// MIL `max_pool`.
pub fn max_pool_f32(x: TensorRef<'_, f32>, params: &PoolParams) -> Result<Tensor<f32>, CpuError> {
    pool(x, params, PoolKind::Max)
}

/// MIL `avg_pool`; `exclude_padding` is `exclude_padding_from_average`.
pub fn avg_pool_f32(
    x: TensorRef<'_, f32>,
    params: &PoolParams,
    exclude_padding: bool,
) -> Result<Tensor<f32>, CpuError> {
    pool(x, params, PoolKind::Avg { exclude_padding })
}

/// Plans and runs one pooling into a fresh tensor.
fn pool(
    x: TensorRef<'_, f32>,
    params: &PoolParams,
    kind: PoolKind,
) -> Result<Tensor<f32>, CpuError> {
    let plan = PoolPlan::new(x.shape(), params, kind)?;
    let shape = plan.output_shape().to_vec();
    let mut data = vec![0f32; shape.iter().product()];
    plan.run_f32(x.data(), &mut data, true)?;
    Ok(Tensor { data, shape })
}

/// Calls `f(start, end)` for each contiguous run of the window inside a plane with row-major
/// `strides` (`win` holds one window per spatial dim; the last dim is contiguous).
fn for_window_rows(win: &[Window], strides: &[usize], mut f: impl FnMut(usize, usize)) {
    let last = win.len() - 1;
    if win.iter().any(|w| w.start == w.end) {
        return;
    }
    let mut index = [0usize; MAX_POOL_DIMS];
    for (i, w) in index.iter_mut().zip(&win[..last]) {
        *i = w.start;
    }
    loop {
        let row: usize = index[..last].iter().zip(strides).map(|(i, s)| i * s).sum();
        f(row + win[last].start, row + win[last].end);
        // Odometer over the outer dims' real ranges.
        let mut d = last;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            index[d] += 1;
            if index[d] < win[d].end {
                break;
            }
            index[d] = win[d].start;
        }
    }
}

#[cfg(test)]
mod tests;
