//! Graph-to-graph passes: dead-code elimination and common-subexpression elimination. Each
//! returns a new graph with compact value ids; inputs, outputs (names and order), mode and node
//! origins (scopes) are kept.

mod cse;
mod dce;

pub use cse::cse;
pub use dce::dce;

use crate::error::GraphError;
use crate::graph::{Graph, NodeOrigin, ValueId};

/// A new graph with the same inputs (same names, kinds, order) and mode as `graph`, and the map
/// from old value ids to new ones filled for the inputs.
fn copy_inputs(graph: &Graph) -> Result<(Graph, Vec<Option<ValueId>>), GraphError> {
    let mut out = Graph::with_mode(graph.mode());
    out.next_dropout_site = graph.next_dropout_site;
    let mut map = vec![None; graph.num_values()];
    for input in graph.inputs() {
        let ty = graph.value_type(input.value)?;
        let id = out.add_input(&input.name, input.kind, ty.shape.dims(), ty.dtype)?;
        map[input.value.index()] = Some(id);
    }
    Ok((out, map))
}

/// Looks up the new id of an old value that must already have been copied.
fn mapped(map: &[Option<ValueId>], old: ValueId) -> Result<ValueId, GraphError> {
    map.get(old.index())
        .copied()
        .flatten()
        .ok_or(GraphError::UnknownValue(old.index()))
}

/// Copies `graph`'s outputs into `out` through `map`.
fn copy_outputs(graph: &Graph, out: &mut Graph, map: &[Option<ValueId>]) -> Result<(), GraphError> {
    for output in graph.outputs() {
        out.output(&output.name, mapped(map, output.value)?)?;
    }
    Ok(())
}

/// Node `index`'s origin with its `grad_of` value renamed through `map` (dropped when that value
/// did not survive).
pub(crate) fn mapped_origin(graph: &Graph, index: usize, map: &[Option<ValueId>]) -> NodeOrigin {
    let origin = graph.node_origin(index);
    NodeOrigin {
        grad_of: origin
            .grad_of
            .and_then(|v| map.get(v.index()).copied().flatten()),
        ..origin.clone()
    }
}
