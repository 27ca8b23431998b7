//! Reverse-mode automatic differentiation over the graph IR.
//!
//! [`training_graph`] turns a forward graph with a scalar loss into the training-step graph:
//! the forward nodes unchanged, then backward nodes, with outputs = the forward outputs (the loss
//! first among them as given) plus `grad.<name>` for every parameter and for each requested data
//! input. Backward nodes read forward values directly (activations stay graph values; the
//! partitioner later decides what crosses kernel boundaries). Gradient rules live in `rules`, one
//! module per op family; each is expressed with IR ops, primitives where natural and the
//! dedicated backward ops of [`Op`](crate::Op) where the math needs them.

mod rules;

use crate::dtype::DType;
use crate::error::GraphError;
use crate::graph::{Graph, InputKind, NodeOrigin, ValueId};
use crate::passes;

/// Prefix of gradient output names: the gradient of input `layers.0.weight` is `grad.layers.0.weight`.
pub const GRAD_PREFIX: &str = "grad.";

/// The output name carrying the gradient of graph input `input`.
pub fn grad_name(input: &str) -> String {
    format!("{GRAD_PREFIX}{input}")
}

/// Options for [`training_graph`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GradOptions {
    /// Data inputs (f32) whose gradients should also be outputs (`grad.<name>`); parameters always
    /// get one.
    pub wrt_inputs: Vec<String>,
}

/// Builds the training-step graph of `forward`, differentiating the output named `loss`.
///
/// Outputs: every output of `forward` (same names), then `grad.<param>` for every parameter in
/// declaration order (zeros for a parameter the loss does not depend on), then `grad.<input>` for
/// each of `options.wrt_inputs`. The result has been through common-subexpression and dead-code
/// elimination.
pub fn training_graph(
    forward: &Graph,
    loss: &str,
    options: &GradOptions,
) -> Result<Graph, GraphError> {
    let mut graph = forward.clone();
    let loss_value = graph.output_value(loss)?;
    let mut wrt: Vec<(String, ValueId)> =
        graph.params().map(|p| (p.name.clone(), p.value)).collect();
    for name in &options.wrt_inputs {
        let input = graph
            .inputs()
            .iter()
            .find(|i| &i.name == name)
            .ok_or_else(|| GraphError::UnknownInput(name.clone()))?;
        if input.kind == InputKind::Param {
            continue; // parameters are always differentiated
        }
        if graph.value_type(input.value)?.dtype != DType::F32 {
            return Err(GraphError::NotDifferentiable {
                name: name.clone(),
                reason: "it is an i32 input (ids and labels have no gradient)".into(),
            });
        }
        wrt.push((name.clone(), input.value));
    }
    let targets: Vec<ValueId> = wrt.iter().map(|(_, v)| *v).collect();
    let grads = append_backward(&mut graph, loss_value, &targets, loss)?;
    for ((name, _), grad) in wrt.iter().zip(grads) {
        graph.output(&grad_name(name), grad)?;
    }
    passes::dce(&passes::cse(&graph)?)
}

/// Appends the backward pass of `loss` (an f32 scalar of `graph`) and returns the gradient of each
/// of `targets`, in order (a zero fill for a target the loss does not depend on). `loss_name` is
/// only used in error messages.
pub fn append_backward(
    graph: &mut Graph,
    loss: ValueId,
    targets: &[ValueId],
    loss_name: &str,
) -> Result<Vec<ValueId>, GraphError> {
    let loss_ty = graph.value_type(loss)?.clone();
    if loss_ty.dtype != DType::F32 || loss_ty.shape.rank() != 0 {
        return Err(GraphError::LossNotScalar {
            name: loss_name.to_string(),
            ty: loss_ty.to_string(),
        });
    }
    let requires_grad = requires_grad(graph, targets)?;
    let forward_nodes = graph.nodes().to_vec();
    let outer = graph.set_current_origin(NodeOrigin {
        scope: None,
        backward: true,
        grad_of: None,
    });
    let result = backward_pass(graph, loss, targets, &forward_nodes, &requires_grad);
    graph.set_current_origin(outer);
    result
}

/// The body of [`append_backward`], run with backward origins in force: each rule's nodes get
/// the scope of the forward node they differentiate.
fn backward_pass(
    graph: &mut Graph,
    loss: ValueId,
    targets: &[ValueId],
    forward_nodes: &[crate::graph::Node],
    requires_grad: &[bool],
) -> Result<Vec<ValueId>, GraphError> {
    let mut grads: Vec<Option<ValueId>> = vec![None; graph.num_values()];
    grads[loss.index()] = Some(graph.full(&[], 1.0)?);
    for (index, node) in forward_nodes.iter().enumerate().rev() {
        let Some(dy) = grads[node.output.index()] else {
            continue;
        };
        if !requires_grad[node.output.index()] {
            continue;
        }
        graph.set_current_origin(NodeOrigin {
            scope: graph.node_origin(index).scope.clone(),
            backward: true,
            grad_of: Some(node.output),
        });
        let needs: Vec<bool> = node
            .inputs
            .iter()
            .map(|v| requires_grad[v.index()])
            .collect();
        let input_grads = rules::backward(graph, node, dy, &needs)?;
        for ((input, grad), needed) in node.inputs.iter().zip(input_grads).zip(needs) {
            let (Some(grad), true) = (grad, needed) else {
                continue;
            };
            grads[input.index()] = Some(match grads[input.index()] {
                None => grad,
                Some(previous) => graph.add(previous, grad)?,
            });
        }
    }
    graph.set_current_origin(NodeOrigin {
        scope: None,
        backward: true,
        grad_of: None,
    });
    targets
        .iter()
        .map(|&t| match grads[t.index()] {
            Some(g) => Ok(g),
            None => {
                let shape = graph.shape(t)?.dims().to_vec();
                graph.full(&shape, 0.0)
            }
        })
        .collect()
}

/// Which values depend on any target (and are f32): only those need gradients.
fn requires_grad(graph: &Graph, targets: &[ValueId]) -> Result<Vec<bool>, GraphError> {
    let mut flags = vec![false; graph.num_values()];
    for &t in targets {
        graph.value_type(t)?;
        flags[t.index()] = true;
    }
    for node in graph.nodes() {
        let depends = node.inputs.iter().any(|v| flags[v.index()]);
        flags[node.output.index()] = depends && graph.value_type(node.output)?.dtype == DType::F32;
    }
    Ok(flags)
}
