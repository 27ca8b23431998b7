//! Normalizations (mil-ops §1.9): `layer_norm`, `batch_norm`, `instance_norm`. Their iOS17
//! revisions move `gamma`, `beta`, `epsilon` (and `mean`, `variance`) into their own domain `U`.

use super::domains::{t, u, FLOAT, I32};
use super::same_as_x;
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::shape::{axes_arg, shape_str, shapes_compatible};
use crate::ops::signature::{DTypeDomain, DefaultValue, InputSpec, OpSignature};
use crate::program::Opset;
use crate::types::{Dim, TensorType};

const EPSILON: f64 = 1e-5;

fn affine(p: DTypeDomain) -> [InputSpec; 3] {
    [
        InputSpec::omittable("gamma", p, "scale by ones").constant(),
        InputSpec::omittable("beta", p, "shift by zeros").constant(),
        InputSpec::optional("epsilon", p, DefaultValue::Number(EPSILON))
            .constant()
            .scalar(),
    ]
}

pub(super) fn signatures() -> Vec<OpSignature> {
    let mut sigs = Vec::new();
    for since in [Opset::Ios15, Opset::Ios17] {
        let p = if since == Opset::Ios17 {
            u(FLOAT)
        } else {
            t(FLOAT)
        };
        let mut layer = vec![
            InputSpec::required("x", t(FLOAT)),
            InputSpec::optional("axes", I32, DefaultValue::AllAxes)
                .constant()
                .vector(),
        ];
        layer.extend(affine(p));
        sigs.push(OpSignature::new(
            "layer_norm",
            since,
            layer,
            layer_norm_rule,
        ));

        let mut batch = vec![
            InputSpec::required("x", t(FLOAT)),
            InputSpec::required("mean", p).constant().vector(),
            InputSpec::required("variance", p).constant().vector(),
        ];
        batch.extend(affine(p));
        sigs.push(OpSignature::new(
            "batch_norm",
            since,
            batch,
            batch_norm_rule,
        ));

        let mut instance = vec![InputSpec::required("x", t(FLOAT))];
        instance.extend(affine(p));
        sigs.push(OpSignature::new(
            "instance_norm",
            since,
            instance,
            instance_norm_rule,
        ));
    }
    sigs
}

/// Checks that each present per-channel/affine argument has shape `expected`.
fn check_params(
    ctx: &InferCtx<'_, '_>,
    names: &[&str],
    expected: &[Dim],
    what: &str,
) -> Result<(), InferError> {
    for &name in names {
        if let Some(p) = ctx.opt_tensor(name) {
            if !shapes_compatible(&p.shape, expected) {
                return Err(ctx.shape_error(format!(
                    "`{name}` {p} must have shape {} ({what})",
                    shape_str(expected)
                )));
            }
        }
    }
    Ok(())
}

fn layer_norm_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    let mut axes = axes_arg(ctx, "axes", &ctx.ints("axes")?, x.rank())?;
    axes.sort_unstable();
    let normalized: Vec<Dim> = axes.iter().map(|&a| x.shape[a]).collect();
    check_params(
        ctx,
        &["gamma", "beta"],
        &normalized,
        "the dims of `x` named by `axes`",
    )?;
    same_as_x(ctx)
}

/// Checks the `[n, C, *D]` layout of `x` for `ranks` and returns `[C]`.
fn channels(
    ctx: &InferCtx<'_, '_>,
    ranks: std::ops::RangeInclusive<usize>,
) -> Result<Vec<Dim>, InferError> {
    let x = ctx.tensor("x")?;
    if !ranks.contains(&x.rank()) {
        return Err(ctx.shape_error(format!(
            "`x` must be [n, C, *D] of rank {} to {}, got {x}",
            ranks.start(),
            ranks.end()
        )));
    }
    Ok(vec![x.shape[1]])
}

fn batch_norm_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let c = channels(ctx, 3..=5)?;
    check_params(
        ctx,
        &["mean", "variance", "gamma", "beta"],
        &c,
        "one per channel",
    )?;
    same_as_x(ctx)
}

fn instance_norm_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let c = channels(ctx, 3..=4)?;
    check_params(ctx, &["gamma", "beta"], &c, "one per channel")?;
    same_as_x(ctx)
}
