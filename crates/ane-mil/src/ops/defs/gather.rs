//! Indexing ops (mil-ops §1.13): `gather` and `gather_along_axis` (revisions in iOS16 and iOS17),
//! `scatter_along_axis` (iOS17 adds `validate_indices`) and `one_hot`.

use super::domains::{
    t, B, FLOAT_INT, FLOAT_INT_BOOL, GATHER_DATA_IOS17, GATHER_INDICES_IOS16, GATHER_INDICES_IOS17,
    I32, INT32, S,
};
use crate::dtype::DType;
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::shape::{axis_arg, dims_compatible, normalize_axis, shapes_compatible, size_arg};
use crate::ops::signature::{DTypeDomain, DefaultValue, InputSpec, OpSignature};
use crate::program::Opset;
use crate::types::{Dim, TensorType};

/// The `scatter_along_axis` modes.
pub const SCATTER_MODES: [&str; 7] = ["update", "add", "sub", "mul", "div", "max", "min"];

fn int_default(name: &'static str, v: i32) -> InputSpec {
    InputSpec::optional(name, I32, DefaultValue::Int(v))
        .constant()
        .scalar()
}

fn validate_indices() -> InputSpec {
    InputSpec::optional("validate_indices", B, DefaultValue::Bool(false))
        .constant()
        .scalar()
}

pub(super) fn signatures() -> Vec<OpSignature> {
    let mut sigs = Vec::new();
    let revisions: [(Opset, &'static [DType], &'static [DType]); 3] = [
        (Opset::Ios15, FLOAT_INT, INT32),
        (Opset::Ios16, FLOAT_INT, GATHER_INDICES_IOS16),
        (Opset::Ios17, GATHER_DATA_IOS17, GATHER_INDICES_IOS17),
    ];
    for (since, data, indices) in revisions {
        let x = InputSpec::required("x", t(data));
        let idx = InputSpec::required("indices", DTypeDomain::shared("I", indices));
        let mut gather = vec![x, idx, int_default("axis", 0)];
        let mut along = vec![x, idx, int_default("axis", 0)];
        if since >= Opset::Ios16 {
            gather.push(int_default("batch_dims", 0));
        }
        if since >= Opset::Ios17 {
            gather.push(validate_indices());
            along.push(validate_indices());
        }
        sigs.push(OpSignature::new("gather", since, gather, gather_rule));
        sigs.push(OpSignature::new(
            "gather_along_axis",
            since,
            along,
            gather_along_axis_rule,
        ));
    }
    for since in [Opset::Ios15, Opset::Ios17] {
        let mut scatter = vec![
            InputSpec::required("data", t(FLOAT_INT)),
            InputSpec::required("indices", I32),
            InputSpec::required("updates", t(FLOAT_INT)),
            int_default("axis", 0),
            InputSpec::optional("mode", S, DefaultValue::Str("add"))
                .constant()
                .scalar(),
        ];
        if since >= Opset::Ios17 {
            scatter.push(validate_indices());
        }
        sigs.push(OpSignature::new(
            "scatter_along_axis",
            since,
            scatter,
            scatter_along_axis_rule,
        ));
    }
    sigs.push(OpSignature::new(
        "one_hot",
        Opset::Ios15,
        vec![
            InputSpec::required("indices", I32),
            InputSpec::required("one_hot_vector_size", I32).scalar(),
            int_default("axis", -1),
            InputSpec::optional("on_value", t(FLOAT_INT_BOOL), DefaultValue::Number(1.0))
                .constant()
                .scalar(),
            InputSpec::optional("off_value", t(FLOAT_INT_BOOL), DefaultValue::Number(0.0))
                .constant()
                .scalar(),
        ],
        one_hot_rule,
    ));
    sigs
}

fn gather_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let (x, indices) = (ctx.tensor("x")?, ctx.tensor("indices")?);
    if x.rank() == 0 {
        return Err(ctx.shape_error("cannot gather from a scalar `x`"));
    }
    let axis = axis_arg(ctx, "axis", ctx.int("axis")?, x.rank())?;
    let batch_dims = if ctx.sig.input("batch_dims").is_some() {
        size_arg(ctx, "batch_dims", ctx.int("batch_dims")?)?
    } else {
        0
    };
    if batch_dims > 0 {
        if batch_dims >= x.rank() || batch_dims > indices.rank() || axis < batch_dims {
            return Err(ctx.value_error(
                "batch_dims",
                format!(
                    "batch_dims = {batch_dims} must be < rank of `x` {x}, ≤ rank of `indices` {indices} and ≤ axis {axis}"
                ),
            ));
        }
        if !shapes_compatible(&x.shape[..batch_dims], &indices.shape[..batch_dims]) {
            return Err(ctx.shape_error(format!(
                "the first {batch_dims} dims of `x` {x} and `indices` {indices} must match"
            )));
        }
    }
    let mut shape = x.shape[..axis].to_vec();
    shape.extend_from_slice(&indices.shape[batch_dims..]);
    shape.extend_from_slice(&x.shape[axis + 1..]);
    Ok(ctx.output(x.dtype, shape))
}

/// Checks that `other` has `x`'s rank and matches it on every dim but `axis`.
fn check_along_axis(
    ctx: &InferCtx<'_, '_>,
    (xn, x): (&str, &TensorType),
    (on, other): (&str, &TensorType),
    axis: usize,
) -> Result<(), InferError> {
    let fits = other.rank() == x.rank()
        && (0..x.rank()).all(|d| d == axis || dims_compatible(x.shape[d], other.shape[d]));
    if fits {
        Ok(())
    } else {
        Err(ctx.shape_error(format!(
            "`{on}` {other} must have the rank of `{xn}` {x} and match it on every dim but axis {axis}"
        )))
    }
}

fn gather_along_axis_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let (x, indices) = (ctx.tensor("x")?, ctx.tensor("indices")?);
    let axis = axis_arg(ctx, "axis", ctx.int("axis")?, x.rank())?;
    check_along_axis(ctx, ("x", x), ("indices", indices), axis)?;
    Ok(ctx.output(x.dtype, indices.shape.clone()))
}

fn scatter_along_axis_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let (data, indices, updates) = (
        ctx.tensor("data")?,
        ctx.tensor("indices")?,
        ctx.tensor("updates")?,
    );
    let axis = axis_arg(ctx, "axis", ctx.int("axis")?, data.rank())?;
    check_along_axis(ctx, ("data", data), ("indices", indices), axis)?;
    if !shapes_compatible(&updates.shape, &indices.shape) {
        return Err(ctx.shape_error(format!(
            "`updates` {updates} must have the shape of `indices` {indices}"
        )));
    }
    let mode = ctx.string("mode")?;
    if !SCATTER_MODES.contains(&mode.as_str()) {
        return Err(ctx.value_error(
            "mode",
            format!("unknown mode \"{mode}\" (expected one of {SCATTER_MODES:?})"),
        ));
    }
    Ok(vec![data.clone()])
}

fn one_hot_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let indices = ctx.tensor("indices")?;
    let out_rank = indices.rank() + 1;
    let axis = ctx.int("axis")?;
    let axis = normalize_axis(axis, out_rank).ok_or_else(|| {
        ctx.value_error(
            "axis",
            format!(
                "axis {axis} is out of range for `indices` {indices} (valid: -{out_rank}..{})",
                out_rank - 1
            ),
        )
    })?;
    let depth = match ctx.opt_ints("one_hot_vector_size")? {
        Some(v) => Dim::Known(size_arg(
            ctx,
            "one_hot_vector_size",
            v.first().copied().unwrap_or(0),
        )?),
        None => Dim::Unknown,
    };
    let mut shape = indices.shape.clone();
    shape.insert(axis, depth);
    // The output dtype is the values' domain: int32 unless on/off values say otherwise.
    let dtype = match ctx.opt_tensor("on_value") {
        Some(on) => on.dtype,
        None => ctx.value("on_value").map_or(DType::Int32, |v| v.ty.dtype),
    };
    Ok(ctx.output(dtype, shape))
}
