//! Running conv and conv_transpose over (image, group) tasks, for f32 or f16 storage: inputs
//! are widened and outputs narrowed per task in per-thread scratch memory, so an f16 call
//! allocates nothing but its result (whole-tensor f32 copies would be fresh allocations that
//! the allocator returns to the OS and faults back in on every call).

use super::im2col::{col2im, im2col, im2col_2d};
use super::Geometry;
use crate::convert::Storage;
use crate::error::CpuError;
use crate::gemm::{gemm_f32, MatMut, MatRef};
use crate::threads;
use rayon::prelude::*;

/// Elements of an im2col band that fit comfortably in a core's L2 cache (256 KiB of f32).
const L2_BAND_ELEMENTS: usize = 1 << 16;

/// Fewest output columns in a band (unless the image is narrower). The `gemm` crate blocks K
/// by `k` alone except for products with `m, n ≤ 64` (K capped at 512) and `n = 1` (a GEMV);
/// bands wider than 64 keep each output's summation order the same as one GEMM over the whole
/// image, so banding never changes a result bit.
const MIN_BAND_COLUMNS: usize = 65;

/// Whether to run (image, group) tasks in parallel with single-threaded GEMMs (many tasks, or
/// tasks too small for a parallel GEMM to pay) rather than one by one with a parallel GEMM.
fn parallel_over_tasks(tasks: usize, flops_per_task: usize) -> bool {
    let threads = threads::available();
    threads > 1 && tasks > 1 && (tasks >= 2 * threads || flops_per_task < 1 << 22)
}

/// Runs `task(index, output_chunk, parallel_gemm)` for every (image, group) chunk of `out`;
/// with `parallel` false, all on the calling thread.
fn for_each_task<T: Send>(
    out: &mut [T],
    chunk: usize,
    flops_per_task: usize,
    parallel: bool,
    task: impl Fn(usize, &mut [T], bool) -> Result<(), CpuError> + Sync,
) -> Result<(), CpuError> {
    let tasks = out.len() / chunk;
    if parallel && parallel_over_tasks(tasks, flops_per_task) {
        out.par_chunks_mut(chunk)
            .enumerate()
            .try_for_each(|(index, c)| task(index, c, false))
    } else {
        for (index, c) in out.chunks_mut(chunk).enumerate() {
            task(index, c, parallel)?;
        }
        Ok(())
    }
}

/// Writes each channel's bias into its output rows (for a GEMM that accumulates onto them);
/// returns whether it did.
fn fill_bias(out: &mut [f32], bias: Option<&[f32]>, first_channel: usize, plane: usize) -> bool {
    match bias {
        Some(b) => {
            for (c, row) in out.chunks_mut(plane).enumerate() {
                row.fill(b[first_channel + c]);
            }
            true
        }
        None => false,
    }
}

/// Runs `compute` on the output as f32: in place for f32 storage, else in `wide` and then
/// narrowed into `out`.
fn write_output<T: Storage>(
    out: &mut [T],
    wide: &mut [f32],
    compute: impl FnOnce(&mut [f32]) -> Result<(), CpuError>,
) -> Result<(), CpuError> {
    match T::as_f32_mut(out) {
        Some(direct) => compute(direct),
        None => {
            compute(wide)?;
            T::store(wide, out);
            Ok(())
        }
    }
}

/// Runs one task's `compute(input, col, result)` on f32 views, in this thread's scratch memory:
/// the input is widened into scratch unless it is already f32, `col_len` elements serve as the
/// column matrix, and the result goes straight into `out_data` when that is f32 (else it is
/// computed in scratch and rounded once).
fn with_task_buffers<T: Storage>(
    x_task: &[T],
    out_data: &mut [T],
    col_len: usize,
    compute: impl FnOnce(&[f32], &mut [f32], &mut [f32]) -> Result<(), CpuError>,
) -> Result<(), CpuError> {
    let direct_in = T::as_f32(x_task);
    let in_len = if direct_in.is_some() { 0 } else { x_task.len() };
    let out_len = if T::as_f32(out_data).is_some() {
        0
    } else {
        out_data.len()
    };
    threads::with_scratch(in_len + col_len + out_len, |buf| {
        let (wide_in, rest) = buf.split_at_mut(in_len);
        let (col, wide_out) = rest.split_at_mut(col_len);
        let input: &[f32] = match direct_in {
            Some(x32) => x32,
            None => {
                T::load(x_task, wide_in);
                wide_in
            }
        };
        write_output(out_data, wide_out, |result| compute(input, col, result))
    })
}

/// Forward convolution: per (image, group), `out = W_g · im2col(x_g) (+ bias)`.
pub(super) fn run_conv<T: Storage>(
    geo: &Geometry,
    x: &[T],
    w: &[f32],
    bias: Option<&[f32]>,
    out: &mut [T],
    parallel: bool,
) -> Result<(), CpuError> {
    let in_chunk = geo.cin_g * geo.in_plane();
    let out_chunk = geo.cout_g * geo.out_plane();
    let rows = geo.cin_g * geo.taps();
    if out_chunk == 0 {
        return Ok(());
    }
    let pointwise = geo.is_pointwise();
    let task = |index: usize, out_data: &mut [T], parallel: bool| {
        let g = index % geo.groups;
        let x_task = &x[index * in_chunk..(index + 1) * in_chunk];
        let w_g = &w[g * geo.cout_g * rows..(g + 1) * geo.cout_g * rows];
        // 2-D convs are expanded and multiplied a band of output rows at a time, so the
        // im2col band stays in L2 cache between being written and being read by the GEMM.
        // Bands hold at least `min_rows` rows: a short last band joins the one before it.
        let (band_rows, min_rows) = if geo.in_sp.len() == 2 && !pointwise {
            let out_w = geo.out_sp[1].max(1);
            let min_rows = MIN_BAND_COLUMNS.div_ceil(out_w).min(geo.out_sp[0]);
            let rows_in_l2 = L2_BAND_ELEMENTS / (rows * out_w).max(1);
            (rows_in_l2.max(min_rows).clamp(1, geo.out_sp[0]), min_rows)
        } else {
            (geo.out_sp[0], 0)
        };
        let widest_band = (band_rows + min_rows.saturating_sub(1)).min(geo.out_sp[0]);
        let band_len = rows * widest_band * (geo.out_plane() / geo.out_sp[0].max(1));
        let col_len = if pointwise { 0 } else { band_len };
        with_task_buffers(x_task, out_data, col_len, |input, col, result| {
            let accumulate = fill_bias(result, bias, g * geo.cout_g, geo.out_plane());
            if rows == 0 {
                // No input channels: the output is the bias (or zero).
                if !accumulate {
                    result.fill(0.0);
                }
                return Ok(());
            }
            let w_mat = MatRef::row_major(w_g, geo.cout_g, rows)?;
            if pointwise || geo.in_sp.len() != 2 {
                let cols = if pointwise {
                    // A 1×1, stride-1, unpadded kernel reads the input as its own im2col
                    // matrix.
                    input
                } else {
                    im2col(geo, input, col);
                    &col[..]
                };
                return gemm_f32(
                    MatMut::row_major(result, geo.cout_g, geo.out_plane())?,
                    w_mat,
                    MatRef::row_major(cols, rows, geo.out_plane())?,
                    accumulate,
                    parallel,
                );
            }
            let (out_w, out_h) = (geo.out_sp[1], geo.out_sp[0]);
            let mut first = 0;
            while first < out_h {
                let mut end = (first + band_rows).min(out_h);
                if out_h - end < min_rows {
                    end = out_h;
                }
                let band = first..end;
                first = end;
                let width = band.len() * out_w;
                let band_col = &mut col[..rows * width];
                im2col_2d(geo, input, band_col, band.clone());
                gemm_f32(
                    MatMut::new(
                        &mut result[band.start * out_w..],
                        geo.cout_g,
                        width,
                        geo.out_plane(),
                    )?,
                    w_mat,
                    MatRef::row_major(band_col, rows, width)?,
                    accumulate,
                    parallel,
                )?;
            }
            Ok(())
        })
    };
    for_each_task(
        out,
        out_chunk,
        2 * geo.cout_g * rows * geo.out_plane(),
        parallel,
        task,
    )
}

/// Transposed convolution: per (image, group), `col = W_gᵀ · x_g`, then col2im onto the bias.
pub(super) fn run_conv_transpose<T: Storage>(
    geo: &Geometry,
    x: &[T],
    w: &[f32],
    bias: Option<&[f32]>,
    out: &mut [T],
    parallel: bool,
) -> Result<(), CpuError> {
    let in_chunk = geo.cin_g * geo.in_plane();
    let out_chunk = geo.cout_g * geo.out_plane();
    let col_rows = geo.cout_g * geo.taps();
    if out_chunk == 0 {
        return Ok(());
    }
    let task = |index: usize, out_data: &mut [T], parallel: bool| {
        let g = index % geo.groups;
        let x_task = &x[index * in_chunk..(index + 1) * in_chunk];
        let w_g = &w[g * geo.cin_g * col_rows..(g + 1) * geo.cin_g * col_rows];
        with_task_buffers(
            x_task,
            out_data,
            col_rows * geo.in_plane(),
            |input, col, result| {
                if !fill_bias(result, bias, g * geo.cout_g, geo.out_plane()) {
                    result.fill(0.0);
                }
                if geo.in_plane() > 0 && geo.cin_g > 0 && col_rows > 0 {
                    gemm_f32(
                        MatMut::row_major(col, col_rows, geo.in_plane())?,
                        MatRef::row_major(w_g, geo.cin_g, col_rows)?.t(),
                        MatRef::row_major(input, geo.cin_g, geo.in_plane())?,
                        false,
                        parallel,
                    )?;
                    col2im(geo, col, result);
                }
                Ok(())
            },
        )
    };
    for_each_task(
        out,
        out_chunk,
        2 * col_rows * geo.cin_g * geo.in_plane(),
        parallel,
        task,
    )
}
