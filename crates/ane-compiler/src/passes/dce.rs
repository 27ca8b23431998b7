//! Dead-code elimination: drops nodes whose values no output needs. Graph inputs always stay
//! (they are the step's interface, even if unused).

use super::{copy_inputs, copy_outputs, mapped, mapped_origin};
use crate::error::GraphError;
use crate::graph::Graph;

/// `graph` without the nodes that do not contribute to any output.
pub fn dce(graph: &Graph) -> Result<Graph, GraphError> {
    let mut live = vec![false; graph.num_values()];
    for output in graph.outputs() {
        live[output.value.index()] = true;
    }
    for node in graph.nodes().iter().rev() {
        if live[node.output.index()] {
            for input in &node.inputs {
                live[input.index()] = true;
            }
        }
    }
    let (mut out, mut map) = copy_inputs(graph)?;
    for (index, node) in graph.nodes().iter().enumerate() {
        if !live[node.output.index()] {
            continue;
        }
        out.set_current_origin(mapped_origin(graph, index, &map));
        let inputs = node
            .inputs
            .iter()
            .map(|&v| mapped(&map, v))
            .collect::<Result<Vec<_>, _>>()?;
        map[node.output.index()] = Some(out.add_node(node.op.clone(), &inputs)?);
    }
    copy_outputs(graph, &mut out, &map)?;
    Ok(out)
}
