//! Finding the weight-gradient computations of a training-step graph: the `matmul`s and
//! convolution backward-weight ops whose result flows into `grad.<param>` of a parameter through
//! nothing but gradient plumbing (reshapes, transposes, broadcast sums, the adds that accumulate
//! the contributions of a parameter used twice, and the concats that join chunked gradients).
//!
//! That is the `dW = dYᵀ·X` of every linear layer (ane-facts §7: maderix runs these on the CPU),
//! the gradient of a matmul operand that is a parameter, and `conv2d_backward_weight`.

use crate::autodiff::GRAD_PREFIX;
use crate::graph::{Graph, InputKind};
use crate::op::{BinaryOp, Op};

/// For every node, whether it computes (part of) a weight gradient.
pub fn weight_gradient_nodes(graph: &Graph) -> Vec<bool> {
    let reaches = reaches_param_gradient(graph);
    // Graphs from autodiff mark backward nodes; a hand-built graph without marks is taken as is.
    let marked = (0..graph.nodes().len()).any(|i| graph.node_origin(i).backward);
    graph
        .nodes()
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let candidate = matches!(node.op, Op::MatMul { .. } | Op::Conv2dBackwardWeight { .. });
            candidate && (!marked || graph.node_origin(i).backward) && reaches[node.output.index()]
        })
        .collect()
}

/// For every value, whether it flows into a parameter's gradient output through plumbing only.
fn reaches_param_gradient(graph: &Graph) -> Vec<bool> {
    let mut reaches = vec![false; graph.num_values()];
    for output in graph.outputs() {
        let Some(param) = output.name.strip_prefix(GRAD_PREFIX) else {
            continue;
        };
        let is_param = graph
            .inputs()
            .iter()
            .any(|i| i.name == param && i.kind == InputKind::Param);
        if is_param {
            reaches[output.value.index()] = true;
        }
    }
    // Consumers come after producers, so one reverse sweep propagates along plumbing chains.
    for node in graph.nodes().iter().rev() {
        if reaches[node.output.index()] && is_plumbing(&node.op) {
            for input in &node.inputs {
                reaches[input.index()] = true;
            }
        }
    }
    reaches
}

/// Ops that move or accumulate a gradient without computing a new one.
fn is_plumbing(op: &Op) -> bool {
    matches!(
        op,
        Op::Reshape { .. }
            | Op::Permute { .. }
            | Op::ReduceSum { .. }
            | Op::BroadcastTo { .. }
            | Op::Concat { .. }
            | Op::Binary(BinaryOp::Add)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autodiff::{training_graph, GradOptions};

    #[test]
    fn linear_weight_gradients_are_found_and_input_gradients_are_not() {
        let mut g = Graph::new();
        let x = g.input("x", &[4, 8], crate::DType::F32).unwrap();
        let labels = g.input_ids("labels", &[4]).unwrap();
        let w0 = g.param("0.weight", &[16, 8]).unwrap();
        let b0 = g.param("0.bias", &[16]).unwrap();
        let w1 = g.param("1.weight", &[3, 16]).unwrap();
        let h = g.linear(x, w0, Some(b0)).unwrap();
        let h = g.relu(h).unwrap();
        let logits = g.linear(h, w1, None).unwrap();
        let loss = g.cross_entropy(logits, labels).unwrap();
        g.output("loss", loss).unwrap();
        let t = training_graph(&g, "loss", &GradOptions::default()).unwrap();
        let flags = weight_gradient_nodes(&t);
        let found: Vec<String> = t
            .nodes()
            .iter()
            .zip(&flags)
            .filter(|(_, &f)| f)
            .map(|(n, _)| n.op.name().to_string())
            .collect();
        // dW0 and dW1; the dx matmul of layer 1 and the bias sum are not weight-gradient matmuls.
        assert_eq!(found, vec!["matmul", "matmul"]);
        let matmuls = t
            .nodes()
            .iter()
            .filter(|n| matches!(n.op, Op::MatMul { .. }))
            .count();
        assert_eq!(matmuls, 3);
    }
}
