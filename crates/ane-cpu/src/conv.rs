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
//! [`ConvPlan`] checks the geometry once and runs either op into caller-owned f32 buffers (the
//! simulator's entry point).

use crate::convert::Storage;
use crate::error::CpuError;
use crate::shape::num_elements;
use crate::tensor::{Tensor, TensorRef};
use crate::threads;
use half::f16;

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
    fn output_shape(&self) -> Vec<usize> {
        let mut shape = vec![self.batch, self.cout()];
        shape.extend_from_slice(&self.out_sp);
        shape
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
    conv_stored(&geo, x.data(), weight.data(), bias)
}

/// MIL `conv` on f16 tensors (bias given in f32): computed in f32, each output rounded once.
pub fn conv_f16(
    x: TensorRef<'_, f16>,
    weight: TensorRef<'_, f16>,
    bias: Option<&[f32]>,
    params: &ConvParams,
) -> Result<Tensor<f16>, CpuError> {
    let geo = conv_geometry(x.shape(), weight.shape(), params)?;
    with_wide_weights(weight.data(), |w32| conv_stored(&geo, x.data(), w32, bias))
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
    let geo = conv_transpose_geometry(x.shape(), weight.shape(), params)?;
    conv_transpose_stored(&geo, x.data(), weight.data(), bias)
}

/// MIL `conv_transpose` on f16 tensors (bias in f32): computed in f32, each output rounded
/// once.
pub fn conv_transpose_f16(
    x: TensorRef<'_, f16>,
    weight: TensorRef<'_, f16>,
    bias: Option<&[f32]>,
    params: &ConvTransposeParams,
) -> Result<Tensor<f16>, CpuError> {
    let geo = conv_transpose_geometry(x.shape(), weight.shape(), params)?;
    with_wide_weights(weight.data(), |w32| {
        conv_transpose_stored(&geo, x.data(), w32, bias)
    })
}

/// Runs `f` on f16 weights widened to f32 in this thread's scratch memory.
fn with_wide_weights<R>(w: &[f16], f: impl FnOnce(&[f32]) -> R) -> R {
    threads::with_scratch(w.len(), |w32| {
        f16::load(w, w32);
        f(w32)
    })
}

fn conv_stored<T: Storage>(
    geo: &Geometry,
    x: &[T],
    w: &[f32],
    bias: Option<&[f32]>,
) -> Result<Tensor<T>, CpuError> {
    check_bias("conv", bias, geo.cout())?;
    let out_shape = geo.output_shape();
    let mut out = T::zeroed_vec(num_elements("conv", &out_shape)?);
    run::run_conv(geo, x, w, bias, &mut out, true)?;
    Ok(Tensor {
        data: out,
        shape: out_shape,
    })
}

fn conv_transpose_stored<T: Storage>(
    geo: &Geometry,
    x: &[T],
    w: &[f32],
    bias: Option<&[f32]>,
) -> Result<Tensor<T>, CpuError> {
    check_bias("conv_transpose", bias, geo.cout())?;
    let out_shape = geo.output_shape();
    let mut out = T::zeroed_vec(num_elements("conv_transpose", &out_shape)?);
    run::run_conv_transpose(geo, x, w, bias, &mut out, true)?;
    Ok(Tensor {
        data: out,
        shape: out_shape,
    })
}

fn conv_transpose_geometry(
    x_shape: &[usize],
    w_shape: &[usize],
    params: &ConvTransposeParams,
) -> Result<Geometry, CpuError> {
    const OP: &str = "conv_transpose";
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
    Ok(Geometry {
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
    })
}

mod im2col;
mod plan;
mod run;

pub use plan::ConvPlan;

#[cfg(test)]
mod tests;
