//! Builder methods for `linear` and `matmul`.

use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::Op;

impl Graph {
    /// `x·wᵀ + b` for `x: [..., in]`, `w: [out, in]` (PyTorch Linear layout), `b: [out]`.
    pub fn linear(
        &mut self,
        x: ValueId,
        w: ValueId,
        b: Option<ValueId>,
    ) -> Result<ValueId, GraphError> {
        match b {
            Some(b) => self.add_node(Op::Linear, &[x, w, b]),
            None => self.add_node(Op::Linear, &[x, w]),
        }
    }

    /// Batched `a·b` for `a: [..., M, K]`, `b: [..., K, N]` (batch axes broadcast).
    pub fn matmul(&mut self, a: ValueId, b: ValueId) -> Result<ValueId, GraphError> {
        self.matmul_t(a, b, false, false)
    }

    /// Batched `op(a)·op(b)` where `op` optionally swaps the last two axes.
    pub fn matmul_t(
        &mut self,
        a: ValueId,
        b: ValueId,
        transpose_a: bool,
        transpose_b: bool,
    ) -> Result<ValueId, GraphError> {
        self.add_node(
            Op::MatMul {
                transpose_a,
                transpose_b,
            },
            &[a, b],
        )
    }
}
