//! Builder methods for embedding lookup and rotary position embedding.

use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::Op;

/// The RoPE frequency base of Llama 2 / llama2.c.
pub const ROPE_BASE: f32 = 10000.0;

impl Graph {
    /// Rows of `table: [V, D]` selected by `ids: i32[...]`, giving `[..., D]`.
    pub fn embedding(&mut self, ids: ValueId, table: ValueId) -> Result<ValueId, GraphError> {
        self.add_node(Op::Embedding, &[ids, table])
    }

    /// Rotary position embedding on `x: [..., S, HD]` (positions along axis −2), llama2.c's
    /// interleaved-pair convention with base 10000.
    pub fn rope(&mut self, x: ValueId) -> Result<ValueId, GraphError> {
        self.add_node(
            Op::Rope {
                base: ROPE_BASE,
                inverse: false,
            },
            &[x],
        )
    }
}
