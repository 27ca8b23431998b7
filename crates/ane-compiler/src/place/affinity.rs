//! Free ops follow their data to the host: an op that moves or accumulates values and whose
//! inputs all come from host kernels (the adds summing host-computed weight gradients, a reshape
//! of one) would otherwise cost an ANE dispatch and two transfers; a reshape read only by host
//! ops is cheaper done where it is read.

use super::{NodePlacement, PlaceReason, Placement};
use crate::graph::{Graph, Producer};
use crate::op::Op;

/// Ops that cost (almost) nothing on the host next to a transfer.
fn is_free(op: &Op) -> bool {
    matches!(
        op,
        Op::Reshape { .. }
            | Op::Permute { .. }
            | Op::BroadcastTo { .. }
            | Op::Slice { .. }
            | Op::Pad { .. }
            | Op::Concat { .. }
            | Op::Binary(_)
            | Op::ScalarMul(_)
            | Op::ScalarAdd(_)
            | Op::ReduceSum { .. }
    )
}

/// Moves free ANE ops to the host when their data lives there (see the module docs).
pub(super) fn pull_free_ops_to_host(graph: &Graph, placements: &mut [NodePlacement]) {
    // Forward: inputs all produced by host nodes (graph inputs, constants and executor values are
    // neutral, since they are available everywhere).
    for (index, node) in graph.nodes().iter().enumerate() {
        if placements[index].reason != PlaceReason::FitsAne || !is_free(&node.op) {
            continue;
        }
        let mut host_inputs = 0;
        let mut ane_inputs = 0;
        for &v in &node.inputs {
            if let Ok(Producer::Node(p)) = graph.producer(v) {
                match (&placements[p].placement, placements[p].is_kernel_free()) {
                    (_, true) => {}
                    (Placement::Host, false) => host_inputs += 1,
                    (Placement::Ane, false) => ane_inputs += 1,
                }
            }
        }
        if host_inputs > 0 && ane_inputs == 0 {
            placements[index] = NodePlacement::host(PlaceReason::FollowsHost);
        }
    }
    // Backward: a reshape read only by host nodes.
    let consumers = graph.consumers();
    let outputs: std::collections::HashSet<usize> =
        graph.outputs().iter().map(|o| o.value.index()).collect();
    for (index, node) in graph.nodes().iter().enumerate().rev() {
        if placements[index].reason != PlaceReason::FitsAne
            || !matches!(node.op, Op::Reshape { .. })
            || outputs.contains(&node.output.index())
        {
            continue;
        }
        let readers = &consumers[node.output.index()];
        if !readers.is_empty()
            && readers
                .iter()
                .all(|&c| placements[c].placement == Placement::Host)
        {
            placements[index] = NodePlacement::host(PlaceReason::FollowsHost);
        }
    }
}
