//! The op conformance suite: every kind of kernel the compiler sends to the ANE, at small
//! ANE-shaped sizes, run on any [`Device`](ane_device::Device) and compared with the f64
//! reference evaluator and, when two devices are at hand, with each other. `ane-trainer doctor`
//! runs it on the simulator everywhere and on the Neural Engine on a Mac.
//!
//! It lives here because it joins the compiler (kernels) and devices, which know nothing of each
//! other (DESIGN.md §3).
//!
//! - [`cases`]: the catalog (one small graph per kernel kind);
//! - [`kernel`]: lowering a case with `LowerOptions::ane(dialect)` (fp16, Packed ABI — exactly
//!   what the ANE sees), deterministic fp16 inputs, the f64 reference outputs;
//! - [`run`]: pack → device → unpack through the kernel ABI;
//! - [`compare`]: error measures and the fp16 [`Tolerance`];
//! - [`suite`]: a whole device pass, cross-device comparison, summaries;
//! - [`dump`]: writing kernels out for bug reports;
//! - [`probes`]: kernels at and past the hardware rules' edges, whose ANE verdicts tell which rules
//!   to relax or keep.

pub mod cases;
pub mod compare;
pub mod dump;
pub mod error;
pub mod kernel;
pub mod probes;
pub mod run;
pub mod suite;

pub use compare::{measure, ErrorStats, Tolerance};
pub use error::ConformanceError;
pub use kernel::{
    build_kernel, build_kernel_with, build_suite, dialect_name, ConformanceKernel, DEFAULT_SEED,
};
pub use run::run_kernel;
pub use suite::{compare_runs, run_suite, summarize, DeviceRun, KernelResult, Summary};

#[cfg(test)]
mod tests;
