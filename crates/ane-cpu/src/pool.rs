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

use crate::error::CpuError;
use crate::shape::num_elements;
use crate::tensor::{Tensor, TensorRef};
use crate::threads::ELEMENTWISE_CHUNK;
use rayon::prelude::*;

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

/// MIL `max_pool`.
pub fn max_pool_f32(x: TensorRef<'_, f32>, params: &PoolParams) -> Result<Tensor<f32>, CpuError> {
    pool(x, params, "max_pool", |plane, win, strides, out| {
        let mut best = f32::NEG_INFINITY;
        for_window_rows(win, strides, |start, end| {
            for &v in &plane[start..end] {
                // NaN propagates: once `best` is NaN nothing replaces it.
                if !best.is_nan() && (v.is_nan() || v > best) {
                    best = v;
                }
            }
        });
        *out = best;
    })
}

/// MIL `avg_pool`; `exclude_padding` is `exclude_padding_from_average`.
pub fn avg_pool_f32(
    x: TensorRef<'_, f32>,
    params: &PoolParams,
    exclude_padding: bool,
) -> Result<Tensor<f32>, CpuError> {
    pool(x, params, "avg_pool", |plane, win, strides, out| {
        let mut sum = 0f64;
        for_window_rows(win, strides, |start, end| {
            sum += plane[start..end].iter().map(|&v| v as f64).sum::<f64>();
        });
        let count: usize = if exclude_padding {
            win.iter().map(|w| w.end - w.start).product()
        } else {
            win.iter().map(|w| w.padded_len).product()
        };
        *out = if count == 0 {
            0.0
        } else {
            (sum / count as f64) as f32
        };
    })
}

/// Calls `f(start, end)` for each contiguous run of the window inside a plane with row-major
/// `strides` (`win` holds one window per spatial dim; the last dim is contiguous).
fn for_window_rows(win: &[Window], strides: &[usize], mut f: impl FnMut(usize, usize)) {
    let last = win.len() - 1;
    if win.iter().any(|w| w.start == w.end) {
        return;
    }
    let mut index: Vec<usize> = win[..last].iter().map(|w| w.start).collect();
    loop {
        let row: usize = index.iter().zip(strides).map(|(i, s)| i * s).sum();
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

/// Shared driver: for each (n, c) plane and output position, hands the plane, the window per
/// dim, the plane's strides and the output slot to `reduce`.
fn pool(
    x: TensorRef<'_, f32>,
    params: &PoolParams,
    op: &'static str,
    reduce: impl Fn(&[f32], &[Window], &[usize], &mut f32) + Sync,
) -> Result<Tensor<f32>, CpuError> {
    let wins = windows(op, x.shape(), params)?;
    let in_sp = &x.shape()[2..];
    let out_sp: Vec<usize> = wins.iter().map(Vec::len).collect();
    let mut out_shape = x.shape()[..2].to_vec();
    out_shape.extend_from_slice(&out_sp);
    let mut out = vec![0f32; num_elements(op, &out_shape)?];
    let in_plane: usize = in_sp.iter().product();
    let out_plane: usize = out_sp.iter().product();
    let strides = crate::shape::row_major_strides(in_sp);
    if out_plane == 0 {
        return Ok(Tensor {
            data: out,
            shape: out_shape,
        });
    }
    let data = x.data();
    let run_plane = |plane_index: usize, out_plane_data: &mut [f32]| {
        let plane = &data[plane_index * in_plane..(plane_index + 1) * in_plane];
        let mut o = vec![0usize; out_sp.len()];
        let mut win: Vec<Window> = wins.iter().map(|w| w[0]).collect();
        for slot in out_plane_data.iter_mut() {
            reduce(plane, &win, &strides, slot);
            // Advance the output odometer and the window of each dim that moved.
            for d in (0..o.len()).rev() {
                o[d] += 1;
                if o[d] < out_sp[d] {
                    win[d] = wins[d][o[d]];
                    break;
                }
                o[d] = 0;
                win[d] = wins[d][0];
            }
        }
    };
    let window_size: usize = params.kernel.iter().product();
    let planes_per_task = (ELEMENTWISE_CHUNK / (out_plane * window_size).max(1)).max(1);
    let planes = out.len() / out_plane;
    if planes > planes_per_task {
        out.par_chunks_mut(planes_per_task * out_plane)
            .enumerate()
            .for_each(|(c, chunk)| {
                for (i, p) in chunk.chunks_mut(out_plane).enumerate() {
                    run_plane(c * planes_per_task + i, p);
                }
            });
    } else {
        for (i, p) in out.chunks_mut(out_plane).enumerate() {
            run_plane(i, p);
        }
    }
    Ok(Tensor {
        data: out,
        shape: out_shape,
    })
}

#[cfg(test)]
mod tests;
