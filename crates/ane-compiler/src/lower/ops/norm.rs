//! Softmax, LayerNorm and RMSNorm and the norms' backward ops, decomposed into MIL the ANE runs:
//! means are `reduce_sum × 1/N` (no `reduce_mean` in the ANE's MIL) and reciprocal square roots
//! are `pow(v + eps, −0.5)` (`rsqrt` after a reduction is reported failing). Statistics are
//! recomputed in the backward ops from `x` (the IR passes no saved statistics).
//!
//! Softmax is MIL `softmax` unless the limits ask to avoid it off power-of-two sizes; then it is
//! `exp(x − max) / Σ exp(x − max)`.

use super::NodeArgs;
use crate::lower::context::LowerCx;
use crate::lower::error::LowerError;
use crate::op::Op;
use ane_mil::builder::Var;

pub(super) fn lower(cx: &mut LowerCx, n: &NodeArgs) -> Result<Var, LowerError> {
    let x = n.arg(0);
    let y = match n.op {
        Op::Softmax { axis } => softmax(cx, x, *axis, n.dims(0)[*axis])?,
        Op::LayerNorm { eps } => {
            let (xhat, _) = layer_norm_stats(cx, x, *eps)?;
            let scaled = cx.mul(&xhat, n.arg(1))?;
            cx.add(&scaled, n.arg(2))?
        }
        Op::LayerNormBackwardInput { eps } => {
            // r·(g − mean(g) − x̂·mean(g·x̂)), g = dy·γ
            let (xhat, r) = layer_norm_stats(cx, x, *eps)?;
            let g = cx.mul(n.arg(2), n.arg(1))?;
            let mean_g = cx.mean_last_keep(&g)?;
            let gx = cx.mul(&g, &xhat)?;
            let mean_gx = cx.mean_last_keep(&gx)?;
            let centered = cx.sub(&g, &mean_g)?;
            let correction = cx.mul(&xhat, &mean_gx)?;
            let inner = cx.sub(&centered, &correction)?;
            cx.mul(&r, &inner)?
        }
        Op::LayerNormBackwardWeight { eps } => {
            let (xhat, _) = layer_norm_stats(cx, x, *eps)?;
            let prod = cx.mul(n.arg(1), &xhat)?;
            sum_leading(cx, &prod)?
        }
        Op::RmsNorm { eps } => {
            let r = rms_scale(cx, x, *eps)?;
            let xr = cx.mul(x, &r)?;
            cx.mul(&xr, n.arg(1))?
        }
        Op::RmsNormBackwardInput { eps } => {
            // r·(g − x̂·mean(g·x̂)), g = dy·w, x̂ = x·r: equal to r·g − x·r³·mean(g·x), but r³
            // overflows fp16 (> 65504) once mean(x²) + eps < ~6e-4, e.g. small embeddings.
            let r = rms_scale(cx, x, *eps)?;
            let xhat = cx.mul(x, &r)?;
            let g = cx.mul(n.arg(2), n.arg(1))?;
            let gx = cx.mul(&g, &xhat)?;
            let mean_gx = cx.mean_last_keep(&gx)?;
            let correction = cx.mul(&xhat, &mean_gx)?;
            let inner = cx.sub(&g, &correction)?;
            cx.mul(&r, &inner)?
        }
        Op::RmsNormBackwardWeight { eps } => {
            let r = rms_scale(cx, x, *eps)?;
            let xr = cx.mul(x, &r)?;
            let prod = cx.mul(n.arg(1), &xr)?;
            sum_leading(cx, &prod)?
        }
        _ => unreachable!("norm::lower called for {}", n.op.name()),
    };
    cx.fit(&y, n.out)
}

fn softmax(cx: &mut LowerCx, x: &Var, axis: usize, size: usize) -> Result<Var, LowerError> {
    if !cx.opts.limits.softmax_power_of_two_only || size.is_power_of_two() {
        let r = cx.f.softmax(x, axis as i32);
        return cx.ok(r);
    }
    let r = cx.f.reduce_max(x, &[axis as i32], true);
    let max = cx.ok(r)?;
    let shifted = cx.sub(x, &max)?;
    let e = cx.exp(&shifted)?;
    let total = cx.sum_keep(&e, &[axis])?;
    cx.div(&e, &total)
}

/// `(x̂, r)`: the normalised input and `1/√(var + eps)` (kept last axis).
fn layer_norm_stats(cx: &mut LowerCx, x: &Var, eps: f32) -> Result<(Var, Var), LowerError> {
    let mean = cx.mean_last_keep(x)?;
    let centered = cx.sub(x, &mean)?;
    let sq = cx.mul(&centered, &centered)?;
    let var = cx.mean_last_keep(&sq)?;
    let shifted = cx.add_const(&var, eps as f64)?;
    let r = cx.pow_const(&shifted, -0.5)?;
    let xhat = cx.mul(&centered, &r)?;
    Ok((xhat, r))
}

/// `1/√(mean(x²) + eps)` (kept last axis).
fn rms_scale(cx: &mut LowerCx, x: &Var, eps: f32) -> Result<Var, LowerError> {
    let sq = cx.mul(x, x)?;
    let ms = cx.mean_last_keep(&sq)?;
    let shifted = cx.add_const(&ms, eps as f64)?;
    cx.pow_const(&shifted, -0.5)
}

/// Sum over every axis but the last (the weight gradients of the norms).
fn sum_leading(cx: &mut LowerCx, x: &Var) -> Result<Var, LowerError> {
    let rank = x.ty.rank();
    if rank <= 1 {
        return Ok(x.clone());
    }
    let axes: Vec<usize> = (0..rank - 1).collect();
    cx.sum_keep(x, &axes)
}
