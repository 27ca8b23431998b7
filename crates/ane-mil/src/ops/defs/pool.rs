//! Pooling (mil-ops §1.12): `max_pool` and `avg_pool` over 1–3 spatial dims, with floor or ceil
//! output sizes.

use super::domains::{t, B, FLOAT, I32, S};
use super::window::{custom_pads, pad_type, positive_per_dim, spatial_rank};
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::shape::{window_output, PadType, Window};
use crate::ops::signature::{DefaultValue, InputSpec, OpSignature};
use crate::program::Opset;
use crate::types::{Dim, TensorType};

fn inputs() -> Vec<InputSpec> {
    vec![
        InputSpec::required("x", t(FLOAT)),
        InputSpec::required("kernel_sizes", I32).constant().vector(),
        InputSpec::optional("strides", I32, DefaultValue::IntPerSpatialDim(1))
            .constant()
            .vector(),
        InputSpec::required("pad_type", S).constant().scalar(),
        InputSpec::optional("pad", I32, DefaultValue::IntPerPadSide(0))
            .constant()
            .vector(),
        InputSpec::optional("ceil_mode", B, DefaultValue::Bool(false))
            .constant()
            .scalar(),
    ]
}

pub(super) fn signatures() -> Vec<OpSignature> {
    let mut avg = inputs();
    avg.push(
        InputSpec::optional("exclude_padding_from_average", B, DefaultValue::Bool(false))
            .constant()
            .scalar(),
    );
    vec![
        OpSignature::new("max_pool", Opset::Ios15, inputs(), pool_rule),
        OpSignature::new("avg_pool", Opset::Ios15, avg, pool_rule),
    ]
}

fn pool_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    let spatial = spatial_rank(ctx, x)?;
    let kernel = positive_per_dim(ctx, "kernel_sizes", spatial)?;
    let strides = positive_per_dim(ctx, "strides", spatial)?;
    let pad_type = pad_type(ctx, true)?;
    let pads = custom_pads(ctx, pad_type, spatial)?;
    let ceil_mode = ctx.bool("ceil_mode")?;
    if ceil_mode {
        // Restrictions of ceil mode (mil-ops §1.12).
        if spatial > 2 {
            return Err(ctx.value_error("ceil_mode", "ceil mode supports only 1-D and 2-D pooling"));
        }
        if matches!(pad_type, PadType::Same | PadType::SameLower) {
            return Err(ctx.value_error(
                "ceil_mode",
                "ceil mode cannot be combined with `same` padding",
            ));
        }
        if pads.iter().any(|(b, a)| b != a) {
            return Err(ctx.value_error(
                "ceil_mode",
                format!("ceil mode needs symmetric padding, got {pads:?}"),
            ));
        }
    }
    let mut shape = vec![x.shape[0], x.shape[1]];
    for i in 0..spatial {
        let window = Window {
            input: x.shape[2 + i],
            kernel: Dim::Known(kernel[i]),
            stride: strides[i],
            custom_pad: pads[i],
        };
        let out = window_output(pad_type, window, ceil_mode)
            .map_err(|m| ctx.shape_error(format!("spatial dim {i} of `x` {x}: {m}")))?;
        shape.push(out);
    }
    Ok(ctx.output(x.dtype, shape))
}
