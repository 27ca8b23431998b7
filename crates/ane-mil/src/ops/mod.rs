//! Ops as data: the signature of every MIL op ane-trainer reads or writes, per opset revision
//! (`signature`, `all_op_types`), and type/shape inference over those signatures (`infer`).
//!
//! The tables cover mil-ops.md §1. A signature lists each argument's presence (required, defaulted,
//! omittable), const-ness, tuple form, dtypes with shared domain letters and rank; its shape rule
//! computes the output types from the argument types and whatever constant values are known.

mod check;
mod context;
pub mod defs;
mod error;
mod registry;
mod resolved;
pub mod shape;
mod signature;

pub use context::InferCtx;
pub use error::InferError;
pub use registry::{all_op_types, all_signatures, lookup, revisions, signature};
pub use resolved::{Constness, ResolvedArg, ResolvedInput, ResolvedInputs};
pub use signature::{
    number_literal, DTypeDomain, DefaultValue, InputSpec, OpSignature, OperandForm, OutputCount,
    Presence, RankSpec, ShapeRule, MAX_DEFAULT_ELEMENTS,
};

pub(crate) use check::literal_problem;

use crate::program::Opset;
use crate::types::TensorType;

/// Checks `inputs` against the signature of `op_type` in `opset` and computes the output types
/// (several for `split`). Unknown dims (`?`) propagate; values that decide shapes (`reshape`'s
/// shape, `conv`'s strides, …) are read from the inputs' known constant values or the signature's
/// defaults.
pub fn infer(
    op_type: &str,
    opset: Opset,
    inputs: &ResolvedInputs<'_>,
) -> Result<Vec<TensorType>, InferError> {
    lookup(op_type, opset)?.infer(opset, inputs)
}
