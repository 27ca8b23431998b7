//! `matmul` and `linear` (mil-ops §1.4), both with an iOS17 revision whose second operand has its
//! own dtype domain.

use super::domains::{t, u, B, FLOAT_INT};
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::resolved::Constness;
use crate::ops::shape::{broadcast_shapes, dims_compatible, shape_str};
use crate::ops::signature::{DefaultValue, InputSpec, OpSignature};
use crate::program::Opset;
use crate::types::{Dim, TensorType};

pub(super) fn signatures() -> Vec<OpSignature> {
    let mut sigs = Vec::new();
    for (since, second) in [(Opset::Ios15, t(FLOAT_INT)), (Opset::Ios17, u(FLOAT_INT))] {
        sigs.push(OpSignature::new(
            "matmul",
            since,
            vec![
                InputSpec::required("x", t(FLOAT_INT)),
                InputSpec::required("y", second),
                InputSpec::optional("transpose_x", B, DefaultValue::Bool(false))
                    .constant()
                    .scalar(),
                InputSpec::optional("transpose_y", B, DefaultValue::Bool(false))
                    .constant()
                    .scalar(),
            ],
            matmul_rule,
        ));
        sigs.push(OpSignature::new(
            "linear",
            since,
            vec![
                InputSpec::required("x", t(FLOAT_INT)),
                InputSpec::required("weight", second).constant(),
                InputSpec::optional(
                    "bias",
                    second,
                    DefaultValue::ZerosLikeDim {
                        input: "weight",
                        dim: 0,
                    },
                )
                .constant()
                .vector(),
            ],
            linear_rule,
        ));
    }
    sigs
}

fn matmul_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let (x, y) = (ctx.tensor("x")?, ctx.tensor("y")?);
    let (tx, ty) = (ctx.bool("transpose_x")?, ctx.bool("transpose_y")?);
    for (name, t, flag) in [("x", x, tx), ("y", y, ty)] {
        if t.rank() == 0 {
            return Err(ctx.shape_error(format!("`{name}` must have rank ≥ 1, got {t}")));
        }
        if flag && t.rank() == 1 {
            return Err(ctx.value_error(
                &format!("transpose_{name}"),
                format!("cannot transpose the rank-1 `{name}` {t}"),
            ));
        }
    }
    let dtype = if x.dtype == y.dtype {
        x.dtype
    } else {
        // iOS17: dtypes may differ only when exactly one operand is a `const` (mil-ops §1.4);
        // the output takes the dtype of the other one.
        let is_const = |n| ctx.arg(n).is_some_and(|a| a.constness == Constness::Const);
        match (is_const("x"), is_const("y")) {
            (true, false) => y.dtype,
            (false, true) => x.dtype,
            _ => {
                return Err(ctx.shape_error(format!(
                    "`x` ({}) and `y` ({}) may differ in dtype only when exactly one of them is a const",
                    x.dtype, y.dtype
                )))
            }
        }
    };
    let mut xs = x.shape.clone();
    let mut ys = y.shape.clone();
    let x_vector = xs.len() == 1;
    let y_vector = ys.len() == 1;
    if x_vector {
        xs.insert(0, Dim::Known(1));
    }
    if y_vector {
        ys.push(Dim::Known(1));
    }
    if tx {
        let n = xs.len();
        xs.swap(n - 1, n - 2);
    }
    if ty {
        let n = ys.len();
        ys.swap(n - 1, n - 2);
    }
    let (xr, yr) = (xs.len(), ys.len());
    if !dims_compatible(xs[xr - 1], ys[yr - 2]) {
        return Err(ctx.shape_error(format!(
            "inner dims differ: `x` {x} gives {} (transpose_x = {tx}) but `y` {y} gives {} (transpose_y = {ty})",
            xs[xr - 1],
            ys[yr - 2]
        )));
    }
    let mut shape = broadcast_shapes(&xs[..xr - 2], &ys[..yr - 2]).map_err(|_| {
        ctx.shape_error(format!(
            "batch dims of `x` {} and `y` {} do not broadcast",
            shape_str(&xs[..xr - 2]),
            shape_str(&ys[..yr - 2])
        ))
    })?;
    if !x_vector {
        shape.push(xs[xr - 2]);
    }
    if !y_vector {
        shape.push(ys[yr - 1]);
    }
    Ok(ctx.output(dtype, shape))
}

fn linear_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let (x, w) = (ctx.tensor("x")?, ctx.tensor("weight")?);
    if x.rank() == 0 {
        return Err(ctx.shape_error(format!("`x` must have rank ≥ 1, got {x}")));
    }
    if w.rank() != 2 {
        return Err(ctx.shape_error(format!("`weight` must be [D_out, D_in], got {w}")));
    }
    let d_in = x.shape[x.rank() - 1];
    if !dims_compatible(d_in, w.shape[1]) {
        return Err(ctx.shape_error(format!(
            "last dim of `x` {x} must equal dim 1 of `weight` {w}"
        )));
    }
    if let Some(bias) = ctx.opt_tensor("bias") {
        if !dims_compatible(bias.shape[0], w.shape[0]) {
            return Err(ctx.shape_error(format!(
                "`bias` {bias} must have D_out = {} elements (dim 0 of `weight` {w})",
                w.shape[0]
            )));
        }
    }
    let mut shape = x.shape.clone();
    shape.pop();
    shape.push(w.shape[0]);
    Ok(ctx.output(x.dtype, shape))
}
