//! Common-subexpression elimination: nodes with the same op (attributes included) on the same
//! inputs are merged into the first one. The inputs of `add` and `mul` are compared as unordered.

use super::{copy_inputs, copy_outputs, mapped, mapped_origin};
use crate::error::GraphError;
use crate::graph::Graph;
use crate::op::{BinaryOp, Op};
use std::collections::HashMap;

/// `graph` with duplicate computations merged.
pub fn cse(graph: &Graph) -> Result<Graph, GraphError> {
    let (mut out, mut map) = copy_inputs(graph)?;
    let mut seen = HashMap::new();
    for (index, node) in graph.nodes().iter().enumerate() {
        let mut inputs = node
            .inputs
            .iter()
            .map(|&v| mapped(&map, v))
            .collect::<Result<Vec<_>, _>>()?;
        let mut key_inputs = inputs.clone();
        if matches!(node.op, Op::Binary(BinaryOp::Add | BinaryOp::Mul)) {
            key_inputs.sort();
        }
        // The op's Debug text holds every attribute (f32 values print exactly), so equal keys mean
        // equal computations.
        let key = (format!("{:?}", node.op), key_inputs);
        let id = match seen.get(&key) {
            Some(&existing) => existing,
            None => {
                out.set_current_origin(mapped_origin(graph, index, &map));
                let id = out.add_node(node.op.clone(), std::mem::take(&mut inputs).as_slice())?;
                seen.insert(key, id);
                id
            }
        };
        map[node.output.index()] = Some(id);
    }
    copy_outputs(graph, &mut out, &map)?;
    Ok(out)
}
