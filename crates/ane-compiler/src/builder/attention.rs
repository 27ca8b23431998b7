//! Causal self-attention composed from primitives (matmul, scale, additive mask, softmax, matmul),
//! the decomposition the ANE needs since its fused SDPA ignores `attn_mask`.

use crate::error::GraphError;
use crate::graph::{Graph, ValueId};

impl Graph {
    /// `softmax(q·kᵀ/√HD + mask)·v` for `q`, `k`, `v` of shape `[..., S, HD]` (typically
    /// `[B, heads, S, HD]`), with the causal mask of [`Graph::causal_mask`] added before softmax.
    pub fn causal_self_attention(
        &mut self,
        q: ValueId,
        k: ValueId,
        v: ValueId,
    ) -> Result<ValueId, GraphError> {
        let q_shape = self.shape(q)?.clone();
        if q_shape.rank() < 2 {
            return Err(GraphError::BadAttribute {
                op: "causal_self_attention".into(),
                message: format!("q must be [..., S, HD], got {q_shape}"),
            });
        }
        let seq = q_shape.dims()[q_shape.rank() - 2];
        let head_dim = q_shape.last().expect("rank ≥ 2");
        let scores = self.matmul_t(q, k, false, true)?;
        let scaled = self.scalar_mul(scores, 1.0 / (head_dim as f32).sqrt())?;
        let mask = self.causal_mask(seq)?;
        let masked = self.add(scaled, mask)?;
        let probs = self.softmax(masked, -1)?;
        self.matmul(probs, v)
    }
}
