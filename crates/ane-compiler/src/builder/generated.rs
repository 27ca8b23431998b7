//! Builder methods for generated tensors: fills, the causal mask and dropout.

use crate::error::GraphError;
use crate::graph::{Graph, GraphMode, ValueId};
use crate::op::Op;
use crate::shape::Shape;

/// The name of the `i32[2]` data input holding `(seed, step)` for dropout masks. Created by the first
/// [`Graph::dropout`] call; the executor feeds the run's seed and the global step number, so a resumed
/// run regenerates exactly the masks of the original.
pub const DROPOUT_RNG_INPUT: &str = "dropout_rng";

impl Graph {
    /// A tensor of `shape` filled with `value`.
    pub fn full(&mut self, shape: &[usize], value: f32) -> Result<ValueId, GraphError> {
        self.add_node(
            Op::Full {
                shape: Shape::from(shape),
                value,
            },
            &[],
        )
    }

    /// The `[size, size]` additive causal mask (0 on/below the diagonal, −65504 above).
    pub fn causal_mask(&mut self, size: usize) -> Result<ValueId, GraphError> {
        self.add_node(Op::CausalMask { size }, &[])
    }

    /// Inverted dropout: in training mode, multiplies `x` by a mask of `0` (probability `p`) and
    /// `1/(1−p)`; in evaluation mode (or with `p == 0`) returns `x` itself.
    ///
    /// Each call is a distinct *site* with its own mask stream; the mask depends only on the
    /// [`DROPOUT_RNG_INPUT`] input, the site and the element index.
    pub fn dropout(&mut self, x: ValueId, p: f32) -> Result<ValueId, GraphError> {
        if self.mode() == GraphMode::Eval || p == 0.0 {
            self.value_type(x)?;
            return Ok(x);
        }
        let rng = match self.input_value(DROPOUT_RNG_INPUT) {
            Ok(v) => v,
            Err(_) => self.input_ids(DROPOUT_RNG_INPUT, &[2])?,
        };
        let shape = self.shape(x)?.clone();
        let site = self.next_dropout_site;
        let mask = self.add_node(Op::DropoutMask { shape, p, site }, &[rng])?;
        self.next_dropout_site += 1;
        self.mul(x, mask)
    }
}
