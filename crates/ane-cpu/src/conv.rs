//! N-D convolution (MIL `conv`) and transposed convolution (MIL `conv_transpose`) over any
//! number of spatial dimensions, with groups (incl. depthwise), strides, dilations, explicit
//! before/after padding and bias.
//!
//! `conv` lowers each (image, group) pair to one GEMM `W_g [C_out/g, C_in/g·ΠK] ·
//! col [C_in/g·ΠK, ΠD_out]` where `col` is the im2col expansion of the input (skipped for
//! pointwise kernels, whose `col` is the input itself). `conv_transpose` computes
//! `col = W_gᵀ · x_g` and scatter-adds it into the output (col2im). Pairs run in parallel with
//! single-threaded GEMMs when there are enough of them, else one by one with a parallel GEMM.
//!
//! The f16 entry points convert to f32 (slice conversions), compute in f32 and round the result
//! once: measured faster than im2col in f16 + `gemm`'s f16 kernel (see benches/conv.rs).
//! Callers work out padding: [`same_padding`] gives MIL's `same` / `same_lower` split.

use crate::convert::{f16_to_f32_vec, f32_to_f16_vec};
use crate::error::CpuError;
use crate::gemm::{gemm_f32, MatMut, MatRef};
use crate::shape::num_elements;
use crate::tensor::{Tensor, TensorRef};
use crate::threads;
use half::f16;
use rayon::prelude::*;

/// Strides, dilations, padding and groups of a convolution over `S` spatial dimensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvParams {
    /// Step between output positions, per spatial dim (≥ 1).
    pub strides: Vec<usize>,
    /// Spacing between kernel taps, per spatial dim (≥ 1).
    pub dilations: Vec<usize>,
    /// Zero padding `(before, after)` per spatial dim.
    pub pads: Vec<(usize, usize)>,
    /// Channel groups (1 = dense, `C_in` = depthwise).
    pub groups: usize,
}

impl ConvParams {
    /// Unit strides and dilations, no padding, one group, for `spatial` dims.
    pub fn new(spatial: usize) -> Self {
        ConvParams {
            strides: vec![1; spatial],
            dilations: vec![1; spatial],
            pads: vec![(0, 0); spatial],
            groups: 1,
        }
    }
}

/// Strides, dilations, padding, output size and groups of a transposed convolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvTransposeParams {
    /// Step between the output positions of consecutive inputs, per spatial dim (≥ 1).
    pub strides: Vec<usize>,
    /// Spacing between kernel taps, per spatial dim (≥ 1).
    pub dilations: Vec<usize>,
    /// Padding removed before each spatial dim: input `i` with tap `k` lands on output
    /// `i·stride + k·dilation − pad_before`.
    pub pads_before: Vec<usize>,
    /// The output spatial size (MIL's rules or an explicit `output_shape` decide it; see
    /// [`conv_transpose_output_size`]).
    pub output_size: Vec<usize>,
    /// Channel groups.
    pub groups: usize,
}

/// MIL `same` padding for one spatial dim: output `ceil(input / stride)`, total padding
/// `max(0, (out − 1)·stride + effective_kernel − input)`, the odd element going after
/// (`lower = false`, `same`) or before (`lower = true`, `same_lower`).
pub fn same_padding(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    lower: bool,
) -> (usize, usize) {
    let stride = stride.max(1);
    let effective = effective_kernel(kernel, dilation);
    let out = input.div_ceil(stride);
    let total = (out.saturating_sub(1) * stride + effective).saturating_sub(input);
    let small = total / 2;
    if lower {
        (total - small, small)
    } else {
        (small, total - small)
    }
}

/// Output size of a convolution along one dim: `floor((D + P − E) / s) + 1`, or `None` when the
/// (padded) input is shorter than the effective kernel.
pub fn conv_output_size(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pads: (usize, usize),
) -> Option<usize> {
    let padded = input + pads.0 + pads.1;
    let effective = effective_kernel(kernel, dilation);
    if stride == 0 || kernel == 0 || padded < effective {
        return None;
    }
    Some((padded - effective) / stride + 1)
}

/// Output size of a transposed convolution along one dim without an explicit output shape:
/// `(D − 1)·s + E − pad_before − pad_after` (MIL `valid`/`custom`; `same` is `D·s`).
pub fn conv_transpose_output_size(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pads: (usize, usize),
) -> Option<usize> {
    let full = input.checked_sub(1)? * stride + effective_kernel(kernel, dilation);
    full.checked_sub(pads.0 + pads.1).filter(|&n| n > 0)
}

fn effective_kernel(kernel: usize, dilation: usize) -> usize {
    kernel.saturating_sub(1) * dilation + 1
}

/// Sizes shared by conv and conv_transpose, checked against the tensors.
#[derive(Debug, Clone)]
struct Geometry {
    batch: usize,
    groups: usize,
    /// Input channels per group.
    cin_g: usize,
    /// Output channels per group.
    cout_g: usize,
    in_sp: Vec<usize>,
    kernel: Vec<usize>,
    out_sp: Vec<usize>,
    strides: Vec<usize>,
    dilations: Vec<usize>,
    pads_before: Vec<usize>,
}

impl Geometry {
    fn in_plane(&self) -> usize {
        self.in_sp.iter().product()
    }
    fn out_plane(&self) -> usize {
        self.out_sp.iter().product()
    }
    fn taps(&self) -> usize {
        self.kernel.iter().product()
    }
    fn cout(&self) -> usize {
        self.cout_g * self.groups
    }
    fn is_pointwise(&self) -> bool {
        self.kernel.iter().all(|&k| k == 1)
            && self.strides.iter().all(|&s| s == 1)
            && self.pads_before.iter().all(|&p| p == 0)
            && self.in_sp == self.out_sp
    }
}

/// Checks the common parameter shapes; returns the spatial rank.
fn check_params(
    op: &'static str,
    x_shape: &[usize],
    w_shape: &[usize],
    strides: &[usize],
    dilations: &[usize],
    pads_len: usize,
    groups: usize,
) -> Result<usize, CpuError> {
    if x_shape.len() < 3 {
        return Err(CpuError::invalid(
            op,
            format!("input {x_shape:?} must be [N, C, *spatial] with at least one spatial dim"),
        ));
    }
    let s = x_shape.len() - 2;
    if w_shape.len() != s + 2 {
        return Err(CpuError::invalid(
            op,
            format!("weight {w_shape:?} must have the input's rank {}", s + 2),
        ));
    }
    if strides.len() != s || dilations.len() != s || pads_len != s {
        return Err(CpuError::invalid(
            op,
            format!("strides, dilations and pads need one entry per spatial dim ({s})"),
        ));
    }
    if strides.contains(&0) || dilations.contains(&0) || groups == 0 {
        return Err(CpuError::invalid(
            op,
            "strides, dilations and groups must be ≥ 1",
        ));
    }
    Ok(s)
}

fn check_bias(op: &'static str, bias: Option<&[f32]>, cout: usize) -> Result<(), CpuError> {
    match bias {
        Some(b) if b.len() != cout => Err(CpuError::invalid(
            op,
            format!("bias has {} elements, expected C_out = {cout}", b.len()),
        )),
        _ => Ok(()),
    }
}

fn conv_geometry(
    x_shape: &[usize],
    w_shape: &[usize],
    p: &ConvParams,
) -> Result<Geometry, CpuError> {
    const OP: &str = "conv";
    let s = check_params(
        OP,
        x_shape,
        w_shape,
        &p.strides,
        &p.dilations,
        p.pads.len(),
        p.groups,
    )?;
    let (cin, cout) = (x_shape[1], w_shape[0]);
    if cin % p.groups != 0 || cout % p.groups != 0 || w_shape[1] * p.groups != cin {
        return Err(CpuError::invalid(
            OP,
            format!(
                "weight {w_shape:?} with {} groups does not fit input channels {cin} \
                 (need C_in and C_out divisible by groups, weight dim 1 = C_in/groups)",
                p.groups
            ),
        ));
    }
    let in_sp = x_shape[2..].to_vec();
    let kernel = w_shape[2..].to_vec();
    let out_sp = (0..s)
        .map(|d| conv_output_size(in_sp[d], kernel[d], p.strides[d], p.dilations[d], p.pads[d]))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            CpuError::invalid(
                OP,
                format!(
                    "kernel {kernel:?} (dilations {:?}) is larger than the padded input {in_sp:?}",
                    p.dilations
                ),
            )
        })?;
    Ok(Geometry {
        batch: x_shape[0],
        groups: p.groups,
        cin_g: cin / p.groups,
        cout_g: cout / p.groups,
        in_sp,
        kernel,
        out_sp,
        strides: p.strides.clone(),
        dilations: p.dilations.clone(),
        pads_before: p.pads.iter().map(|&(b, _)| b).collect(),
    })
}

/// MIL `conv` in f32: `x [N, C_in, *D]`, `weight [C_out, C_in/groups, *K]`, optional
/// `bias [C_out]`; returns `[N, C_out, *D_out]`. Cross-correlation (no kernel flip), zero padding.
pub fn conv_f32(
    x: TensorRef<'_, f32>,
    weight: TensorRef<'_, f32>,
    bias: Option<&[f32]>,
    params: &ConvParams,
) -> Result<Tensor<f32>, CpuError> {
    let geo = conv_geometry(x.shape(), weight.shape(), params)?;
    check_bias("conv", bias, geo.cout())?;
    let mut out_shape = vec![geo.batch, geo.cout()];
    out_shape.extend_from_slice(&geo.out_sp);
    let mut out = vec![0f32; num_elements("conv", &out_shape)?];
    run_conv(&geo, x.data(), weight.data(), bias, &mut out)?;
    Ok(Tensor {
        data: out,
        shape: out_shape,
    })
}

/// MIL `conv` on f16 tensors (bias given in f32): computed in f32, output rounded once.
pub fn conv_f16(
    x: TensorRef<'_, f16>,
    weight: TensorRef<'_, f16>,
    bias: Option<&[f32]>,
    params: &ConvParams,
) -> Result<Tensor<f16>, CpuError> {
    let x32 = f16_to_f32_vec(x.data());
    let w32 = f16_to_f32_vec(weight.data());
    let out = conv_f32(
        TensorRef::new(&x32, x.shape())?,
        TensorRef::new(&w32, weight.shape())?,
        bias,
        params,
    )?;
    Ok(Tensor {
        data: f32_to_f16_vec(&out.data),
        shape: out.shape,
    })
}

/// Whether to run (image, group) tasks in parallel with single-threaded GEMMs.
fn parallel_over_tasks(tasks: usize, flops_per_task: usize) -> bool {
    let threads = threads::available();
    threads > 1 && tasks > 1 && (tasks >= 2 * threads || flops_per_task < 1 << 22)
}

fn run_conv(
    geo: &Geometry,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
) -> Result<(), CpuError> {
    let in_chunk = geo.cin_g * geo.in_plane();
    let out_chunk = geo.cout_g * geo.out_plane();
    let rows = geo.cin_g * geo.taps();
    if out_chunk == 0 {
        return Ok(());
    }
    let tasks = geo.batch * geo.groups;
    let pointwise = geo.is_pointwise();
    let task = |index: usize, out_chunk_data: &mut [f32], col: &mut Vec<f32>, parallel: bool| {
        let g = index % geo.groups;
        let input = &x[index * in_chunk..(index + 1) * in_chunk];
        let cols = if pointwise {
            input
        } else {
            col.resize(rows * geo.out_plane(), 0.0);
            im2col(geo, input, col);
            &col[..]
        };
        let w_g = &w[g * geo.cout_g * rows..(g + 1) * geo.cout_g * rows];
        let accumulate = fill_bias(out_chunk_data, bias, g * geo.cout_g, geo.out_plane());
        gemm_f32(
            MatMut::row_major(out_chunk_data, geo.cout_g, geo.out_plane())?,
            MatRef::row_major(w_g, geo.cout_g, rows)?,
            MatRef::row_major(cols, rows, geo.out_plane())?,
            accumulate,
            parallel,
        )
    };
    let flops = 2 * geo.cout_g * rows * geo.out_plane();
    if parallel_over_tasks(tasks, flops) {
        out.par_chunks_mut(out_chunk)
            .enumerate()
            .try_for_each_init(Vec::new, |col, (index, chunk)| {
                task(index, chunk, col, false)
            })
    } else {
        let mut col = Vec::new();
        for (index, chunk) in out.chunks_mut(out_chunk).enumerate() {
            task(index, chunk, &mut col, true)?;
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

/// For positions `idx` in `0..count` mapped to `idx·stride + offset`, the sub-range whose image
/// lies in `0..limit`.
fn valid_range(count: usize, limit: usize, stride: usize, offset: isize) -> (usize, usize) {
    // First idx with idx·stride + offset ≥ 0.
    let lo = if offset >= 0 {
        0
    } else {
        (offset.unsigned_abs()).div_ceil(stride)
    };
    // First idx with idx·stride + offset ≥ limit.
    let hi = if (limit as isize) <= offset {
        0
    } else {
        ((limit as isize - offset) as usize).div_ceil(stride)
    };
    let hi = hi.min(count);
    (lo.min(hi), hi)
}

/// Odometer over a multi-index with the given extents; returns false after the last index.
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
/// `col[(c, k), o] = x[c, o·s + k·dil − pad_before]`, 0 where that falls in the padding.
fn im2col(geo: &Geometry, input: &[f32], col: &mut [f32]) {
    let s = geo.in_sp.len();
    let last = s - 1;
    let in_plane = geo.in_plane();
    let out_plane = geo.out_plane();
    let out_row = geo.out_sp[last];
    let in_row = geo.in_sp[last];
    let outer_out: Vec<usize> = geo.out_sp[..last].to_vec();
    let in_strides = crate::shape::row_major_strides(&geo.in_sp);
    let mut rows = col.chunks_mut(out_plane);
    for c in 0..geo.cin_g {
        let plane = &input[c * in_plane..(c + 1) * in_plane];
        let mut k = vec![0usize; s];
        loop {
            // Row (c, k) of col; rows are produced in (c, k) order.
            let Some(row) = rows.next() else { return };
            let offset =
                |d: usize| k[d] as isize * geo.dilations[d] as isize - geo.pads_before[d] as isize;
            let (lo, hi) = valid_range(out_row, in_row, geo.strides[last], offset(last));
            let outer_ranges: Vec<(usize, usize)> = (0..last)
                .map(|d| valid_range(geo.out_sp[d], geo.in_sp[d], geo.strides[d], offset(d)))
                .collect();
            let mut o = vec![0usize; last];
            for seg in row.chunks_mut(out_row) {
                let inside =
                    (0..last).all(|d| o[d] >= outer_ranges[d].0 && o[d] < outer_ranges[d].1);
                if !inside || lo >= hi {
                    seg.fill(0.0);
                } else {
                    let base: usize = (0..last)
                        .map(|d| {
                            ((o[d] * geo.strides[d]) as isize + offset(d)) as usize * in_strides[d]
                        })
                        .sum();
                    let first = (lo * geo.strides[last]) as isize + offset(last);
                    let src = &plane[base + first as usize..];
                    seg[..lo].fill(0.0);
                    let stride = geo.strides[last];
                    if stride == 1 {
                        seg[lo..hi].copy_from_slice(&src[..hi - lo]);
                    } else {
                        for (dst, val) in seg[lo..hi].iter_mut().zip(src.iter().step_by(stride)) {
                            *dst = *val;
                        }
                    }
                    seg[hi..].fill(0.0);
                }
                if !advance(&mut o, &outer_out) {
                    break;
                }
            }
            if !advance(&mut k, &geo.kernel) {
                break;
            }
        }
    }
}

/// MIL `conv_transpose` in f32: `x [N, C_in, *D]`, `weight [C_in, C_out/groups, *K]`,
/// optional `bias [C_out]`; returns `[N, C_out, *params.output_size]`. Input `i` with tap `k`
/// adds `x·w` to output `i·stride + k·dilation − pad_before` (dropped outside the output).
pub fn conv_transpose_f32(
    x: TensorRef<'_, f32>,
    weight: TensorRef<'_, f32>,
    bias: Option<&[f32]>,
    params: &ConvTransposeParams,
) -> Result<Tensor<f32>, CpuError> {
    const OP: &str = "conv_transpose";
    let (x_shape, w_shape) = (x.shape(), weight.shape());
    let s = check_params(
        OP,
        x_shape,
        w_shape,
        &params.strides,
        &params.dilations,
        params.pads_before.len(),
        params.groups,
    )?;
    if params.output_size.len() != s {
        return Err(CpuError::invalid(
            OP,
            format!("output_size needs one entry per spatial dim ({s})"),
        ));
    }
    let cin = x_shape[1];
    if w_shape[0] != cin || cin % params.groups != 0 {
        return Err(CpuError::invalid(
            OP,
            format!(
                "weight {w_shape:?} must be [C_in = {cin}, C_out/groups, *K] with C_in \
                 divisible by {} groups",
                params.groups
            ),
        ));
    }
    let geo = Geometry {
        batch: x_shape[0],
        groups: params.groups,
        cin_g: cin / params.groups,
        cout_g: w_shape[1],
        in_sp: x_shape[2..].to_vec(),
        kernel: w_shape[2..].to_vec(),
        out_sp: params.output_size.clone(),
        strides: params.strides.clone(),
        dilations: params.dilations.clone(),
        pads_before: params.pads_before.clone(),
    };
    check_bias(OP, bias, geo.cout())?;
    let mut out_shape = vec![geo.batch, geo.cout()];
    out_shape.extend_from_slice(&geo.out_sp);
    let mut out = vec![0f32; num_elements(OP, &out_shape)?];
    run_conv_transpose(&geo, x.data(), weight.data(), bias, &mut out)?;
    Ok(Tensor {
        data: out,
        shape: out_shape,
    })
}

/// MIL `conv_transpose` on f16 tensors (bias in f32): computed in f32, output rounded once.
pub fn conv_transpose_f16(
    x: TensorRef<'_, f16>,
    weight: TensorRef<'_, f16>,
    bias: Option<&[f32]>,
    params: &ConvTransposeParams,
) -> Result<Tensor<f16>, CpuError> {
    let x32 = f16_to_f32_vec(x.data());
    let w32 = f16_to_f32_vec(weight.data());
    let out = conv_transpose_f32(
        TensorRef::new(&x32, x.shape())?,
        TensorRef::new(&w32, weight.shape())?,
        bias,
        params,
    )?;
    Ok(Tensor {
        data: f32_to_f16_vec(&out.data),
        shape: out.shape,
    })
}

fn run_conv_transpose(
    geo: &Geometry,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
) -> Result<(), CpuError> {
    let in_chunk = geo.cin_g * geo.in_plane();
    let out_chunk = geo.cout_g * geo.out_plane();
    let col_rows = geo.cout_g * geo.taps();
    if out_chunk == 0 {
        return Ok(());
    }
    if geo.in_plane() == 0 {
        // No input positions: the output is the bias alone.
        for (index, chunk) in out.chunks_mut(out_chunk).enumerate() {
            fill_bias(
                chunk,
                bias,
                (index % geo.groups) * geo.cout_g,
                geo.out_plane(),
            );
        }
        return Ok(());
    }
    let tasks = geo.batch * geo.groups;
    let task = |index: usize, out_data: &mut [f32], col: &mut Vec<f32>, parallel: bool| {
        let g = index % geo.groups;
        let input = &x[index * in_chunk..(index + 1) * in_chunk];
        let w_g = &w[g * geo.cin_g * col_rows..(g + 1) * geo.cin_g * col_rows];
        col.resize(col_rows * geo.in_plane(), 0.0);
        gemm_f32(
            MatMut::row_major(col, col_rows, geo.in_plane())?,
            MatRef::row_major(w_g, geo.cin_g, col_rows)?.t(),
            MatRef::row_major(input, geo.cin_g, geo.in_plane())?,
            false,
            parallel,
        )?;
        if !fill_bias(out_data, bias, g * geo.cout_g, geo.out_plane()) {
            out_data.fill(0.0);
        }
        col2im(geo, col, out_data);
        Ok(())
    };
    let flops = 2 * col_rows * geo.cin_g * geo.in_plane();
    if parallel_over_tasks(tasks, flops) {
        out.par_chunks_mut(out_chunk)
            .enumerate()
            .try_for_each_init(Vec::new, |col, (index, chunk)| {
                task(index, chunk, col, false)
            })
    } else {
        let mut col = Vec::new();
        for (index, chunk) in out.chunks_mut(out_chunk).enumerate() {
            task(index, chunk, &mut col, true)?;
        }
        Ok(())
    }
}

/// Scatter-adds `col [C_out/g · ΠK, ΠD_in]` into one group of one output image
/// `[C_out/g, *D_out]`: `out[co, i·s + k·dil − pad_before] += col[(co, k), i]`.
fn col2im(geo: &Geometry, col: &[f32], out: &mut [f32]) {
    let s = geo.in_sp.len();
    let last = s - 1;
    let in_plane = geo.in_plane();
    let out_plane = geo.out_plane();
    let in_row = geo.in_sp[last];
    let out_row = geo.out_sp[last];
    let outer_in: Vec<usize> = geo.in_sp[..last].to_vec();
    let out_strides = crate::shape::row_major_strides(&geo.out_sp);
    let mut rows = col.chunks(in_plane);
    for co in 0..geo.cout_g {
        let plane = &mut out[co * out_plane..(co + 1) * out_plane];
        let mut k = vec![0usize; s];
        loop {
            let Some(row) = rows.next() else { return };
            let offset =
                |d: usize| k[d] as isize * geo.dilations[d] as isize - geo.pads_before[d] as isize;
            let (lo, hi) = valid_range(in_row, out_row, geo.strides[last], offset(last));
            let outer_ranges: Vec<(usize, usize)> = (0..last)
                .map(|d| valid_range(geo.in_sp[d], geo.out_sp[d], geo.strides[d], offset(d)))
                .collect();
            let mut i = vec![0usize; last];
            for seg in row.chunks(in_row) {
                let inside =
                    (0..last).all(|d| i[d] >= outer_ranges[d].0 && i[d] < outer_ranges[d].1);
                if inside && lo < hi {
                    let base: usize = (0..last)
                        .map(|d| {
                            ((i[d] * geo.strides[d]) as isize + offset(d)) as usize * out_strides[d]
                        })
                        .sum();
                    let first = ((lo * geo.strides[last]) as isize + offset(last)) as usize;
                    let dst = &mut plane[base + first..];
                    let stride = geo.strides[last];
                    for (d, v) in dst.iter_mut().step_by(stride).zip(&seg[lo..hi]) {
                        *d += *v;
                    }
                }
                if !advance(&mut i, &outer_in) {
                    break;
                }
            }
            if !advance(&mut k, &geo.kernel) {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests;
