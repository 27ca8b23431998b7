//! Elementwise unary math (mil-ops §1.8): `exp`, `sqrt`, `abs`, `square`, `log`, `rsqrt`,
//! `inverse` (the last three with an `epsilon`, in `x`'s domain up to iOS16 and in their own domain
//! `U` from iOS17), `clip`, `cast`, plus `identity` and `logical_not`.

use super::domains::{t, u, BOOL, FLOAT, FLOAT_INT, FLOAT_INT_BOOL, NON_STRING, S, WIDE};
use super::same_as_x;
use crate::dtype::DType;
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::signature::{DTypeDomain, DefaultValue, InputSpec, OpSignature};
use crate::program::Opset;
use crate::types::TensorType;

/// Ops with an `epsilon` and its default (mil-ops §1.8).
pub const WITH_EPSILON: [(&str, f64); 3] = [("log", 1e-45), ("rsqrt", 1e-12), ("inverse", 1e-4)];

pub(super) fn signatures() -> Vec<OpSignature> {
    let x_only = |op: &'static str, allowed| {
        OpSignature::new(
            op,
            Opset::Ios15,
            vec![InputSpec::required("x", t(allowed))],
            same_as_x,
        )
    };
    let mut sigs = vec![
        x_only("exp", FLOAT),
        x_only("sqrt", FLOAT),
        x_only("abs", FLOAT_INT),
        x_only("square", FLOAT_INT),
        x_only("identity", NON_STRING),
        x_only("logical_not", BOOL),
    ];
    for (op, eps) in WITH_EPSILON {
        for (since, eps_domain) in [(Opset::Ios15, t(FLOAT)), (Opset::Ios17, u(FLOAT))] {
            sigs.push(OpSignature::new(
                op,
                since,
                vec![
                    InputSpec::required("x", t(FLOAT)),
                    InputSpec::optional("epsilon", eps_domain, DefaultValue::Number(eps))
                        .constant()
                        .scalar(),
                ],
                same_as_x,
            ));
        }
    }
    for since in [Opset::Ios15, Opset::Ios17] {
        sigs.push(OpSignature::new(
            "clip",
            since,
            vec![
                InputSpec::required("x", t(FLOAT)),
                InputSpec::required("alpha", t(FLOAT)).constant().scalar(),
                InputSpec::required("beta", t(FLOAT)).constant().scalar(),
            ],
            clip_rule,
        ));
    }
    for (since, allowed) in [(Opset::Ios15, FLOAT_INT_BOOL), (Opset::Ios17, WIDE)] {
        sigs.push(OpSignature::new(
            "cast",
            since,
            vec![
                InputSpec::required("x", DTypeDomain::shared("T", allowed)),
                InputSpec::required("dtype", S).constant().scalar(),
            ],
            cast_rule,
        ));
    }
    sigs
}

fn clip_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    // The iOS17 revision checks alpha < beta (mil-ops §1.8).
    if ctx.opset >= Opset::Ios17 {
        if let (Some(alpha), Some(beta)) = (ctx.opt_floats("alpha"), ctx.opt_floats("beta")) {
            if let (Some(a), Some(b)) = (alpha.first(), beta.first()) {
                if a >= b {
                    return Err(ctx.value_error(
                        "alpha",
                        format!("alpha ({a}) must be smaller than beta ({b}) from iOS17"),
                    ));
                }
            }
        }
    }
    same_as_x(ctx)
}

/// The target dtypes `cast` accepts in `opset`.
pub fn cast_targets(opset: Opset) -> &'static [DType] {
    if opset >= Opset::Ios17 {
        WIDE
    } else {
        FLOAT_INT_BOOL
    }
}

fn cast_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    let name = ctx.string("dtype")?;
    let targets = cast_targets(ctx.opset);
    let dtype = DType::from_name(&name)
        .filter(|d| targets.contains(d))
        .ok_or_else(|| {
            let names: Vec<&str> = targets.iter().map(|d| d.name()).collect();
            ctx.value_error(
                "dtype",
                format!(
                    "cannot cast to \"{name}\" in {} (expected one of {names:?})",
                    ctx.opset
                ),
            )
        })?;
    Ok(ctx.output(dtype, x.shape.clone()))
}
