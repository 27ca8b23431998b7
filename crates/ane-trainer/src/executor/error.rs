//! Everything that can go wrong while planning, compiling or running a step.

use ane_compiler::abi::AbiError;
use ane_compiler::plan::PlanError;
use ane_device::DeviceError;

/// Why the executor could not plan, compile or run a step.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The model could not be traced into a graph.
    #[error("building the graph: {0}")]
    Graph(#[from] crate::nn::NnError),
    /// The compiler could not plan the step.
    #[error("planning the step: {0}")]
    Plan(#[from] PlanError),
    /// No device of the requested kind is available.
    #[error("{0}")]
    DeviceUnavailable(String),
    /// A kernel's printed MIL does not parse back (the text is the contract with every device).
    #[error("kernel {kernel}: its MIL text does not parse back: {message}")]
    Reparse {
        /// The kernel's name.
        kernel: String,
        /// The parser's message.
        message: String,
    },
    /// The device failed to compile, fill, run or read a kernel.
    #[error("kernel {kernel}: {source}")]
    Device {
        /// The kernel's name.
        kernel: String,
        /// The device's error.
        source: DeviceError,
    },
    /// Packing an input or unpacking an output did not fit the kernel's ABI.
    #[error("kernel {kernel}: {source}")]
    Abi {
        /// The kernel's name.
        kernel: String,
        /// What did not fit.
        source: AbiError,
    },
    /// The plan needs a step value the executor cannot provide.
    #[error("the plan needs step value `{name}` ({kind}), which the executor cannot provide")]
    UnsupportedStepValue {
        /// The value's name.
        name: String,
        /// What kind of value it is.
        kind: String,
    },
    /// The plan does not have a value the executor needs (a model input, the loss, a gradient).
    #[error("the plan has no {0}")]
    MissingValue(String),
    /// A caller's tensor does not have the size the plan was made for.
    #[error("`{name}` has {got} elements; the plan was made for {expected}")]
    Length {
        /// The input's name.
        name: String,
        /// What the plan expects.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// The parameters do not match the plan's.
    #[error(transparent)]
    Param(#[from] crate::params::ParamError),
    /// The optimizer rejected the update.
    #[error(transparent)]
    Optim(#[from] crate::optim::OptimError),
    /// The loss became inf/NaN where no loss scaling can recover.
    #[error("the loss is {loss} at step {step}: training diverged ({hint})")]
    Diverged {
        /// The update number.
        step: u64,
        /// The loss value, as text.
        loss: String,
        /// What to try.
        hint: String,
    },
}
