//! The boundary of a set of kernel nodes: the nodes the kernel runs (its own plus the constants it
//! recomputes), the values it reads from outside, and the values it must hand out — all in an
//! order that depends only on the kernel's structure, so identical layers get identical kernels.

use crate::graph::{Graph, Producer, ValueId};
use crate::place::{NodePlacement, PlaceReason};
use std::collections::HashSet;

/// What a kernel made of some nodes looks like from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boundary {
    /// Nodes to lower, in execution order: the kernel nodes, each preceded by the constants it
    /// is the first to read (so a constant's position depends on the kernel alone, not on where
    /// common-subexpression elimination left the shared node in the graph).
    pub nodes: Vec<usize>,
    /// Values read from outside, in first-use order (node order, then operand order).
    pub inputs: Vec<ValueId>,
    /// Values needed outside (by other kernels or as step outputs), in production order.
    pub outputs: Vec<ValueId>,
}

/// Facts about the graph every boundary computation needs.
pub struct BoundaryCx<'g> {
    pub(super) graph: &'g Graph,
    pub(super) placements: &'g [NodePlacement],
    pub(super) consumers: Vec<Vec<usize>>,
    pub(super) graph_outputs: HashSet<ValueId>,
}

impl<'g> BoundaryCx<'g> {
    /// Indexes `graph`'s consumers and outputs.
    pub fn new(graph: &'g Graph, placements: &'g [NodePlacement]) -> Self {
        BoundaryCx {
            graph,
            placements,
            consumers: graph.consumers(),
            graph_outputs: graph.outputs().iter().map(|o| o.value).collect(),
        }
    }

    /// The boundary of the kernel made of `nodes` (kernel nodes, ascending).
    pub fn boundary(&self, nodes: &[usize]) -> Boundary {
        let members: HashSet<usize> = nodes.iter().copied().collect();
        let mut all_nodes = Vec::with_capacity(nodes.len());
        let mut recomputed = HashSet::new();
        let mut inputs: Vec<ValueId> = Vec::new();
        let mut outputs = Vec::new();
        for &n in nodes {
            let node = &self.graph.nodes()[n];
            for &v in &node.inputs {
                match self.graph.producer(v) {
                    Ok(Producer::Node(p)) if members.contains(&p) => {}
                    Ok(Producer::Node(p)) if self.placements[p].reason == PlaceReason::Constant => {
                        if recomputed.insert(p) {
                            all_nodes.push(p);
                        }
                    }
                    _ => {
                        if !inputs.contains(&v) {
                            inputs.push(v);
                        }
                    }
                }
            }
            all_nodes.push(n);
            let needed_outside = self.graph_outputs.contains(&node.output)
                || self.consumers[node.output.index()]
                    .iter()
                    .any(|c| !members.contains(c));
            if needed_outside {
                outputs.push(node.output);
            }
        }
        Boundary {
            nodes: all_nodes,
            inputs,
            outputs,
        }
    }
}
