//! Validated convolution plans for callers that own their buffers (the simulator): the
//! geometry is worked out once from the shapes and parameters, then each run writes into a
//! caller-provided f32 output, with no per-call shape checks beyond slice lengths.

use super::{conv_geometry, conv_transpose_geometry, run, Geometry};
use crate::error::CpuError;

/// A checked `conv` or `conv_transpose` (see [`super::conv_f32`] and
/// [`super::conv_transpose_f32`] for the layouts and semantics).
#[derive(Debug, Clone)]
pub struct ConvPlan {
    geo: Geometry,
    transpose: bool,
}

impl ConvPlan {
    /// Plans a convolution of `x [N, C_in, *D]` by `weight [C_out, C_in/groups, *K]`.
    pub fn conv(
        x_shape: &[usize],
        w_shape: &[usize],
        params: &super::ConvParams,
    ) -> Result<Self, CpuError> {
        Ok(ConvPlan {
            geo: conv_geometry(x_shape, w_shape, params)?,
            transpose: false,
        })
    }

    /// Plans a transposed convolution of `x [N, C_in, *D]` by
    /// `weight [C_in, C_out/groups, *K]` into `[N, C_out, *params.output_size]`.
    pub fn conv_transpose(
        x_shape: &[usize],
        w_shape: &[usize],
        params: &super::ConvTransposeParams,
    ) -> Result<Self, CpuError> {
        Ok(ConvPlan {
            geo: conv_transpose_geometry(x_shape, w_shape, params)?,
            transpose: true,
        })
    }

    /// The output shape `[N, C_out, *D_out]`.
    pub fn output_shape(&self) -> Vec<usize> {
        self.geo.output_shape()
    }

    /// Runs it in f32 into `out` (the output shape's length). With `parallel` false everything
    /// runs on the calling thread.
    pub fn run_f32(
        &self,
        x: &[f32],
        weight: &[f32],
        bias: Option<&[f32]>,
        out: &mut [f32],
        parallel: bool,
    ) -> Result<(), CpuError> {
        let geo = &self.geo;
        let op = if self.transpose {
            "conv_transpose"
        } else {
            "conv"
        };
        let x_expected = geo.batch * geo.cin_g * geo.groups * geo.in_plane();
        let w_expected = geo.cin_g * geo.cout_g * geo.groups * geo.taps();
        let out_expected = geo.batch * geo.cout() * geo.out_plane();
        for (what, len, expected) in [
            ("input", x.len(), x_expected),
            ("weight", weight.len(), w_expected),
            ("output", out.len(), out_expected),
        ] {
            if len != expected {
                return Err(CpuError::invalid(
                    op,
                    format!("{what} has {len} elements, the plan needs {expected}"),
                ));
            }
        }
        super::check_bias(op, bias, geo.cout())?;
        if self.transpose {
            run::run_conv_transpose(geo, x, weight, bias, out, parallel)
        } else {
            run::run_conv(geo, x, weight, bias, out, parallel)
        }
    }
}
