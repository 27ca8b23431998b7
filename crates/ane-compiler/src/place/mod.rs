//! Placement: every node of the training-step graph goes to the ANE or the host, with the reason
//! recorded so the plan table can say why an op runs on the CPU.
//!
//! The decision, in order:
//! 1. constants (fills, the causal mask) are rematerialized inside every kernel that reads them;
//! 2. ops that can never reach the ANE go to the host ([`crate::caps::host_only_reason`]: integer
//!    ids and labels; dropout masks, which the executor computes);
//! 3. weight gradients go where [`DwPlacement`] says ([`weight_grad`]);
//! 4. every other op is *probed*: lowered alone as an ANE kernel for the target chip, validated and
//!    linted; any failure (an axis over the cap, a packing that does not fit, a lint rejection)
//!    sends it to the host with that message;
//! 5. free ops stranded between host ops follow them to the host.
//!
//! Before placement, [`chunk`] splits contractions over the chip's axis cap into pieces that fit.

mod affinity;
pub mod chunk;
mod probe;
pub mod weight_grad;

use crate::caps::{host_only_reason, ChipCaps};
use crate::error::GraphError;
use crate::graph::Graph;
use crate::lower::{Abi, Precision};
use std::fmt;

/// Where a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Placement {
    /// In an ANE kernel.
    Ane,
    /// In a host kernel (fp32, run by the simulator's CPU interpreter) or by the executor.
    Host,
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Placement::Ane => "ANE",
            Placement::Host => "host",
        })
    }
}

/// Where weight-gradient computations run (the matmuls producing `grad.<param>` of linear and
/// matmul weights, and convolution backward-weight), so both can be measured: maderix keeps dW on
/// the CPU (ane-facts §7.2), which frees the ANE for the critical path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DwPlacement {
    /// On the ANE, with the rest of the backward pass.
    #[default]
    Ane,
    /// On the host.
    Host,
}

/// Why a node runs where it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceReason {
    /// Lowering it alone as an ANE kernel validates and passes the chip lint.
    FitsAne,
    /// A constant with no inputs: recomputed inside every kernel that reads it.
    Constant,
    /// A constant returned as a step output (the zero gradient of an unused parameter): a host
    /// kernel produces it.
    ConstantOutput,
    /// Computed by the executor each step (dropout masks); its value is a step input.
    Executor(String),
    /// It can never reach the ANE (integer tensors).
    HostOnly(String),
    /// A weight gradient, placed on the host by [`DwPlacement::Host`].
    WeightGradient,
    /// Lowering it alone as an ANE kernel failed (axis caps, packing).
    Lowering(String),
    /// The chip lint rejects it alone.
    Lint(String),
    /// A free op (reshape, sum, add) whose data is all on the host: running it there saves a
    /// transfer and a dispatch.
    FollowsHost,
}

impl fmt::Display for PlaceReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlaceReason::FitsAne => f.write_str("fits the ANE"),
            PlaceReason::Constant => f.write_str("constant, rematerialized in each kernel"),
            PlaceReason::ConstantOutput => f.write_str("constant returned as a step output"),
            PlaceReason::Executor(why) => write!(f, "executor: {why}"),
            PlaceReason::HostOnly(why) => f.write_str(why),
            PlaceReason::WeightGradient => f.write_str("weight gradient, dw placed on the host"),
            PlaceReason::Lowering(why) => write!(f, "not lowerable for the ANE: {why}"),
            PlaceReason::Lint(why) => write!(f, "rejected by the chip lint: {why}"),
            PlaceReason::FollowsHost => f.write_str("free op between host ops"),
        }
    }
}

/// The placement of one node and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePlacement {
    /// ANE or host.
    pub placement: Placement,
    /// Why.
    pub reason: PlaceReason,
}

impl NodePlacement {
    fn ane(reason: PlaceReason) -> Self {
        NodePlacement {
            placement: Placement::Ane,
            reason,
        }
    }

    fn host(reason: PlaceReason) -> Self {
        NodePlacement {
            placement: Placement::Host,
            reason,
        }
    }

    /// True for nodes no kernel computes (constants are recomputed where used; dropout masks come
    /// from the executor).
    pub fn is_kernel_free(&self) -> bool {
        matches!(
            self.reason,
            PlaceReason::Constant | PlaceReason::Executor(_)
        )
    }
}

/// What placement needs to know about the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaceOptions {
    /// The chip's capabilities.
    pub caps: ChipCaps,
    /// Precision of ANE kernels.
    pub precision: Precision,
    /// I/O convention of ANE kernels.
    pub abi: Abi,
    /// Where weight gradients go.
    pub dw: DwPlacement,
}

/// Places every node of `graph` (one entry per node, in node order).
pub fn place(graph: &Graph, opts: &PlaceOptions) -> Result<Vec<NodePlacement>, GraphError> {
    let weight_grads = weight_grad::weight_gradient_nodes(graph);
    let mut prober = probe::Prober::new(graph, opts);
    let outputs: std::collections::HashSet<_> = graph.outputs().iter().map(|o| o.value).collect();
    let mut placements = Vec::with_capacity(graph.nodes().len());
    for (index, node) in graph.nodes().iter().enumerate() {
        let placement = if let Some(why) = host_only_reason(graph, node) {
            if matches!(node.op, crate::op::Op::DropoutMask { .. }) {
                NodePlacement::host(PlaceReason::Executor(why))
            } else {
                NodePlacement::host(PlaceReason::HostOnly(why))
            }
        } else if node.inputs.is_empty() && outputs.contains(&node.output) {
            NodePlacement::host(PlaceReason::ConstantOutput)
        } else if node.inputs.is_empty() {
            NodePlacement::ane(PlaceReason::Constant)
        } else if weight_grads[index] && opts.dw == DwPlacement::Host {
            NodePlacement::host(PlaceReason::WeightGradient)
        } else {
            match prober.probe(index)? {
                Ok(()) => NodePlacement::ane(PlaceReason::FitsAne),
                Err(reason) => NodePlacement::host(reason),
            }
        };
        placements.push(placement);
    }
    affinity::pull_free_ops_to_host(graph, &mut placements);
    Ok(placements)
}
