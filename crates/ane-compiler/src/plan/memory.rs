//! How much host memory a training step needs: a fast lower bound checked before planning
//! ([`check_graph_fits`]), so a model that can never fit fails in milliseconds with the sizes
//! instead of aborting on an allocation, and a full estimate of a finished plan
//! ([`Plan::memory_estimate`]) that callers compare with the memory they have.

use super::{Plan, PlanError};
use crate::graph::{Graph, InputKind};
use crate::place::Placement;
use ane_mil::host::format_bytes;
use ane_mil::ValueType;

/// The host memory one training step of a plan needs, by component, in bytes. An estimate: the
/// executor's and simulator's own bookkeeping is left out, and simulator buffers are counted
/// as each kernel's inputs and outputs plus twice its largest intermediate (the simulator
/// reuses intermediate buffers by liveness).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryEstimate {
    /// fp32 master copies of the parameters.
    pub parameters: u64,
    /// fp32 gradient accumulators (one per parameter element).
    pub gradients: u64,
    /// Optimizer state: `copies × parameters` (Adam keeps 2 fp32 copies, SGD with momentum 1).
    pub optimizer_state: u64,
    /// Host copies of the values crossing kernel boundaries (activations, data, gradients).
    pub buffers: u64,
    /// Constant weight files embedded in the kernels.
    pub kernel_weights: u64,
    /// Buffers of the kernels the simulator runs (host kernels, and ANE kernels when they are
    /// simulated).
    pub simulator: u64,
}

impl MemoryEstimate {
    /// The sum of every component (saturating: an estimate that large refuses anyway).
    pub fn total(&self) -> u64 {
        [
            self.parameters,
            self.gradients,
            self.optimizer_state,
            self.buffers,
            self.kernel_weights,
            self.simulator,
        ]
        .iter()
        .fold(0u64, |acc, &b| acc.saturating_add(b))
    }

    /// The components with their names, largest first.
    pub fn components(&self) -> Vec<(&'static str, u64)> {
        let mut parts = vec![
            ("parameters", self.parameters),
            ("gradients", self.gradients),
            ("optimizer state", self.optimizer_state),
            ("activation and data buffers", self.buffers),
            ("kernel weights", self.kernel_weights),
            ("simulator buffers", self.simulator),
        ];
        parts.sort_by_key(|&(_, bytes)| std::cmp::Reverse(bytes));
        parts
    }

    /// `Ok` when the estimate fits in `available` bytes; else an error listing the components
    /// and what to lower.
    pub fn check(&self, available: u64) -> Result<(), MemoryError> {
        if self.total() <= available {
            return Ok(());
        }
        Err(MemoryError {
            needed: self.total(),
            available,
            breakdown: self
                .components()
                .iter()
                .filter(|(_, b)| *b > 0)
                .map(|(name, b)| format!("{name} {}", format_bytes(*b)))
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// A plan that needs more memory than is available.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "training needs about {} of memory ({breakdown}) but only {} is available; \
     lower the batch size or the model's dimensions",
    format_bytes(*needed),
    format_bytes(*available)
)]
pub struct MemoryError {
    /// The estimate's total, in bytes.
    pub needed: u64,
    /// The memory available, in bytes.
    pub available: u64,
    /// The components, largest first (`parameters 1.2 GiB, …`).
    pub breakdown: String,
}

/// Bytes of a MIL value (0 for non-tensors and unknown shapes).
fn mil_bytes(ty: &ValueType) -> u64 {
    let Some(t) = ty.as_tensor() else { return 0 };
    let elements = t.num_elements().unwrap_or(0) as u64;
    elements.saturating_mul(t.dtype.size_in_bytes().unwrap_or(4) as u64)
}

impl Plan {
    /// The host memory one training step needs (see [`MemoryEstimate`]), with
    /// `optimizer_state_copies` fp32 copies of the parameters kept by the optimizer (2 for Adam
    /// and AdamW, 1 for SGD with momentum, 0 for plain SGD) and, when `ane_on_simulator`, the
    /// ANE kernels' buffers counted as simulator memory (the simulator stands in for the ANE
    /// everywhere but on a Mac). Compare [`MemoryEstimate::total`] with the available memory
    /// (`ane_mil::host::available_memory`) before allocating, or call
    /// [`MemoryEstimate::check`].
    pub fn memory_estimate(
        &self,
        optimizer_state_copies: u64,
        ane_on_simulator: bool,
    ) -> MemoryEstimate {
        let parameters = self
            .step_inputs
            .iter()
            .filter(|v| v.kind == super::StepValueKind::Param)
            .map(|v| element_bytes(&v.shape))
            .fold(0u64, u64::saturating_add);
        let buffers = self
            .buffers
            .iter()
            .map(|b| b.bytes as u64)
            .fold(0u64, u64::saturating_add);
        let mut kernel_weights = 0u64;
        let mut simulator = 0u64;
        for kernel in &self.kernels {
            for (_, bytes) in kernel.weights.iter() {
                kernel_weights = kernel_weights.saturating_add(bytes.len() as u64);
            }
            if kernel.placement == Placement::Ane && !ane_on_simulator {
                continue;
            }
            for function in &kernel.program.functions {
                let io = function
                    .params
                    .iter()
                    .map(|p| mil_bytes(&p.ty))
                    .fold(0u64, u64::saturating_add);
                let largest = function
                    .body
                    .iter()
                    .flat_map(|op| op.outputs.iter().map(|o| mil_bytes(&o.ty)))
                    .max()
                    .unwrap_or(0);
                let outputs = function
                    .body
                    .iter()
                    .flat_map(|op| op.outputs.iter())
                    .filter(|o| function.outputs.contains(&o.name))
                    .map(|o| mil_bytes(&o.ty))
                    .fold(0u64, u64::saturating_add);
                simulator = simulator
                    .saturating_add(io)
                    .saturating_add(outputs)
                    .saturating_add(largest.saturating_mul(2));
            }
        }
        MemoryEstimate {
            parameters,
            gradients: parameters,
            optimizer_state: parameters.saturating_mul(optimizer_state_copies),
            buffers,
            kernel_weights,
            simulator,
        }
    }
}

/// Bytes of an f32/i32 tensor of `shape` (saturating; graphs only hold shapes that fit).
fn element_bytes(shape: &[usize]) -> u64 {
    shape
        .iter()
        .fold(4u64, |acc, &d| acc.saturating_mul(d as u64))
}

/// Refuses, before any planning work, a graph that cannot fit in `limit` bytes whatever the
/// plan: its parameters with their gradients (two fp32 copies), or any single value, larger than
/// the limit. Planning such a graph would spend minutes chunking and lowering, then abort on a
/// constant table or weight allocation.
pub(super) fn check_graph_fits(graph: &Graph, limit: u64) -> Result<(), PlanError> {
    let mut parameters = 0u64;
    for input in graph.inputs() {
        if input.kind == InputKind::Param {
            let shape = graph.shape(input.value)?;
            parameters = parameters.saturating_add(element_bytes(shape.dims()));
        }
    }
    let too_large = |what: String, needed: u64| PlanError::TooLarge {
        message: format!(
            "{what} need{} {} but only {} of memory is available; lower the batch size or the \
             model's dimensions",
            if what.starts_with("the parameters") {
                ""
            } else {
                "s"
            },
            format_bytes(needed),
            format_bytes(limit)
        ),
    };
    let with_gradients = parameters.saturating_mul(2);
    if with_gradients > limit {
        return Err(too_large(
            "the parameters with their gradients (two fp32 copies)".into(),
            with_gradients,
        ));
    }
    for id in 0..graph.num_values() {
        let value = crate::graph::ValueId(id as u32);
        let shape = graph.shape(value)?;
        let bytes = element_bytes(shape.dims());
        if bytes > limit {
            let what = match graph.producing_node(value) {
                Some(node) => format!("the output of {} (shape {:?})", node.op, shape.dims()),
                None => format!("an input of shape {:?}", shape.dims()),
            };
            return Err(too_large(what, bytes));
        }
    }
    Ok(())
}
