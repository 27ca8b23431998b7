//! The simulator's error type: everything that can go wrong preparing or running a program.
//! Every error is a value naming what failed; the simulator never panics on user input.

use ane_mil::blob::BlobRefError;
use ane_mil::validate::ValidationErrors;

/// Why a program could not be prepared, fed, run or read.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The program does not validate (`ane_mil::validate::validate`).
    #[error("the program does not validate:\n{0}")]
    Invalid(ValidationErrors),
    /// Some `BLOBFILE` reference does not resolve in the weight files.
    #[error("{} weight reference(s) do not resolve:\n{}", .0.len(), join_lines(.0))]
    WeightRefs(Vec<BlobRefError>),
    /// The program breaks hardware rules of the chip the simulator stands in for
    /// ([`SimOptions::hardware_rules`](crate::SimOptions::hardware_rules)).
    #[error(
        "the Neural Engine would refuse this kernel ({} rule(s) broken):\n{}\n(the simulator \
         enforces the ANE's rules for ANE-placed kernels; ANE_TRAINER_SIM_RULES=off lifts them \
         for experiments)",
        .0.len(),
        join_lines(.0)
    )]
    HardwareRules(Vec<ane_mil::chip::LintError>),
    /// The requested function does not exist.
    #[error("the program has no function `{name}` (functions: {available})")]
    NoFunction {
        /// The requested name.
        name: String,
        /// The functions that exist, comma-separated.
        available: String,
    },
    /// A valid program uses something the simulator cannot execute (unknown dims, run-time
    /// values that decide shapes, string tensors, …).
    #[error("{op}: {message}")]
    Unsupported {
        /// The op (`"name" (op_type)`) or value concerned.
        op: String,
        /// What is not supported.
        message: String,
    },
    /// A run-time error of one op (an index out of range, an integer division by zero).
    #[error("{op}: {message}")]
    Run {
        /// The op (`"name" (op_type)`).
        op: String,
        /// What went wrong.
        message: String,
    },
    /// Data given for an input does not fit it (size, dtype).
    #[error("input `{name}`: {message}")]
    Input {
        /// The input's name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// An output cannot be read the way it was asked for.
    #[error("output `{name}`: {message}")]
    Output {
        /// The output's name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// No input or output with this name or index.
    #[error("no {what} {key} (the program has: {available})")]
    NoSuchPort {
        /// `input` or `output`.
        what: &'static str,
        /// The name (quoted) or index asked for.
        key: String,
        /// The names that exist, comma-separated.
        available: String,
    },
    /// A tensor, or the whole program, needs more memory than there is (or than 64-bit sizes can
    /// count); nothing of that size was allocated.
    #[error("{what}: {message}")]
    TooLarge {
        /// The tensor (`input `x``, `"y" (matmul)`) or `the program`.
        what: String,
        /// The sizes involved and what to do.
        message: String,
    },
    /// A broken invariant of the simulator itself (a bug, reported instead of panicking).
    #[error("internal simulator error: {0}")]
    Internal(String),
}

fn join_lines<E: std::fmt::Display>(errors: &[E]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// An error raised inside a kernel; the run loop adds the op's label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KernelError {
    /// Bad run-time data (index out of range, …).
    Data(String),
    /// A broken invariant (wrong buffer kind, …).
    Internal(String),
}

impl KernelError {
    /// The error as a [`SimError`] about op `label`.
    pub(crate) fn into_sim(self, label: &str) -> SimError {
        match self {
            KernelError::Data(message) => SimError::Run {
                op: label.to_string(),
                message,
            },
            KernelError::Internal(m) => SimError::Internal(format!("{label}: {m}")),
        }
    }
}
