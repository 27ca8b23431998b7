//! Activations (mil-ops §1.7): `relu`, `sigmoid`, `silu`, `tanh`, `gelu` (with `mode`) and
//! `softmax` (with `axis`). All keep `x`'s type; `x` is fp16 or fp32.

use super::domains::{t, FLOAT, I32, S};
use super::same_as_x;
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::shape::axis_arg;
use crate::ops::signature::{DefaultValue, InputSpec, OpSignature};
use crate::program::Opset;
use crate::types::TensorType;

/// The activations with only an `x` input.
pub const PLAIN: [&str; 4] = ["relu", "sigmoid", "silu", "tanh"];

/// The `gelu` modes.
pub const GELU_MODES: [&str; 3] = ["EXACT", "TANH_APPROXIMATION", "SIGMOID_APPROXIMATION"];

pub(super) fn signatures() -> Vec<OpSignature> {
    let mut sigs: Vec<OpSignature> = PLAIN
        .iter()
        .map(|op| {
            OpSignature::new(
                op,
                Opset::Ios15,
                vec![InputSpec::required("x", t(FLOAT))],
                same_as_x,
            )
        })
        .collect();
    sigs.push(OpSignature::new(
        "gelu",
        Opset::Ios15,
        vec![
            InputSpec::required("x", t(FLOAT)),
            InputSpec::optional("mode", S, DefaultValue::Str("EXACT"))
                .constant()
                .scalar(),
        ],
        gelu_rule,
    ));
    sigs.push(OpSignature::new(
        "softmax",
        Opset::Ios15,
        vec![
            InputSpec::required("x", t(FLOAT)),
            InputSpec::optional("axis", I32, DefaultValue::Int(-1))
                .constant()
                .scalar(),
        ],
        softmax_rule,
    ));
    sigs
}

fn gelu_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let mode = ctx.string("mode")?;
    if !GELU_MODES.contains(&mode.as_str()) {
        return Err(ctx.value_error(
            "mode",
            format!("unknown gelu mode \"{mode}\" (expected one of {GELU_MODES:?})"),
        ));
    }
    same_as_x(ctx)
}

fn softmax_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    axis_arg(ctx, "axis", ctx.int("axis")?, x.rank())?;
    same_as_x(ctx)
}
