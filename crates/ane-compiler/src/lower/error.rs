//! Why a kernel could not be lowered.

use crate::abi::PackingError;
use crate::error::GraphError;
use ane_mil::builder::BuildError;
use thiserror::Error;

/// Why [`lower_kernel`](super::lower_kernel) failed.
///
/// The partitioner reacts to these: [`LowerError::Unsupported`] and [`LowerError::AxisTooLarge`]
/// mean "place this elsewhere or split it", [`LowerError::Packing`] means "split the kernel or use
/// [`Abi::MultiInput`](super::Abi::MultiInput)". The other variants are bugs in the caller's spec
/// (or in the lowering) and name what is wrong.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LowerError {
    /// The kernel spec is inconsistent with its graph (unknown node, a node reading a value that
    /// is neither a boundary input nor produced earlier in the kernel, …).
    #[error("bad kernel spec: {0}")]
    BadSpec(String),
    /// An op cannot be lowered under these options (e.g. it needs integer inputs, which exist only
    /// in fp32 host kernels, or it is computed by the executor).
    #[error("{op} cannot be lowered into a {target} kernel: {reason}")]
    Unsupported {
        /// The op, with its attributes.
        op: String,
        /// The kernel configuration (`fp16 packed`, …).
        target: String,
        /// Why, and where it can run instead.
        reason: String,
    },
    /// Some tensor of the kernel has an axis larger than the chip allows.
    #[error(
        "{what} has shape {shape}: axis size {size} exceeds the per-axis limit {limit} of this \
         chip (split the kernel or reduce the batch)"
    )]
    AxisTooLarge {
        /// The MIL value (and the op producing it).
        what: String,
        /// Its shape.
        shape: String,
        /// The offending size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The boundary tensors cannot be packed into one input and one output buffer.
    #[error(transparent)]
    Packing(#[from] PackingError),
    /// The MIL builder rejected an op the lowering emitted (a bug in the lowering).
    #[error("lowering {op}: {source}")]
    Build {
        /// The IR op being lowered, or the ABI step.
        op: String,
        /// The builder's error.
        source: Box<BuildError>,
    },
    /// The graph itself is inconsistent.
    #[error(transparent)]
    Graph(#[from] GraphError),
}
