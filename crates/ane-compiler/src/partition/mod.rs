//! Partitioning: the placed nodes of a training step become as few kernels as the chip allows.
//!
//! 1. [`scope`]: every node gets a scope (explicit or derived from parameter names); kernels never
//!    span two scopes that repeat (identical layers), so identical layers produce identical
//!    kernels, while unique scopes group freely.
//! 2. `groups`: nodes join the latest group of their placement and scope in execution order, unless
//!    that would create a cycle through another kernel (a host op in between); each group records
//!    what stopped the previous one ([`GroupLimit`]).
//! 3. `split`: every ANE group is lowered, validated and linted; one that does not fit is cut into
//!    the longest prefixes that do.
//! 4. The groups are put in a dependency order (ties by first node), and each gets its boundary:
//!    the nodes to lower (with the constants it recomputes), its inputs and its outputs.
//!
//! Host ops are grouped the same way into host kernels (fp32, one buffer per tensor).

mod boundary;
mod groups;
pub mod scope;
mod split;

pub use boundary::{Boundary, BoundaryCx};

use crate::caps::ane_lower_options;
use crate::error::GraphError;
use crate::graph::{Graph, Producer};
use crate::lower::LoweredKernel;
use crate::place::{NodePlacement, PlaceOptions, Placement};
use std::collections::{BinaryHeap, HashSet};
use std::fmt;
use std::sync::Arc;
use thiserror::Error;

/// Why a kernel is separate from the previous kernel of the same placement — what limited the
/// grouping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupLimit {
    /// The first kernel of its placement.
    First,
    /// A scope (layer) boundary.
    Scope {
        /// The previous kernel's scope.
        from: Option<String>,
        /// This kernel's scope.
        to: Option<String>,
    },
    /// Joining the kernel of the same scope would make it depend on itself through another kernel
    /// (typically a host op in between).
    Dependency {
        /// The placement of the kernel in between.
        via: Placement,
        /// Its scope.
        via_scope: Option<String>,
    },
    /// The larger kernel did not fit the chip (the lowering, packing or lint message).
    Caps(String),
}

impl GroupLimit {
    /// A short category for summaries: `first`, `scope`, `dependency`, `caps`.
    pub fn kind(&self) -> &'static str {
        match self {
            GroupLimit::First => "first",
            GroupLimit::Scope { .. } => "scope",
            GroupLimit::Dependency { .. } => "dependency",
            GroupLimit::Caps(_) => "caps",
        }
    }
}

impl fmt::Display for GroupLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |s: &Option<String>| s.clone().unwrap_or_else(|| "unscoped".to_string());
        match self {
            GroupLimit::First => f.write_str("first kernel"),
            GroupLimit::Scope { from, to } => {
                write!(f, "scope boundary {} → {}", name(from), name(to))
            }
            GroupLimit::Dependency { via, via_scope } => write!(
                f,
                "{via} kernel in between ({}): merging would form a cycle",
                name(via_scope)
            ),
            GroupLimit::Caps(why) => write!(f, "chip limits: {why}"),
        }
    }
}

/// One kernel-to-be: a group of nodes of one placement and scope, with its boundary.
#[derive(Debug, Clone)]
pub struct Group {
    /// ANE or host.
    pub placement: Placement,
    /// The repeated scope (layer) its nodes share, `None` when its nodes group freely.
    pub scope: Option<Arc<str>>,
    /// The distinct scopes of its nodes, in node order (what the kernel covers, for names).
    pub covers: Vec<String>,
    /// Nodes to lower, in execution order (the group's nodes, each preceded by the constants it
    /// is the first to read).
    pub nodes: Vec<usize>,
    /// Values read from outside, in kernel input order.
    pub inputs: Vec<crate::graph::ValueId>,
    /// Values needed outside, in kernel output order.
    pub outputs: Vec<crate::graph::ValueId>,
    /// What limited the grouping before this kernel.
    pub limit: GroupLimit,
    /// The ANE kernel lowered while checking it fits (host kernels are lowered by the plan).
    pub lowered: Option<LoweredKernel>,
}

/// Why partitioning failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PartitionError {
    /// The graph is inconsistent.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// An ANE node does not fit a kernel even alone (placement should have caught it).
    #[error("node {node} ({op}) does not fit an ANE kernel on its own: {reason}")]
    NodeDoesNotFit {
        /// The node index.
        node: usize,
        /// Its op.
        op: String,
        /// The lowering, packing or lint message.
        reason: String,
    },
    /// The kernels depend on each other in a cycle (a partitioner bug; never expected).
    #[error("internal: the kernels {0:?} depend on each other in a cycle")]
    Cycle(Vec<usize>),
    /// `placements` does not have one entry per node.
    #[error("{placements} placements for a graph of {nodes} nodes")]
    PlacementCount {
        /// Entries given.
        placements: usize,
        /// Nodes in the graph.
        nodes: usize,
    },
}

/// Partitions the placed nodes of `graph` into kernels, in an order that respects every data
/// dependency.
pub fn partition(
    graph: &Graph,
    placements: &[NodePlacement],
    opts: &PlaceOptions,
) -> Result<Vec<Group>, PartitionError> {
    if placements.len() != graph.nodes().len() {
        return Err(PartitionError::PlacementCount {
            placements: placements.len(),
            nodes: graph.nodes().len(),
        });
    }
    let scopes = scope::node_scopes(graph);
    let keys = scope::cut_keys(graph, &scopes);
    let drafts = groups::build(graph, placements, &keys);
    let cx = BoundaryCx::new(graph, placements);
    let ane_opts = ane_lower_options(&opts.caps, opts.precision, opts.abi);
    let mut pieces: Vec<(groups::Draft, Option<LoweredKernel>)> = Vec::new();
    for draft in drafts {
        if draft.placement == Placement::Host {
            pieces.push((draft, None));
            continue;
        }
        let split =
            split::split_to_fit(graph, &cx, &draft.nodes, &ane_opts, &opts.caps).map_err(|e| {
                match e {
                    split::SplitError::Graph(g) => PartitionError::Graph(g),
                    split::SplitError::NodeDoesNotFit { node, op, reason } => {
                        PartitionError::NodeDoesNotFit { node, op, reason }
                    }
                }
            })?;
        for piece in split {
            let limit = match piece.cut {
                Some(why) => GroupLimit::Caps(why),
                None => draft.limit.clone(),
            };
            let part = groups::Draft {
                placement: draft.placement,
                scope: draft.scope.clone(),
                nodes: piece.nodes,
                limit,
            };
            pieces.push((part, Some(piece.kernel)));
        }
    }
    let order = dependency_order(graph, &pieces);
    if order.len() != pieces.len() {
        let stuck = (0..pieces.len()).filter(|i| !order.contains(i)).collect();
        return Err(PartitionError::Cycle(stuck));
    }
    let covers = |nodes: &[usize]| {
        let mut out: Vec<String> = Vec::new();
        for &n in nodes {
            if let Some(s) = &scopes[n] {
                if !out.iter().any(|o| **o == **s) {
                    out.push(s.to_string());
                }
            }
        }
        out
    };
    Ok(order
        .into_iter()
        .map(|i| {
            let (draft, lowered) = pieces[i].clone();
            let b = cx.boundary(&draft.nodes);
            Group {
                placement: draft.placement,
                covers: covers(&draft.nodes),
                scope: draft.scope,
                nodes: b.nodes,
                inputs: b.inputs,
                outputs: b.outputs,
                limit: draft.limit,
                lowered,
            }
        })
        .collect())
}

/// A topological order of the pieces (Kahn's algorithm), ties broken by the first node index so
/// the order follows the graph's execution order wherever it can.
fn dependency_order(
    graph: &Graph,
    pieces: &[(groups::Draft, Option<LoweredKernel>)],
) -> Vec<usize> {
    let mut piece_of = vec![usize::MAX; graph.nodes().len()];
    for (i, (draft, _)) in pieces.iter().enumerate() {
        for &n in &draft.nodes {
            piece_of[n] = i;
        }
    }
    let mut successors: Vec<HashSet<usize>> = vec![HashSet::new(); pieces.len()];
    let mut indegree = vec![0usize; pieces.len()];
    for (i, (draft, _)) in pieces.iter().enumerate() {
        for &n in &draft.nodes {
            for &v in &graph.nodes()[n].inputs {
                if let Ok(Producer::Node(p)) = graph.producer(v) {
                    let from = piece_of[p];
                    if from != usize::MAX && from != i && successors[from].insert(i) {
                        indegree[i] += 1;
                    }
                }
            }
        }
    }
    let first_node = |i: usize| pieces[i].0.nodes.first().copied().unwrap_or(usize::MAX);
    let mut ready: BinaryHeap<std::cmp::Reverse<(usize, usize)>> = (0..pieces.len())
        .filter(|&i| indegree[i] == 0)
        .map(|i| std::cmp::Reverse((first_node(i), i)))
        .collect();
    let mut order = Vec::with_capacity(pieces.len());
    while let Some(std::cmp::Reverse((_, i))) = ready.pop() {
        order.push(i);
        let mut next: Vec<usize> = successors[i].iter().copied().collect();
        next.sort_unstable();
        for s in next {
            indegree[s] -= 1;
            if indegree[s] == 0 {
                ready.push(std::cmp::Reverse((first_node(s), s)));
            }
        }
    }
    order
}

/// The nodes of `groups` that are in no group, other than the kernel-free ones: empty for a
/// correct partition (used by tests and debug checks).
pub fn unassigned_nodes(
    graph: &Graph,
    placements: &[NodePlacement],
    groups: &[Group],
) -> Vec<usize> {
    let mut covered = vec![false; graph.nodes().len()];
    for g in groups {
        for &n in &g.nodes {
            covered[n] = true;
        }
    }
    (0..graph.nodes().len())
        .filter(|&n| !covered[n] && !placements[n].is_kernel_free())
        .collect()
}
