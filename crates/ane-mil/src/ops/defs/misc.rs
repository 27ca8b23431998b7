//! `const` (its value is an attribute operand), `select`, `band_part` and `cumsum`
//! (mil-ops §1.1, §1.13).

use super::domains::{t, ANY, B, BOOL, FLOAT_INT, FLOAT_INT_BOOL, I32};
use super::same_as_x;
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::shape::{broadcast_args, broadcast_shapes, shape_str, shapes_compatible};
use crate::ops::signature::{DTypeDomain, DefaultValue, InputSpec, OpSignature, OperandForm};
use crate::program::Opset;
use crate::types::TensorType;

pub(super) fn signatures() -> Vec<OpSignature> {
    let int_default = |name, v| {
        InputSpec::optional(name, I32, DefaultValue::Int(v))
            .constant()
            .scalar()
    };
    let bool_default = |name| {
        InputSpec::optional(name, B, DefaultValue::Bool(false))
            .constant()
            .scalar()
    };
    vec![
        OpSignature::new(
            "const",
            Opset::Ios15,
            vec![InputSpec::required("val", DTypeDomain::any_of(ANY)).constant()],
            const_rule,
        )
        .with_operand_form(OperandForm::Attributes),
        OpSignature::new(
            "select",
            Opset::Ios15,
            vec![
                InputSpec::required("cond", DTypeDomain::any_of(BOOL)),
                InputSpec::required("a", t(FLOAT_INT_BOOL)),
                InputSpec::required("b", t(FLOAT_INT_BOOL)),
            ],
            select_rule,
        ),
        OpSignature::new(
            "band_part",
            Opset::Ios15,
            vec![
                InputSpec::required("x", t(FLOAT_INT_BOOL)),
                int_default("lower", -1),
                int_default("upper", -1),
            ],
            band_part_rule,
        ),
        OpSignature::new(
            "cumsum",
            Opset::Ios15,
            vec![
                InputSpec::required("x", t(FLOAT_INT)),
                int_default("axis", 0),
                bool_default("exclusive"),
                bool_default("reverse"),
            ],
            cumsum_rule,
        ),
    ]
}

fn const_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    Ok(vec![ctx.tensor("val")?.clone()])
}

fn select_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let (cond, a, b) = (ctx.tensor("cond")?, ctx.tensor("a")?, ctx.tensor("b")?);
    let shape = broadcast_args(ctx, ("a", a), ("b", b))?;
    // coremltools' result is the a/b broadcast; `cond` must broadcast into it without growing it,
    // so the numpy reading (all three broadcast together) gives the same shape.
    let fits =
        broadcast_shapes(&cond.shape, &shape).is_ok_and(|full| shapes_compatible(&full, &shape));
    if !fits {
        return Err(ctx.shape_error(format!(
            "`cond` {cond} must broadcast to the shape {} of `a` {a} and `b` {b}",
            shape_str(&shape)
        )));
    }
    Ok(ctx.output(a.dtype, shape))
}

fn band_part_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    if x.rank() < 2 {
        return Err(ctx.shape_error(format!(
            "`x` must have rank ≥ 2 (band_part acts on the last two dims), got {x}"
        )));
    }
    ctx.int("lower")?;
    ctx.int("upper")?;
    same_as_x(ctx)
}

fn cumsum_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    let axis = ctx.int("axis")?;
    // coremltools accepts -1 or 0..rank-1 only (mil-ops §1.13).
    let rank = x.rank() as i64;
    if !(axis == -1 && rank > 0 || (0..rank).contains(&axis)) {
        return Err(ctx.value_error(
            "axis",
            format!("axis {axis} is invalid for `x` {x} (cumsum accepts -1 or 0..{rank})"),
        ));
    }
    ctx.bool("exclusive")?;
    ctx.bool("reverse")?;
    same_as_x(ctx)
}
