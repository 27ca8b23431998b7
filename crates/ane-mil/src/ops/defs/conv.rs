//! `conv` and `conv_transpose` (mil-ops §1.2–1.3). The iOS17 revisions give `weight` and `bias`
//! their own dtype domain `U` and drop the const requirement on them.

use super::domains::{t, u, FLOAT, I32, S};
use super::window::{custom_pads, pad_type, positive_per_dim, spatial_rank};
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::shape::{dims_compatible, mul_dims, positive_arg, window_output, PadType, Window};
use crate::ops::signature::{DefaultValue, InputSpec, OpSignature};
use crate::program::Opset;
use crate::types::{Dim, TensorType};

fn window_inputs() -> [InputSpec; 5] {
    [
        InputSpec::optional("strides", I32, DefaultValue::IntPerSpatialDim(1))
            .constant()
            .vector(),
        InputSpec::optional("pad_type", S, DefaultValue::Str("valid"))
            .constant()
            .scalar(),
        InputSpec::optional("pad", I32, DefaultValue::IntPerPadSide(0))
            .constant()
            .vector(),
        InputSpec::optional("dilations", I32, DefaultValue::IntPerSpatialDim(1))
            .constant()
            .vector(),
        InputSpec::optional("groups", I32, DefaultValue::Int(1))
            .constant()
            .scalar(),
    ]
}

pub(super) fn signatures() -> Vec<OpSignature> {
    let mut sigs = Vec::new();
    for since in [Opset::Ios15, Opset::Ios17] {
        let ios17 = since == Opset::Ios17;
        let wd = if ios17 { u(FLOAT) } else { t(FLOAT) };
        let bias = InputSpec::omittable("bias", wd, "no bias (zeros)").vector();
        // iOS15/16 conv needs a const bias; iOS17 lifts it. conv's weight may always be a runtime
        // value; conv_transpose's only from iOS17.
        let bias = if ios17 { bias } else { bias.constant() };
        let mut conv = vec![
            InputSpec::required("x", t(FLOAT)),
            InputSpec::required("weight", wd),
            bias,
        ];
        conv.extend(window_inputs());
        sigs.push(OpSignature::new("conv", since, conv, conv_rule));

        let weight = InputSpec::required("weight", wd);
        let mut transpose = vec![
            InputSpec::required("x", t(FLOAT)),
            if ios17 { weight } else { weight.constant() },
            bias,
            InputSpec::omittable(
                "output_shape",
                I32,
                "the output size follows from pad_type, strides and dilations",
            )
            .constant()
            .vector(),
        ];
        transpose.extend(window_inputs());
        sigs.push(OpSignature::new(
            "conv_transpose",
            since,
            transpose,
            conv_transpose_rule,
        ));
    }
    sigs
}

/// Checks `bias` against the number of output channels.
fn check_bias(ctx: &InferCtx<'_, '_>, c_out: Dim) -> Result<(), InferError> {
    if let Some(bias) = ctx.opt_tensor("bias") {
        if !dims_compatible(bias.shape[0], c_out) {
            return Err(
                ctx.shape_error(format!("`bias` {bias} must have C_out = {c_out} elements"))
            );
        }
    }
    Ok(())
}

/// The effective kernel extent `(k − 1)·dilation + 1`.
fn effective_kernel(ctx: &InferCtx<'_, '_>, k: Dim, dilation: usize) -> Result<Dim, InferError> {
    match k {
        Dim::Unknown => Ok(Dim::Unknown),
        Dim::Known(0) => Err(ctx.shape_error("`weight` has a kernel dim of size 0")),
        Dim::Known(k) => (k - 1)
            .checked_mul(dilation)
            .and_then(|v| v.checked_add(1))
            .map(Dim::Known)
            .ok_or_else(|| ctx.shape_error("kernel extent overflows")),
    }
}

fn conv_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let (x, w) = (ctx.tensor("x")?, ctx.tensor("weight")?);
    let spatial = spatial_rank(ctx, x)?;
    if w.rank() != x.rank() {
        return Err(ctx.shape_error(format!(
            "`weight` must be [C_out, C_in/groups, *kernel] of the same rank as `x` {x}, got {w}"
        )));
    }
    let strides = positive_per_dim(ctx, "strides", spatial)?;
    let dilations = positive_per_dim(ctx, "dilations", spatial)?;
    let pad_type = pad_type(ctx, true)?;
    let pads = custom_pads(ctx, pad_type, spatial)?;
    let groups = positive_arg(ctx, "groups", ctx.int("groups")?)?;
    let (c_in, c_out) = (x.shape[1], w.shape[0]);
    if let Dim::Known(c) = c_in {
        if c % groups != 0 {
            return Err(ctx.shape_error(format!(
                "C_in = {c} of `x` {x} is not divisible by groups = {groups}"
            )));
        }
        if !dims_compatible(w.shape[1], Dim::Known(c / groups)) {
            return Err(ctx.shape_error(format!(
                "`weight` {w} must have C_in/groups = {c}/{groups} = {} in dim 1 (from `x` {x})",
                c / groups
            )));
        }
    }
    if let Dim::Known(c) = c_out {
        if c % groups != 0 {
            return Err(ctx.shape_error(format!(
                "C_out = {c} of `weight` {w} is not divisible by groups = {groups}"
            )));
        }
    }
    check_bias(ctx, c_out)?;
    let weight_is_const = ctx.arg("weight").is_some_and(|a| a.constness.is_const());
    if !weight_is_const && dilations.iter().any(|&d| d > 1) {
        return Err(ctx.value_error(
            "dilations",
            "a conv with a runtime weight does not support dilations > 1",
        ));
    }
    let mut shape = vec![x.shape[0], c_out];
    for i in 0..spatial {
        let window = Window {
            input: x.shape[2 + i],
            kernel: effective_kernel(ctx, w.shape[2 + i], dilations[i])?,
            stride: strides[i],
            custom_pad: pads[i],
        };
        let out = window_output(pad_type, window, false)
            .map_err(|m| ctx.shape_error(format!("spatial dim {i} of `x` {x}: {m}")))?;
        shape.push(out);
    }
    Ok(ctx.output(x.dtype, shape))
}

fn conv_transpose_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let (x, w) = (ctx.tensor("x")?, ctx.tensor("weight")?);
    let spatial = spatial_rank(ctx, x)?;
    if w.rank() != x.rank() {
        return Err(ctx.shape_error(format!(
            "`weight` must be [C_in, C_out/groups, *kernel] of the same rank as `x` {x}, got {w}"
        )));
    }
    let strides = positive_per_dim(ctx, "strides", spatial)?;
    let dilations = positive_per_dim(ctx, "dilations", spatial)?;
    let pad_type = pad_type(ctx, false)?;
    let pads = custom_pads(ctx, pad_type, spatial)?;
    let groups = positive_arg(ctx, "groups", ctx.int("groups")?)?;
    if !dims_compatible(w.shape[0], x.shape[1]) {
        return Err(ctx.shape_error(format!("dim 0 of `weight` {w} must equal C_in of `x` {x}")));
    }
    let c_out = mul_dims(w.shape[1], Dim::Known(groups))
        .ok_or_else(|| ctx.shape_error("C_out overflows"))?;
    check_bias(ctx, c_out)?;
    if ctx.inputs.contains("output_shape") {
        let values = ctx.ints("output_shape")?;
        if values.len() != x.rank() {
            return Err(ctx.value_error(
                "output_shape",
                format!(
                    "expected the full output shape ({} values), got {values:?}",
                    x.rank()
                ),
            ));
        }
        let shape: Vec<Dim> = values
            .iter()
            .map(|&v| positive_arg(ctx, "output_shape", v).map(Dim::Known))
            .collect::<Result<_, _>>()?;
        if !dims_compatible(shape[0], x.shape[0]) || !dims_compatible(shape[1], c_out) {
            return Err(ctx.value_error(
                "output_shape",
                format!(
                    "{values:?} must start with N = {} and C_out = {c_out}",
                    x.shape[0]
                ),
            ));
        }
        return Ok(ctx.output(x.dtype, shape));
    }
    let mut shape = vec![x.shape[0], c_out];
    for i in 0..spatial {
        let kernel = effective_kernel(ctx, w.shape[2 + i], dilations[i])?;
        let out = match (x.shape[2 + i], kernel) {
            (Dim::Known(d), _) if pad_type == PadType::Same => d.checked_mul(strides[i]).map(Dim::Known),
            (Dim::Known(0), _) => {
                return Err(ctx.shape_error(format!("spatial dim {i} of `x` {x} is 0")))
            }
            (Dim::Known(d), Dim::Known(k)) => {
                let full = (d - 1).checked_mul(strides[i]).and_then(|v| v.checked_add(k));
                let (before, after) = pads[i];
                match full {
                    Some(f) if f > before.saturating_add(after) => Some(Dim::Known(f - before - after)),
                    Some(f) => {
                        return Err(ctx.shape_error(format!(
                            "spatial dim {i}: padding {before}+{after} removes the whole output of size {f}"
                        )))
                    }
                    None => None,
                }
            }
            _ => Some(Dim::Unknown),
        }
        .ok_or_else(|| ctx.shape_error("output size overflows"))?;
        shape.push(out);
    }
    Ok(ctx.output(x.dtype, shape))
}
