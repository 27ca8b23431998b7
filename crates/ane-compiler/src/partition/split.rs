//! Splitting ANE groups until every kernel fits the chip: a group whose kernel does not lower
//! (a packed input or output over the per-axis cap, a tensor over it) or fails validation or the
//! lint is cut into the longest prefix that fits, then the rest is treated the same way. A prefix
//! of a convex group in execution order is convex, and the pieces keep the kernel graph acyclic.
//!
//! The longest fitting prefix is found by bisection, assuming a prefix that fits has only fitting
//! prefixes (true for axis caps, which grow with the kernel; the result is verified either way).

use super::boundary::BoundaryCx;
use crate::abi::check_packing;
use crate::graph::Graph;
use crate::lower::{lower_kernel, Abi, KernelSpec, LowerError, LowerOptions, LoweredKernel};
use ane_mil::chip::{lint, ChipCaps};

/// A piece of a split group and its lowered kernel.
pub(super) struct Piece {
    /// Kernel nodes, ascending.
    pub nodes: Vec<usize>,
    /// Its kernel.
    pub kernel: LoweredKernel,
    /// Why the piece before it stopped (for every piece but the first).
    pub cut: Option<String>,
}

/// Why a candidate kernel does not fit.
pub(super) enum Misfit {
    /// The chip's limits (lowering, packing, validation or lint): split further.
    Limits(String),
    /// The graph itself is broken.
    Graph(crate::error::GraphError),
}

/// Checks the packed layout of the kernel made of `nodes` ([`check_packing`], for packed kernels),
/// then lowers, validates and lints it.
pub(super) fn try_kernel(
    cx: &BoundaryCx,
    nodes: &[usize],
    opts: &LowerOptions,
    caps: Option<&ChipCaps>,
) -> Result<LoweredKernel, Misfit> {
    let boundary = cx.boundary(nodes);
    if opts.abi == Abi::Packed {
        // The cheap check first: most oversized candidates fail here without being lowered.
        let sizes = |values: &[crate::graph::ValueId]| -> Result<Vec<usize>, Misfit> {
            values
                .iter()
                .map(|&v| cx.graph.shape(v).map(|s| s.numel()).map_err(Misfit::Graph))
                .collect()
        };
        check_packing(
            &sizes(&boundary.inputs)?,
            &sizes(&boundary.outputs)?,
            &opts.limits.packing(opts.precision),
        )
        .map_err(|e| Misfit::Limits(e.to_string()))?;
    }
    let spec = KernelSpec {
        graph: cx.graph,
        nodes: boundary.nodes,
        inputs: boundary.inputs,
        outputs: boundary.outputs,
    };
    let kernel = lower_kernel(&spec, opts).map_err(|e| match e {
        LowerError::Graph(g) => Misfit::Graph(g),
        other => Misfit::Limits(other.to_string()),
    })?;
    if let Err(errors) = ane_mil::validate::validate_with_weights(&kernel.program, &kernel.weights)
    {
        return Err(Misfit::Limits(format!(
            "the program does not validate: {errors}"
        )));
    }
    if let Some(caps) = caps {
        if let Some(first) = lint(&kernel.program, caps).first() {
            return Err(Misfit::Limits(first.to_string()));
        }
    }
    Ok(kernel)
}

/// Splits `nodes` into pieces that each fit. Errors when a single node does not fit on its own
/// (placement probes every ANE node alone, so this means the lowering and the probe disagree).
pub(super) fn split_to_fit(
    graph: &Graph,
    cx: &BoundaryCx,
    nodes: &[usize],
    opts: &LowerOptions,
    caps: &ChipCaps,
) -> Result<Vec<Piece>, SplitError> {
    let mut pieces = Vec::new();
    let mut rest = nodes;
    let mut cut = None;
    while !rest.is_empty() {
        let whole = match try_kernel(cx, rest, opts, Some(caps)) {
            Ok(kernel) => {
                pieces.push(Piece {
                    nodes: rest.to_vec(),
                    kernel,
                    cut: cut.take(),
                });
                break;
            }
            Err(Misfit::Graph(e)) => return Err(SplitError::Graph(e)),
            Err(Misfit::Limits(why)) => why,
        };
        let (len, kernel) = longest_fitting_prefix(cx, rest, opts, caps)?.ok_or_else(|| {
            SplitError::NodeDoesNotFit {
                node: rest[0],
                op: graph.nodes()[rest[0]].op.to_string(),
                reason: whole.clone(),
            }
        })?;
        pieces.push(Piece {
            nodes: rest[..len].to_vec(),
            kernel,
            cut: cut.take(),
        });
        cut = Some(whole);
        rest = &rest[len..];
    }
    Ok(pieces)
}

/// The longest prefix of `nodes` (shorter than all of them) whose kernel fits, and that kernel.
fn longest_fitting_prefix(
    cx: &BoundaryCx,
    nodes: &[usize],
    opts: &LowerOptions,
    caps: &ChipCaps,
) -> Result<Option<(usize, LoweredKernel)>, SplitError> {
    let attempt = |len: usize| match try_kernel(cx, &nodes[..len], opts, Some(caps)) {
        Ok(k) => Ok(Some(k)),
        Err(Misfit::Limits(_)) => Ok(None),
        Err(Misfit::Graph(e)) => Err(SplitError::Graph(e)),
    };
    let Some(mut best) = attempt(1)? else {
        return Ok(None);
    };
    let (mut fits, mut fails) = (1, nodes.len());
    while fails - fits > 1 {
        let mid = fits + (fails - fits) / 2;
        match attempt(mid)? {
            Some(k) => {
                fits = mid;
                best = k;
            }
            None => fails = mid,
        }
    }
    Ok(Some((fits, best)))
}

/// Why splitting failed.
#[derive(Debug)]
pub(super) enum SplitError {
    Graph(crate::error::GraphError),
    NodeDoesNotFit {
        node: usize,
        op: String,
        reason: String,
    },
}
