//! The executor: joins a compiled [`Plan`](ane_compiler::plan::Plan) to devices and runs it.
//!
//! - [`devices`]: which device runs the ANE kernels (`--device auto|sim|ane`); host kernels always
//!   run on a simulator device in fp32, so one interpreter serves every kernel off the ANE.
//! - [`graphs`]: the training-step graph (with a runtime loss-scale seed) and the evaluation graph
//!   traced from a model.
//! - [`compiled`]: [`CompiledPlan`] compiles every distinct kernel once, resolves where each
//!   dispatch's inputs come from, and runs the dispatches: pack straight into the device's input
//!   buffers, run, copy outputs into preallocated host buffers.
//! - [`training`]: [`TrainingExecutor`] runs micro-batches (forward + backward), accumulates the
//!   gradients into the [`ParamStore`](crate::params::ParamStore); [`update`] applies the update
//!   with dynamic loss scaling, clipping and the optimizer.
//! - [`evaluation`]: [`EvalExecutor`] runs the forward-only plan for logits and accuracy.
//! - [`timing`]: per-phase wall time (staging, device, host kernels, optimizer) for `bench`.
//!
//! Nothing here allocates per step: host buffers are sized once from the plan.

pub mod compiled;
pub mod devices;
mod error;
pub mod evaluation;
pub mod graphs;
pub mod timing;
pub mod training;
pub mod update;

pub use compiled::{CompiledPlan, External, PlanSummary};
pub use devices::{DeviceChoice, Devices, SimRules};
pub use error::ExecError;
pub use evaluation::{EvalExecutor, EvalResult};
pub use graphs::{eval_graph, training_step_graph, LOSS_SCALE_INPUT};
pub use timing::{Phase, PhaseTimes};
pub use training::{MicroBatch, TrainingExecutor};
pub use update::{UpdateOutcome, UpdateRule};
