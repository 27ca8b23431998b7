//! The Plan: everything the executor needs to run one training step, decided before the first
//! step and without running anything.
//!
//! [`plan_training_step`] takes the training-step graph (from [`crate::autodiff::training_graph`])
//! and [`PlanOptions`], chunks contractions over the chip's axis cap
//! ([`crate::place::chunk`]), places every node ([`crate::place`]), partitions the nodes into
//! kernels ([`crate::partition`]), lowers each kernel to MIL ([`crate::lower`]), deduplicates
//! identical kernels (same program text and weights: identical layers compile once) and lists:
//!
//! - the distinct kernels ([`PlannedKernel`]): program, constant weights, I/O ABI, placement, IR
//!   nodes, FLOPs, bytes in and out;
//! - the dispatches in execution order ([`Dispatch`]): a kernel plus the values bound to each ABI
//!   position;
//! - what the executor provides every step ([`StepValue`]: data, labels, parameters, dropout
//!   masks) and what it gets back (loss, `grad.<param>`);
//! - every value crossing a kernel boundary ([`Buffer`]);
//! - compile counts and per-step totals ([`Compiles`], [`StepTotals`]).
//!
//! Every ANE kernel has been validated and passed the chip lint before the Plan is returned.
//! [`Plan::table`] prints it; [`Plan::dump`] writes every kernel's MIL and weights.

mod dump;
mod kernels;
mod memory;
mod table;
mod values;

pub use kernels::{Dispatch, PlannedKernel};
pub use memory::{MemoryError, MemoryEstimate};
pub use values::{Buffer, BufferSource, StepValue, StepValueKind};

use crate::error::GraphError;
use crate::graph::Graph;
use crate::lower::{Abi, LowerError, Precision};
use crate::partition::{partition, PartitionError};
use crate::place::chunk::{chunk_oversized, ChunkLimits};
use crate::place::{place, DwPlacement, NodePlacement, PlaceOptions, Placement};
use ane_mil::chip::{ChipCaps, ChipFamily, LintError};
use thiserror::Error;

/// How to plan a training step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOptions {
    /// The chip's capabilities (dialect, limits), usually `family.caps()`.
    pub chip: ChipCaps,
    /// Precision of ANE kernels: fp16 (the device) or fp32 (exact reference runs on the
    /// simulator). Host kernels are always fp32.
    pub precision: Precision,
    /// Where weight gradients run.
    pub dw: DwPlacement,
    /// I/O convention of ANE kernels (host kernels always take one buffer per tensor).
    pub abi: Abi,
    /// The host memory a plan may need, in bytes, for the quick check made before planning (the
    /// parameters with their gradients, and every single value, must fit). `None` uses the
    /// memory the operating system reports available (`ane_mil::host::available_memory`); where
    /// that is unknown, nothing is checked.
    pub memory_limit: Option<u64>,
}

impl PlanOptions {
    /// fp16 packed ANE kernels with weight gradients on the ANE, for `family`.
    pub fn new(family: ChipFamily) -> Self {
        PlanOptions {
            chip: family.caps(),
            precision: Precision::Fp16,
            dw: DwPlacement::Ane,
            abi: Abi::Packed,
            memory_limit: None,
        }
    }

    /// The same options with another memory limit (see [`PlanOptions::memory_limit`]).
    pub fn with_memory_limit(mut self, bytes: Option<u64>) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// The same options with another precision.
    pub fn with_precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// The same options with another weight-gradient placement.
    pub fn with_dw(mut self, dw: DwPlacement) -> Self {
        self.dw = dw;
        self
    }

    /// The same options with another ANE I/O convention.
    pub fn with_abi(mut self, abi: Abi) -> Self {
        self.abi = abi;
        self
    }

    fn place_options(&self) -> PlaceOptions {
        PlaceOptions {
            caps: self.chip,
            precision: self.precision,
            abi: self.abi,
            dw: self.dw,
        }
    }
}

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PlanError {
    /// The graph is inconsistent.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Partitioning failed.
    #[error(transparent)]
    Partition(#[from] PartitionError),
    /// A kernel did not lower.
    #[error("kernel {kernel}: {source}")]
    Lower {
        /// The kernel's name.
        kernel: String,
        /// The lowering error.
        source: LowerError,
    },
    /// A lowered program does not validate (a lowering bug).
    #[error("kernel {kernel} does not validate: {message}")]
    Validation {
        /// The kernel's name.
        kernel: String,
        /// The validation errors.
        message: String,
    },
    /// An ANE kernel fails the chip lint (the partitioner should have split or moved it).
    #[error("kernel {kernel} fails the chip lint: {}", errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Lint {
        /// The kernel's name.
        kernel: String,
        /// The lint findings.
        errors: Vec<LintError>,
    },
    /// The graph has nothing to compute.
    #[error("the training-step graph has no outputs")]
    NoOutputs,
    /// The model cannot fit in memory whatever the plan (see [`PlanOptions::memory_limit`]).
    #[error("the model is too large: {message}")]
    TooLarge {
        /// What needs how much, against how much is available, and what to lower.
        message: String,
    },
}

/// Compiles a run needs, decided before the first step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compiles {
    /// Distinct ANE kernels (count against the ~119-per-process budget).
    pub ane: usize,
    /// Distinct host kernels (compiled by the simulator's interpreter; no budget).
    pub host: usize,
}

/// Work per training step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepTotals {
    /// ANE kernel dispatches.
    pub ane_dispatches: usize,
    /// Host kernel dispatches.
    pub host_dispatches: usize,
    /// FLOPs run on the ANE (IR op counts, a multiply-add is 2).
    pub ane_flops: u64,
    /// FLOPs run on the host.
    pub host_flops: u64,
    /// Bytes written into ANE kernel inputs.
    pub ane_bytes_in: u64,
    /// Bytes read from ANE kernel outputs.
    pub ane_bytes_out: u64,
}

impl StepTotals {
    /// The share of the step's FLOPs that runs on the ANE (0 when there are none).
    pub fn ane_flop_share(&self) -> f64 {
        let total = self.ane_flops + self.host_flops;
        if total == 0 {
            0.0
        } else {
            self.ane_flops as f64 / total as f64
        }
    }
}

/// A planned training step (see the module docs).
#[derive(Debug, Clone)]
pub struct Plan {
    /// The training-step graph the plan runs (value ids below refer to it): the given graph with
    /// contractions over the axis cap chunked (same inputs and outputs).
    pub graph: Graph,
    /// How many contractions were chunked to fit the axis cap.
    pub chunked: usize,
    /// The options it was planned with.
    pub options: PlanOptions,
    /// Placement of every node, in node order.
    pub placements: Vec<NodePlacement>,
    /// The distinct kernels.
    pub kernels: Vec<PlannedKernel>,
    /// The dispatches of one step, in execution order.
    pub dispatches: Vec<Dispatch>,
    /// Values the executor provides every step.
    pub step_inputs: Vec<StepValue>,
    /// Values the step returns (the graph outputs: loss, `grad.<param>`, …).
    pub step_outputs: Vec<StepValue>,
    /// Every value crossing a kernel boundary.
    pub buffers: Vec<Buffer>,
    /// Compiles a run needs.
    pub compiles: Compiles,
    /// Per-step totals.
    pub totals: StepTotals,
}

/// Plans one training step of `graph` (see the module docs). Runs nothing.
pub fn plan_training_step(graph: &Graph, options: &PlanOptions) -> Result<Plan, PlanError> {
    if graph.outputs().is_empty() {
        return Err(PlanError::NoOutputs);
    }
    if let Some(limit) = options
        .memory_limit
        .or_else(ane_mil::host::available_memory)
    {
        memory::check_graph_fits(graph, limit)?;
    }
    let limits = ChunkLimits {
        max_axis: options.chip.max_axis_size,
        max_bytes: options.chip.max_kernel_io_bytes,
        element_bytes: options.precision.mil_dtype().size_in_bytes().unwrap_or(2),
    };
    let (chunked_graph, chunked) = chunk_oversized(graph, limits)?;
    let graph = &chunked_graph;
    let place_options = options.place_options();
    let placements = place(graph, &place_options)?;
    let groups = partition(graph, &placements, &place_options)?;
    let built = kernels::build(graph, groups, &options.chip)?;
    let (step_inputs, step_outputs) = values::step_values(graph, &placements)?;
    let buffers = values::buffers(graph, &placements, &built.dispatches)?;
    let mut totals = StepTotals::default();
    for d in &built.dispatches {
        let kernel = &built.kernels[d.kernel];
        match kernel.placement {
            Placement::Ane => {
                totals.ane_dispatches += 1;
                totals.ane_flops += kernel.flops;
                totals.ane_bytes_in += kernel.bytes_in as u64;
                totals.ane_bytes_out += kernel.bytes_out as u64;
            }
            Placement::Host => {
                totals.host_dispatches += 1;
                totals.host_flops += kernel.flops;
            }
        }
    }
    let count = |p: Placement| built.kernels.iter().filter(|k| k.placement == p).count();
    Ok(Plan {
        compiles: Compiles {
            ane: count(Placement::Ane),
            host: count(Placement::Host),
        },
        graph: chunked_graph.clone(),
        chunked,
        options: *options,
        placements,
        kernels: built.kernels,
        dispatches: built.dispatches,
        step_inputs,
        step_outputs,
        buffers,
        totals,
    })
}

impl Plan {
    /// The share of the step's FLOPs on the ANE.
    pub fn ane_flop_share(&self) -> f64 {
        self.totals.ane_flop_share()
    }

    /// Every advisory lint finding of the ANE kernels, with the kernel's name.
    pub fn advisories(&self) -> Vec<(&str, &LintError)> {
        self.kernels
            .iter()
            .flat_map(|k| k.advisories.iter().map(move |a| (k.name.as_str(), a)))
            .collect()
    }
}
