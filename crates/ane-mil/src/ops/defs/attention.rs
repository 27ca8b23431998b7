//! `scaled_dot_product_attention` (mil-ops §1.15, iOS18 only):
//! `softmax(Q·Kᵀ/√E + mask)·V` over `[B, *, L, E]` queries.

use super::domains::{t, FLOAT};
use crate::dtype::DType;
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::shape::{broadcast_shapes, dims_compatible, shape_str, shapes_compatible};
use crate::ops::signature::{DTypeDomain, InputSpec, OpSignature};
use crate::program::Opset;
use crate::types::TensorType;

const MASK: &[DType] = &[DType::Bool, DType::Fp16, DType::Fp32];

pub(super) fn signatures() -> Vec<OpSignature> {
    vec![OpSignature::new(
        "scaled_dot_product_attention",
        Opset::Ios18,
        vec![
            InputSpec::required("query", t(FLOAT)),
            InputSpec::required("key", t(FLOAT)),
            InputSpec::required("value", t(FLOAT)),
            InputSpec::omittable("attn_mask", DTypeDomain::shared("M", MASK), "no mask"),
        ],
        sdpa_rule,
    )]
}

fn sdpa_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let (q, k, v) = (
        ctx.tensor("query")?,
        ctx.tensor("key")?,
        ctx.tensor("value")?,
    );
    let rank = q.rank();
    if rank < 3 || k.rank() != rank || v.rank() != rank {
        return Err(ctx.shape_error(format!(
            "`query` {q}, `key` {k} and `value` {v} must have the same rank ≥ 3"
        )));
    }
    let batch = rank - 2;
    if !shapes_compatible(&q.shape[..batch], &k.shape[..batch])
        || !shapes_compatible(&q.shape[..batch], &v.shape[..batch])
    {
        return Err(ctx.shape_error(format!(
            "`query` {q}, `key` {k} and `value` {v} must have the same batch dims"
        )));
    }
    if !dims_compatible(q.shape[rank - 1], k.shape[rank - 1]) {
        return Err(ctx.shape_error(format!("embedding dims differ: `query` {q} vs `key` {k}")));
    }
    let s = k.shape[rank - 2];
    if !dims_compatible(s, v.shape[rank - 2]) {
        return Err(ctx.shape_error(format!("sequence lengths differ: `key` {k} vs `value` {v}")));
    }
    if let Some(mask) = ctx.opt_tensor("attn_mask") {
        let fits = mask.rank() >= 1
            && dims_compatible(mask.shape[mask.rank() - 1], s)
            && broadcast_shapes(&q.shape[..rank - 1], &mask.shape[..mask.rank() - 1]).is_ok();
        if !fits {
            return Err(ctx.shape_error(format!(
                "`attn_mask` {mask} must end in S = {s} and broadcast to {} (from `query` {q} and `key` {k})",
                shape_str(&[&q.shape[..rank - 1], &[s]].concat())
            )));
        }
    }
    let mut shape = q.shape[..rank - 1].to_vec();
    shape.push(v.shape[rank - 1]);
    Ok(ctx.output(q.dtype, shape))
}
