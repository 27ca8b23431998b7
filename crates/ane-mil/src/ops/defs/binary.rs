//! Elementwise binary ops (mil-ops §1.5–1.6): arithmetic `add`, `sub`, `mul`, `real_div`, `pow`,
//! `maximum`, `minimum` (output dtype of the inputs) and comparisons `equal` … `less_equal`
//! (output `bool`). Both inputs share domain `T` and broadcast numpy-style.

use super::domains::{t, FLOAT_INT};
use crate::dtype::DType;
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::shape::broadcast_args;
use crate::ops::signature::{InputSpec, OpSignature};
use crate::program::Opset;
use crate::types::TensorType;

/// The arithmetic ops.
pub const ARITHMETIC: [&str; 7] = ["add", "sub", "mul", "real_div", "pow", "maximum", "minimum"];
/// The comparison ops.
pub const COMPARISONS: [&str; 6] = [
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
];

fn inputs() -> Vec<InputSpec> {
    vec![
        InputSpec::required("x", t(FLOAT_INT)),
        InputSpec::required("y", t(FLOAT_INT)),
    ]
}

pub(super) fn signatures() -> Vec<OpSignature> {
    let arith = ARITHMETIC
        .iter()
        .map(|op| OpSignature::new(op, Opset::Ios15, inputs(), arithmetic_rule));
    let cmp = COMPARISONS
        .iter()
        .map(|op| OpSignature::new(op, Opset::Ios15, inputs(), comparison_rule));
    arith.chain(cmp).collect()
}

fn broadcast(ctx: &InferCtx<'_, '_>, dtype: Option<DType>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    let y = ctx.tensor("y")?;
    let shape = broadcast_args(ctx, ("x", x), ("y", y))?;
    Ok(ctx.output(dtype.unwrap_or(x.dtype), shape))
}

fn arithmetic_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    broadcast(ctx, None)
}

fn comparison_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    broadcast(ctx, Some(DType::Bool))
}
