//! Reductions (mil-ops §1.10): `reduce_sum`, `reduce_mean`, `reduce_max`, `reduce_min`,
//! `reduce_l2_norm` over `axes`, and `reduce_argmax` over one `axis` (iOS17 adds `output_dtype`).

use super::domains::{t, B, FLOAT_INT, I32, S};
use crate::dtype::DType;
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::shape::{axes_arg, axis_arg};
use crate::ops::signature::{DefaultValue, InputSpec, OpSignature};
use crate::program::Opset;
use crate::types::{Dim, TensorType};

/// The reductions over a list of axes.
pub const OVER_AXES: [&str; 5] = [
    "reduce_sum",
    "reduce_mean",
    "reduce_max",
    "reduce_min",
    "reduce_l2_norm",
];

fn keep_dims() -> InputSpec {
    InputSpec::optional("keep_dims", B, DefaultValue::Bool(false))
        .constant()
        .scalar()
}

pub(super) fn signatures() -> Vec<OpSignature> {
    let mut sigs: Vec<OpSignature> = OVER_AXES
        .iter()
        .map(|op| {
            OpSignature::new(
                op,
                Opset::Ios15,
                vec![
                    InputSpec::required("x", t(FLOAT_INT)),
                    // coremltools leaves `axes` out to mean "every dim"; emitting all axes
                    // explicitly means the same and follows the emit-everything rule.
                    InputSpec::optional("axes", I32, DefaultValue::AllAxes)
                        .constant()
                        .vector(),
                    keep_dims(),
                ],
                reduce_rule,
            )
        })
        .collect();
    let argmax = |since, extra: Option<InputSpec>| {
        let mut inputs = vec![
            InputSpec::required("x", t(FLOAT_INT)),
            InputSpec::optional("axis", I32, DefaultValue::Int(-1))
                .constant()
                .scalar(),
            keep_dims(),
        ];
        inputs.extend(extra);
        OpSignature::new("reduce_argmax", since, inputs, argmax_rule)
    };
    sigs.push(argmax(Opset::Ios15, None));
    sigs.push(argmax(
        Opset::Ios17,
        Some(
            InputSpec::optional("output_dtype", S, DefaultValue::Str("int32"))
                .constant()
                .scalar(),
        ),
    ));
    sigs
}

/// `x`'s shape with `axes` set to 1 (`keep_dims`) or removed.
fn reduced_shape(x: &TensorType, axes: &[usize], keep_dims: bool) -> Vec<Dim> {
    x.shape
        .iter()
        .enumerate()
        .filter_map(|(i, &d)| match (axes.contains(&i), keep_dims) {
            (false, _) => Some(d),
            (true, true) => Some(Dim::Known(1)),
            (true, false) => None,
        })
        .collect()
}

fn reduce_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    let axes = axes_arg(ctx, "axes", &ctx.ints("axes")?, x.rank())?;
    let keep = ctx.bool("keep_dims")?;
    Ok(ctx.output(x.dtype, reduced_shape(x, &axes, keep)))
}

fn argmax_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    if x.rank() == 0 {
        return Err(ctx.shape_error(format!("`x` must have rank ≥ 1, got {x}")));
    }
    let axis = axis_arg(ctx, "axis", ctx.int("axis")?, x.rank())?;
    let keep = ctx.bool("keep_dims")?;
    let dtype = if ctx.sig.input("output_dtype").is_some() {
        match ctx.string("output_dtype")?.as_str() {
            "int32" => DType::Int32,
            "uint16" => DType::Uint16,
            other => {
                return Err(ctx.value_error(
                    "output_dtype",
                    format!("expected \"int32\" or \"uint16\", got \"{other}\""),
                ))
            }
        }
    } else {
        DType::Int32
    };
    Ok(ctx.output(dtype, reduced_shape(x, &[axis], keep)))
}
