//! Validated convolution plans for callers that own their buffers (the simulator): the
//! geometry is worked out once from the shapes and parameters, then each run writes into a
//! caller-provided f32 output, with no per-call shape checks beyond slice lengths.

use super::{conv_geometry, conv_transpose_geometry, run, Geometry};
use crate::error::CpuError;

/// A checked `conv` (see [`super::conv_f32`] for the layout and semantics).
#[derive(Debug, Clone)]
pub struct ConvPlan {
    geo: Geometry,
}

/// A checked `conv_transpose` (see [`super::conv_transpose_f32`] for the layout and semantics).
#[derive(Debug, Clone)]
pub struct ConvTransposePlan {
    geo: Geometry,
}

impl ConvPlan {
    /// Plans a convolution of `x [N, C_in, *D]` by `weight [C_out, C_in/groups, *K]`.
    pub fn new(
        x_shape: &[usize],
        w_shape: &[usize],
        params: &super::ConvParams,
    ) -> Result<Self, CpuError> {
        Ok(ConvPlan {
            geo: conv_geometry(x_shape, w_shape, params)?,
        })
    }

    /// The output shape `[N, C_out, *D_out]`.
    pub fn output_shape(&self) -> Vec<usize> {
        self.geo.output_shape()
    }

    /// Runs the convolution in f32 into `out` (the output shape's length). With `parallel`
    /// false everything runs on the calling thread.
    pub fn run_f32(
        &self,
        x: &[f32],
        weight: &[f32],
        bias: Option<&[f32]>,
        out: &mut [f32],
        parallel: bool,
    ) -> Result<(), CpuError> {
        const OP: &str = "conv";
        let geo = &self.geo;
        let w_len = geo.cout() * geo.cin_g * geo.taps();
        check_lens(OP, geo, x.len(), weight.len(), w_len, out.len())?;
        super::check_bias(OP, bias, geo.cout())?;
        run::run_conv(geo, x, weight, bias, out, parallel)
    }
}

impl ConvTransposePlan {
    /// Plans a transposed convolution of `x [N, C_in, *D]` by `weight [C_in, C_out/groups, *K]`
    /// into `[N, C_out, *params.output_size]`.
    pub fn new(
        x_shape: &[usize],
        w_shape: &[usize],
        params: &super::ConvTransposeParams,
    ) -> Result<Self, CpuError> {
        Ok(ConvTransposePlan {
            geo: conv_transpose_geometry(x_shape, w_shape, params)?,
        })
    }

    /// The output shape `[N, C_out, *output_size]`.
    pub fn output_shape(&self) -> Vec<usize> {
        self.geo.output_shape()
    }

    /// Runs the transposed convolution in f32 into `out` (the output shape's length). With
    /// `parallel` false everything runs on the calling thread.
    pub fn run_f32(
        &self,
        x: &[f32],
        weight: &[f32],
        bias: Option<&[f32]>,
        out: &mut [f32],
        parallel: bool,
    ) -> Result<(), CpuError> {
        const OP: &str = "conv_transpose";
        let geo = &self.geo;
        let w_len = geo.cin_g * geo.groups * geo.cout_g * geo.taps();
        check_lens(OP, geo, x.len(), weight.len(), w_len, out.len())?;
        super::check_bias(OP, bias, geo.cout())?;
        run::run_conv_transpose(geo, x, weight, bias, out, parallel)
    }
}

/// Checks the slice lengths against the planned geometry.
fn check_lens(
    op: &'static str,
    geo: &Geometry,
    x_len: usize,
    w_len: usize,
    w_expected: usize,
    out_len: usize,
) -> Result<(), CpuError> {
    let x_expected = geo.batch * geo.cin_g * geo.groups * geo.in_plane();
    let out_expected = geo.batch * geo.cout() * geo.out_plane();
    for (what, len, expected) in [
        ("input", x_len, x_expected),
        ("weight", w_len, w_expected),
        ("output", out_len, out_expected),
    ] {
        if len != expected {
            return Err(CpuError::invalid(
                op,
                format!("{what} has {len} elements, the plan needs {expected}"),
            ));
        }
    }
    Ok(())
}
