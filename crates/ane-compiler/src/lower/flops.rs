//! FLOP counts of IR ops: a multiply-add is 2 FLOPs (the convention of ane-facts §8). Contractions
//! (linear, matmul, convolutions and their backward ops) are counted exactly; elementwise and
//! normalisation ops are counted as a small fixed number of FLOPs per element, which is what they
//! cost next to the contractions; pure data movement is 0.

use crate::graph::{Graph, Node};
use crate::op::Op;

/// FLOPs of one node of `graph`.
pub fn node_flops(graph: &Graph, node: &Node) -> u64 {
    let numel = |i: usize| -> u64 {
        node.inputs
            .get(i)
            .and_then(|&v| graph.shape(v).ok())
            .map_or(0, |s| s.numel() as u64)
    };
    let out = graph.shape(node.output).map_or(0, |s| s.numel() as u64);
    let dims = |i: usize| -> Vec<u64> {
        node.inputs
            .get(i)
            .and_then(|&v| graph.shape(v).ok())
            .map(|s| s.dims().iter().map(|&d| d as u64).collect())
            .unwrap_or_default()
    };
    match &node.op {
        Op::Linear => {
            let w = dims(1);
            let rows = numel(0) / w.get(1).copied().unwrap_or(1).max(1);
            let bias = if node.inputs.len() == 3 { out } else { 0 };
            2 * rows * w.iter().product::<u64>() + bias
        }
        Op::MatMul { transpose_a, .. } => {
            let a = dims(0);
            let k = if *transpose_a {
                a[a.len() - 2]
            } else {
                a[a.len() - 1]
            };
            2 * out * k
        }
        Op::Conv2d(_) => {
            // Every output element is a dot product over C/groups · kh · kw.
            let w = dims(1);
            let taps: u64 = w[1..].iter().product();
            let bias = if node.inputs.len() == 3 { out } else { 0 };
            2 * out * taps + bias
        }
        Op::Conv2dBackwardData { .. } => {
            // The same contraction as the forward op, read the other way round.
            let (dy, w) = (numel(0), dims(1));
            2 * dy * w[1..].iter().product::<u64>()
        }
        Op::Conv2dBackwardWeight { .. } => {
            // dw[o, c', a, b] sums over N·OH·OW products.
            let dy = dims(1);
            let per_channel: u64 = dy[0] * dy[2] * dy[3];
            2 * out * per_channel
        }
        Op::MaxPool2d(p) | Op::AvgPool2d { pool: p, .. } => {
            out * (p.kernel[0] * p.kernel[1]) as u64
        }
        Op::MaxPool2dBackward(p) => numel(1) * (p.kernel[0] * p.kernel[1]) as u64 * 2,
        Op::AvgPool2dBackward { pool, .. } => numel(0) * (pool.kernel[0] * pool.kernel[1]) as u64,
        Op::Binary(_) | Op::ScalarMul(_) | Op::ScalarAdd(_) => out,
        Op::Unary(_) => 4 * out,
        Op::UnaryBackward(_) => 6 * out,
        Op::ReduceSum { .. } => numel(0),
        Op::Softmax { .. } => 5 * out,
        Op::LayerNorm { .. } | Op::RmsNorm { .. } => 6 * numel(0),
        Op::LayerNormBackwardInput { .. } | Op::RmsNormBackwardInput { .. } => 10 * numel(0),
        Op::LayerNormBackwardWeight { .. } | Op::RmsNormBackwardWeight { .. } => 6 * numel(0),
        Op::Rope { .. } => 3 * out,
        Op::EmbeddingBackward { .. } => numel(1),
        Op::SoftmaxCrossEntropy | Op::SoftmaxCrossEntropyBackward => 6 * numel(0),
        Op::MseLoss => 3 * numel(0),
        Op::Full { .. }
        | Op::CausalMask { .. }
        | Op::DropoutMask { .. }
        | Op::BroadcastTo { .. }
        | Op::Reshape { .. }
        | Op::Permute { .. }
        | Op::Concat { .. }
        | Op::Slice { .. }
        | Op::Pad { .. }
        | Op::Embedding => 0,
    }
}
