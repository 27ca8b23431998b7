//! Ops that join, split, repeat or pad tensors (mil-ops §1.11): `concat` (with `interleave`),
//! `split` (several outputs), `tile`, `pad`.

use super::domains::{t, B, FLOAT, FLOAT_INT_BOOL, I32, S};
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::shape::{
    add_dims, axis_arg, dims_compatible, merge_dims, mul_dims, positive_arg, shapes_compatible,
    size_arg,
};
use crate::ops::signature::{DefaultValue, InputSpec, OpSignature, OutputCount};
use crate::program::Opset;
use crate::types::{Dim, TensorType};

/// The most outputs a `split` may have (a guard against absurd literals, far above real use).
pub const MAX_SPLITS: usize = 1 << 16;

/// The `pad` modes.
pub const PAD_MODES: [&str; 3] = ["constant", "reflect", "replicate"];

pub(super) fn signatures() -> Vec<OpSignature> {
    vec![
        OpSignature::new(
            "concat",
            Opset::Ios15,
            vec![
                InputSpec::required("values", t(FLOAT_INT_BOOL)).variadic(),
                InputSpec::required("axis", I32).constant().scalar(),
                InputSpec::optional("interleave", B, DefaultValue::Bool(false))
                    .constant()
                    .scalar(),
            ],
            concat_rule,
        ),
        OpSignature::new(
            "split",
            Opset::Ios15,
            vec![
                InputSpec::required("x", t(FLOAT_INT_BOOL)),
                InputSpec::omittable("num_splits", I32, "split_sizes decides")
                    .constant()
                    .scalar(),
                InputSpec::omittable("split_sizes", I32, "num_splits equal parts")
                    .constant()
                    .vector(),
                InputSpec::required("axis", I32).constant().scalar(),
            ],
            split_rule,
        )
        .with_outputs(OutputCount::FromArguments),
        OpSignature::new(
            "tile",
            Opset::Ios15,
            vec![
                InputSpec::required("x", t(FLOAT_INT_BOOL)),
                InputSpec::required("reps", I32).vector(),
            ],
            tile_rule,
        ),
        OpSignature::new(
            "pad",
            Opset::Ios15,
            vec![
                InputSpec::required("x", t(FLOAT)),
                InputSpec::required("pad", I32).vector(),
                InputSpec::optional("mode", S, DefaultValue::Str("constant"))
                    .constant()
                    .scalar(),
                InputSpec::optional("constant_val", t(FLOAT), DefaultValue::Number(0.0))
                    .constant()
                    .scalar(),
            ],
            pad_rule,
        ),
    ]
}

fn concat_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let values = ctx.tuple("values")?;
    let first = &values
        .first()
        .ok_or_else(|| ctx.value_error("values", "the tuple needs at least one value"))?
        .ty;
    if first.rank() == 0 {
        return Err(ctx.shape_error(format!(
            "cannot concatenate scalars (`values[0]` is {first})"
        )));
    }
    let axis = axis_arg(ctx, "axis", ctx.int("axis")?, first.rank())?;
    let interleave = ctx.bool("interleave")?;
    let mut shape = first.shape.clone();
    for (i, v) in values.iter().enumerate().skip(1) {
        let ty = &v.ty;
        let fits = if interleave {
            shapes_compatible(&ty.shape, &first.shape)
        } else {
            ty.rank() == first.rank()
                && (0..ty.rank()).all(|d| d == axis || dims_compatible(ty.shape[d], first.shape[d]))
        };
        if !fits {
            let rule = if interleave {
                "with interleave = true all values must have the same shape"
            } else {
                "all dims but the axis must match"
            };
            return Err(ctx.shape_error(format!(
                "`values[{i}]` {ty} does not fit `values[0]` {first} on axis {axis}: {rule}"
            )));
        }
        for (d, dim) in shape.iter_mut().enumerate() {
            *dim = if d == axis {
                add_dims(*dim, ty.shape[d]).ok_or_else(|| ctx.shape_error("axis size overflows"))?
            } else {
                merge_dims(*dim, ty.shape[d])
            };
        }
    }
    Ok(ctx.output(first.dtype, shape))
}

fn split_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    if x.rank() == 0 {
        return Err(ctx.shape_error("cannot split a scalar `x`"));
    }
    let axis = axis_arg(ctx, "axis", ctx.int("axis")?, x.rank())?;
    let dim = x.shape[axis];
    let num_splits = if ctx.inputs.contains("num_splits") {
        let n = positive_arg(ctx, "num_splits", ctx.int("num_splits")?)?;
        if n > MAX_SPLITS {
            return Err(ctx.value_error(
                "num_splits",
                format!("{n} parts exceed the supported maximum {MAX_SPLITS}"),
            ));
        }
        Some(n)
    } else {
        None
    };
    let sizes: Vec<Dim> = if ctx.inputs.contains("split_sizes") {
        let sizes: Vec<usize> = ctx
            .ints("split_sizes")?
            .iter()
            .map(|&s| positive_arg(ctx, "split_sizes", s))
            .collect::<Result<_, _>>()?;
        if sizes.is_empty() {
            return Err(ctx.value_error("split_sizes", "needs at least one size"));
        }
        if let Some(n) = num_splits {
            if n != sizes.len() {
                return Err(ctx.value_error(
                    "split_sizes",
                    format!("{} sizes disagree with num_splits = {n}", sizes.len()),
                ));
            }
        }
        let total = sizes.iter().try_fold(0usize, |a, &s| a.checked_add(s));
        if let Dim::Known(d) = dim {
            if total != Some(d) {
                return Err(ctx.shape_error(format!(
                    "split_sizes {sizes:?} must sum to dim {axis} of `x` {x} ({d})"
                )));
            }
        }
        sizes.into_iter().map(Dim::Known).collect()
    } else if let Some(n) = num_splits {
        match dim {
            Dim::Known(d) if d % n != 0 => {
                return Err(ctx.shape_error(format!(
                    "dim {axis} of `x` {x} ({d}) does not divide into num_splits = {n} equal parts"
                )))
            }
            Dim::Known(d) => vec![Dim::Known(d / n); n],
            Dim::Unknown => vec![Dim::Unknown; n],
        }
    } else {
        return Err(ctx.shape_error("one of `num_splits` or `split_sizes` is required"));
    };
    Ok(sizes
        .into_iter()
        .map(|s| {
            let mut shape = x.shape.clone();
            shape[axis] = s;
            TensorType {
                dtype: x.dtype,
                shape,
            }
        })
        .collect())
}

fn tile_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    let reps_ty = ctx.tensor("reps")?;
    if !dims_compatible(reps_ty.shape[0], Dim::Known(x.rank())) {
        return Err(ctx.shape_error(format!(
            "`reps` {reps_ty} must have one entry per dim of `x` {x}"
        )));
    }
    let Some(reps) = ctx.opt_ints("reps")? else {
        return Ok(ctx.output(x.dtype, vec![Dim::Unknown; x.rank()]));
    };
    let shape = x
        .shape
        .iter()
        .zip(&reps)
        .map(|(&d, &r)| {
            let r = positive_arg(ctx, "reps", r)?;
            mul_dims(d, Dim::Known(r)).ok_or_else(|| ctx.shape_error("output size overflows"))
        })
        .collect::<Result<_, _>>()?;
    Ok(ctx.output(x.dtype, shape))
}

fn pad_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    let pad_ty = ctx.tensor("pad")?;
    let mode = ctx.string("mode")?;
    if !PAD_MODES.contains(&mode.as_str()) {
        return Err(ctx.value_error(
            "mode",
            format!("unknown mode \"{mode}\" (expected one of {PAD_MODES:?})"),
        ));
    }
    let len = match pad_ty.shape[0] {
        Dim::Known(n) if n % 2 == 0 && n / 2 <= x.rank() => n,
        _ => {
            return Err(ctx.shape_error(format!(
                "`pad` {pad_ty} must hold a (before, after) pair for each of the last N ≤ {} dims of `x` {x}",
                x.rank()
            )))
        }
    };
    let padded = len / 2;
    let first = x.rank() - padded;
    let Some(pads) = ctx.opt_ints("pad")? else {
        // A runtime pad must cover every dim (mil-ops §1.11).
        if padded != x.rank() {
            return Err(ctx.shape_error(format!(
                "a runtime `pad` {pad_ty} must cover every dim of `x` {x}"
            )));
        }
        return Ok(ctx.output(x.dtype, vec![Dim::Unknown; x.rank()]));
    };
    let mut shape = x.shape.clone();
    for i in 0..padded {
        let (before, after) = (
            size_arg(ctx, "pad", pads[2 * i])?,
            size_arg(ctx, "pad", pads[2 * i + 1])?,
        );
        let d = first + i;
        if let Dim::Known(n) = x.shape[d] {
            let limit = match mode.as_str() {
                "reflect" => Some(n.saturating_sub(1)),
                "replicate" => Some(n),
                _ => None,
            };
            if let Some(limit) = limit {
                if before > limit || after > limit {
                    return Err(ctx.value_error(
                        "pad",
                        format!("{mode} padding ({before}, {after}) of dim {d} exceeds {limit} for `x` {x}"),
                    ));
                }
            }
        }
        shape[d] = add_dims(x.shape[d], Dim::Known(before))
            .and_then(|v| add_dims(v, Dim::Known(after)))
            .ok_or_else(|| ctx.shape_error("output size overflows"))?;
    }
    Ok(ctx.output(x.dtype, shape))
}
