//! From groups to kernels and dispatches: lower every group (ANE groups arrive already lowered by
//! the partitioner), check every program, and deduplicate kernels whose program text and weight
//! files are identical — the kernels of identical layers — so each is compiled once.

use super::PlanError;
use crate::abi::KernelAbi;
use crate::caps::host_lower_options;
use crate::graph::{Graph, ValueId};
use crate::lower::{lower_kernel, KernelSpec, LoweredKernel};
use crate::partition::scope::generalize;
use crate::partition::{Group, GroupLimit};
use crate::place::Placement;
use ane_mil::chip::{lint, lint_all, ChipCaps, LintError};
use ane_mil::{Program, WeightFiles};
use std::collections::{BTreeMap, HashMap};

/// One distinct kernel: compiled once per run, dispatched one or more times per step.
#[derive(Debug, Clone)]
pub struct PlannedKernel {
    /// A name unique in the plan (`k03_ane_layers.N_bwd`: index, placement, scope with layer
    /// numbers shown as `N` when layers share it, phase); also its dump directory.
    pub name: String,
    /// ANE or host.
    pub placement: Placement,
    /// The MIL program.
    pub program: Program,
    /// Its constant weight files (masks, tables; never trainable weights).
    pub weights: WeightFiles,
    /// How boundary values map to its buffers.
    pub abi: KernelAbi,
    /// The IR nodes of its first dispatch (the constants it recomputes included).
    pub nodes: Vec<usize>,
    /// FLOPs of one dispatch (IR counts).
    pub flops: u64,
    /// Bytes of its input buffers.
    pub bytes_in: usize,
    /// Bytes of its output buffers.
    pub bytes_out: usize,
    /// The widest row (last axis, in values) of its input and output buffers.
    pub widest_row: usize,
    /// How many times one step dispatches it.
    pub dispatches_per_step: usize,
    /// MIL ops by type (`const` excluded).
    pub mil_op_counts: BTreeMap<String, usize>,
    /// IR ops by name (constants excluded), most frequent first.
    pub ir_op_counts: Vec<(String, usize)>,
    /// Advisory lint findings (ANE kernels only; rejecting findings never reach a plan).
    pub advisories: Vec<LintError>,
}

/// One kernel run of the step: which kernel, and the values at each of its ABI positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispatch {
    /// Index into [`Plan::kernels`](super::Plan::kernels).
    pub kernel: usize,
    /// The IR nodes this dispatch computes (with recomputed constants).
    pub nodes: Vec<usize>,
    /// The value bound to each boundary input position.
    pub inputs: Vec<ValueId>,
    /// The value bound to each boundary output position.
    pub outputs: Vec<ValueId>,
    /// The repeated scope (layer) of its nodes, if any.
    pub scope: Option<String>,
    /// The distinct scopes its nodes come from, in node order.
    pub covers: Vec<String>,
    /// What limited the grouping before it.
    pub limit: GroupLimit,
}

/// What makes two kernels the same compiled kernel: placement, program text, weight files.
type ContentKey = (Placement, String, Vec<(String, Vec<u8>)>);

/// The kernels and dispatches of a plan.
pub(super) struct Built {
    pub kernels: Vec<PlannedKernel>,
    pub dispatches: Vec<Dispatch>,
}

/// Lowers, checks and deduplicates the kernels of `groups` (in dispatch order).
pub(super) fn build(
    graph: &Graph,
    groups: Vec<Group>,
    caps: &ChipCaps,
) -> Result<Built, PlanError> {
    let mut kernels: Vec<PlannedKernel> = Vec::new();
    let mut dispatches = Vec::with_capacity(groups.len());
    let mut by_content: HashMap<ContentKey, usize> = HashMap::new();
    let mut scopes_of: Vec<Vec<Option<String>>> = Vec::new();
    let mut covers_of: Vec<Vec<String>> = Vec::new();
    for (index, mut group) in groups.into_iter().enumerate() {
        let provisional = format!("dispatch {index} ({})", group.placement);
        let lowered = match group.lowered.take() {
            Some(k) => k,
            None => lower_group(graph, &group, &provisional)?,
        };
        check(&lowered, group.placement, caps, &provisional)?;
        let text = ane_mil::print(&lowered.program);
        let weights: Vec<(String, Vec<u8>)> = lowered
            .weights
            .iter()
            .map(|(p, b)| (p.to_string(), b.to_vec()))
            .collect();
        let key = (group.placement, text, weights);
        let scope = group.scope.as_deref().map(str::to_string);
        let kernel = match by_content.get(&key) {
            Some(&k) => k,
            None => {
                let k = kernels.len();
                kernels.push(new_kernel(graph, &group, lowered, caps));
                scopes_of.push(Vec::new());
                covers_of.push(group.covers.clone());
                by_content.insert(key, k);
                k
            }
        };
        kernels[kernel].dispatches_per_step += 1;
        scopes_of[kernel].push(scope.clone());
        dispatches.push(Dispatch {
            kernel,
            nodes: group.nodes,
            inputs: group.inputs,
            outputs: group.outputs,
            scope,
            covers: group.covers,
            limit: group.limit,
        });
    }
    for (k, kernel) in kernels.iter_mut().enumerate() {
        kernel.name = kernel_name(graph, k, kernel, &scopes_of[k], &covers_of[k]);
    }
    Ok(Built {
        kernels,
        dispatches,
    })
}

fn lower_group(graph: &Graph, group: &Group, name: &str) -> Result<LoweredKernel, PlanError> {
    let spec = KernelSpec {
        graph,
        nodes: group.nodes.clone(),
        inputs: group.inputs.clone(),
        outputs: group.outputs.clone(),
    };
    lower_kernel(&spec, &host_lower_options()).map_err(|source| PlanError::Lower {
        kernel: name.to_string(),
        source,
    })
}

/// Validation (with weight files) for every kernel, the chip lint for ANE kernels.
fn check(
    kernel: &LoweredKernel,
    placement: Placement,
    caps: &ChipCaps,
    name: &str,
) -> Result<(), PlanError> {
    ane_mil::validate::validate_with_weights(&kernel.program, &kernel.weights).map_err(|e| {
        PlanError::Validation {
            kernel: name.to_string(),
            message: e.to_string(),
        }
    })?;
    if placement == Placement::Ane {
        let errors = lint(&kernel.program, caps);
        if !errors.is_empty() {
            return Err(PlanError::Lint {
                kernel: name.to_string(),
                errors,
            });
        }
    }
    Ok(())
}

fn new_kernel(
    graph: &Graph,
    group: &Group,
    lowered: LoweredKernel,
    caps: &ChipCaps,
) -> PlannedKernel {
    let abi = lowered.abi;
    let bytes = |n: usize, f: &dyn Fn(usize) -> usize| (0..n).map(f).sum::<usize>();
    let bytes_in = bytes(abi.input_buffers().len(), &|i| {
        abi.input_buffer_bytes(i).unwrap_or(0)
    });
    let bytes_out = bytes(abi.output_buffers().len(), &|i| {
        abi.output_buffer_bytes(i).unwrap_or(0)
    });
    let widest_row = abi
        .input_buffers()
        .iter()
        .chain(abi.output_buffers())
        .filter_map(|(_, t)| t.shape.last().and_then(|d| d.known()))
        .max()
        .unwrap_or(0);
    let advisories = match group.placement {
        Placement::Ane => lint_all(&lowered.program, caps)
            .into_iter()
            .filter(|e| !e.is_rejection())
            .collect(),
        Placement::Host => Vec::new(),
    };
    PlannedKernel {
        name: String::new(),
        placement: group.placement,
        program: lowered.program,
        weights: lowered.weights,
        abi,
        nodes: group.nodes.clone(),
        flops: lowered.flops,
        bytes_in,
        bytes_out,
        widest_row,
        dispatches_per_step: 0,
        mil_op_counts: lowered.mil_op_counts,
        ir_op_counts: ir_op_counts(graph, &group.nodes),
        advisories,
    }
}

impl PlannedKernel {
    /// The advisory findings about ops and forms no trainer has run on the ANE.
    pub fn unproven(&self) -> impl Iterator<Item = &LintError> {
        self.advisories.iter().filter(|a| a.rule.is_unproven())
    }
}

/// IR op names with counts, constants left out, most frequent first (ties by name).
fn ir_op_counts(graph: &Graph, nodes: &[usize]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for &n in nodes {
        let node = &graph.nodes()[n];
        if node.inputs.is_empty() {
            continue;
        }
        *counts.entry(node.op.name().to_string()).or_insert(0) += 1;
    }
    let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

/// `k03_ane_layers.N_bwd`: index, placement, the scope (numbers generalized when several
/// dispatches share the kernel; for kernels outside repeated scopes, the scopes their first
/// dispatch covers, `first..last`, or `step` for none), and whether its nodes are forward,
/// backward or both.
fn kernel_name(
    graph: &Graph,
    index: usize,
    kernel: &PlannedKernel,
    scopes: &[Option<String>],
    covers: &[String],
) -> String {
    let first = scopes.first().cloned().flatten();
    let scope = match first {
        None => match covers {
            [] => "step".to_string(),
            [one] => one.clone(),
            [first, .., last] => format!("{first}..{last}"),
        },
        Some(s) if scopes.iter().all(|t| t.as_deref() == Some(s.as_str())) => s,
        Some(s) => generalize(&s).replace('*', "N"),
    };
    let scope: String = scope
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let (mut forward, mut backward) = (false, false);
    for &n in &kernel.nodes {
        if graph.nodes()[n].inputs.is_empty() {
            continue;
        }
        if graph.node_origin(n).backward {
            backward = true;
        } else {
            forward = true;
        }
    }
    let phase = match (forward, backward) {
        (true, true) => "fwdbwd",
        (false, true) => "bwd",
        _ => "fwd",
    };
    let placement = match kernel.placement {
        Placement::Ane => "ane",
        Placement::Host => "host",
    };
    format!("k{index:02}_{placement}_{scope}_{phase}")
}
