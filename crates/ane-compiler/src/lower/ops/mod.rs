//! Lowering of each IR op to MIL ops, one module per op family, and the check of which ops a
//! kernel configuration can hold at all.
//!
//! Every `lower` function returns a MIL value whose shape is the MIL shape of the node's IR
//! output ([`mil_dims`](super::mil_dims)) and whose dtype is the kernel's float dtype (or int32
//! for integer values in host kernels).

mod activation;
mod conv;
mod elementwise;
mod generated;
mod linalg;
mod loss;
mod movement;
mod norm;
mod pool;
mod sequence;
mod window;

use super::context::LowerCx;
use super::error::LowerError;
use super::options::LowerOptions;
use crate::dtype::DType;
use crate::graph::{Graph, Node};
use crate::op::Op;
use ane_mil::builder::Var;
use ane_mil::MAX_RANK;

/// Whether `node` can be lowered under `opts` at all (cheap: no MIL is built). The error says
/// where it must run instead: placement calls this to keep host-only ops (dropout masks, ops on
/// integer ids or labels) off the ANE. Chip limits (axis caps, packing) are only known once a
/// whole kernel is lowered.
pub fn check_supported(graph: &Graph, node: &Node, opts: &LowerOptions) -> Result<(), LowerError> {
    let unsupported = |reason: &str| LowerError::Unsupported {
        op: node.op.to_string(),
        target: opts.target_name(),
        reason: reason.to_string(),
    };
    if let Op::DropoutMask { .. } = node.op {
        return Err(unsupported(
            "dropout masks come from a counter-based hash the executor computes on the host; \
             feed the mask as a kernel input and multiply by it",
        ));
    }
    let mut types = Vec::with_capacity(node.inputs.len() + 1);
    for &v in node.inputs.iter().chain(std::iter::once(&node.output)) {
        types.push(graph.value_type(v)?);
    }
    if let Some(t) = types.iter().find(|t| t.shape.rank() > MAX_RANK) {
        return Err(unsupported(&format!(
            "MIL tensors have rank ≤ {MAX_RANK}, this op touches {t}"
        )));
    }
    let uses_integers = types.iter().any(|t| t.dtype == DType::I32);
    if uses_integers && !opts.allows_integer_tensors() {
        return Err(unsupported(
            "it reads or produces integer tensors (ids, labels), which exist only in fp32 \
             multi-input host kernels",
        ));
    }
    Ok(())
}

/// Lowers one node whose inputs are already bound in `cx`.
pub fn lower_node(cx: &mut LowerCx, node: &Node) -> Result<Var, LowerError> {
    let out = cx.shape(node.output)?;
    let args = node
        .inputs
        .iter()
        .map(|&v| cx.var(v))
        .collect::<Result<Vec<_>, _>>()?;
    let input_shapes = node
        .inputs
        .iter()
        .map(|&v| cx.shape(v))
        .collect::<Result<Vec<_>, _>>()?;
    let n = NodeArgs {
        op: &node.op,
        args: &args,
        shapes: &input_shapes,
        out: &out,
    };
    match &node.op {
        Op::Full { .. } | Op::CausalMask { .. } | Op::DropoutMask { .. } => {
            generated::lower(cx, &n)
        }
        Op::Linear | Op::MatMul { .. } => linalg::lower(cx, &n),
        Op::Conv2d(_) | Op::Conv2dBackwardData { .. } | Op::Conv2dBackwardWeight { .. } => {
            conv::lower(cx, &n)
        }
        Op::MaxPool2d(_)
        | Op::MaxPool2dBackward(_)
        | Op::AvgPool2d { .. }
        | Op::AvgPool2dBackward { .. } => pool::lower(cx, &n),
        Op::Binary(_) | Op::ScalarMul(_) | Op::ScalarAdd(_) => elementwise::lower(cx, &n),
        Op::Unary(_) | Op::UnaryBackward(_) => activation::lower(cx, &n),
        Op::ReduceSum { .. }
        | Op::BroadcastTo { .. }
        | Op::Reshape { .. }
        | Op::Permute { .. }
        | Op::Concat { .. }
        | Op::Slice { .. }
        | Op::Pad { .. } => movement::lower(cx, &n),
        Op::Softmax { .. }
        | Op::LayerNorm { .. }
        | Op::LayerNormBackwardInput { .. }
        | Op::LayerNormBackwardWeight { .. }
        | Op::RmsNorm { .. }
        | Op::RmsNormBackwardInput { .. }
        | Op::RmsNormBackwardWeight { .. } => norm::lower(cx, &n),
        Op::Embedding | Op::EmbeddingBackward { .. } | Op::Rope { .. } => sequence::lower(cx, &n),
        Op::SoftmaxCrossEntropy | Op::SoftmaxCrossEntropyBackward | Op::MseLoss => {
            loss::lower(cx, &n)
        }
    }
}

/// What an op lowering sees: the op, its inputs' MIL values and IR shapes, its IR output shape.
pub struct NodeArgs<'n> {
    /// The op.
    pub op: &'n Op,
    /// MIL values of the inputs, in [`Op::input_names`] order.
    pub args: &'n [Var],
    /// IR shapes of the inputs.
    pub shapes: &'n [crate::shape::Shape],
    /// IR shape of the output.
    pub out: &'n crate::shape::Shape,
}

impl NodeArgs<'_> {
    /// Input `i`.
    pub fn arg(&self, i: usize) -> &Var {
        &self.args[i]
    }

    /// IR dims of input `i`.
    pub fn dims(&self, i: usize) -> &[usize] {
        self.shapes[i].dims()
    }
}
