//! `conv_transpose`: the gradient of `conv` with respect to its input. This file is MIL glue
//! (arguments, pad type, f16 widening); the computation is `ane_cpu::conv::ConvPlan`:
//! per (image, group), `col = W_gᵀ · x_g` scatter-added into the output (input position `i`
//! with tap `k` lands on `i·stride + k·dilation − pad_before`, dropped outside the output). The
//! output starts as the bias; f16 results are rounded once.
//!
//! Padding: `valid` removes nothing, `custom` removes `pad[2d]` before; `same` removes
//! `floor(P / 2)` before, where `P = max(0, (D_in − 1)·s + E − D_in·s)` is the total that
//! shrinks the full output to `D_in · s`. An explicit `output_shape` only sets the output size.

use crate::error::SimError;
use crate::ops::conv::push_conv_kernel;
use crate::ops::window::{custom_pads, effective, pad_type, per_dim};
use crate::prepare::op_cx::OpCx;
use ane_cpu::conv::{ConvPlan, ConvTransposeParams};
use ane_mil::ops::shape::PadType;

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let w_shape = cx.value("weight")?.shape.clone();
    let spatial = x.shape.len() - 2;
    let strides = per_dim(cx, "strides", spatial)?;
    let dilations = per_dim(cx, "dilations", spatial)?;
    let pt = pad_type(cx)?;
    let custom = custom_pads(cx, pt, spatial)?;
    let groups = cx.int("groups")?.max(1) as usize;
    let in_sp = x.shape[2..].to_vec();
    let pads_before = (0..spatial)
        .map(|d| match pt {
            PadType::Custom => custom[d].0,
            PadType::Same | PadType::SameLower => {
                let full = in_sp[d].saturating_sub(1) * strides[d]
                    + effective(w_shape[d + 2], dilations[d]);
                let total = full.saturating_sub(in_sp[d] * strides[d]);
                if pt == PadType::Same {
                    total / 2
                } else {
                    total - total / 2
                }
            }
            PadType::Valid => 0,
        })
        .collect();
    let params = ConvTransposeParams {
        strides,
        dilations,
        pads_before,
        output_size: cx.output(0)?.shape[2..].to_vec(),
        groups,
    };
    let plan = ConvPlan::conv_transpose(&x.shape, &w_shape, &params);
    push_conv_kernel(cx, plan, "transposed convolution")
}
