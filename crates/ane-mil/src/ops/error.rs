//! Errors of signature checking and type/shape inference. Every message names the op and, where
//! there is one, the argument, and shows the offending types or values.

use crate::dtype::DType;
use crate::program::Opset;
use crate::types::TensorType;
use thiserror::Error;

/// Why an op's arguments do not fit its signature or its shape rules.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InferError {
    /// No op of this name exists in any opset.
    #[error("unknown op `{op}`")]
    UnknownOp {
        /// The op type.
        op: String,
    },
    /// The op exists, but only from a later opset.
    #[error("{op}: not available in opset {opset} (introduced in {since})")]
    NotInOpset {
        /// The op type.
        op: String,
        /// The requested opset.
        opset: Opset,
        /// The first opset that has it.
        since: Opset,
    },
    /// A required argument is absent.
    #[error("{op}: missing required argument `{arg}`")]
    MissingArgument {
        /// The op type.
        op: String,
        /// The argument name.
        arg: String,
    },
    /// The op has no argument of this name.
    #[error("{op}: unknown argument `{arg}`")]
    UnknownArgument {
        /// The op type.
        op: String,
        /// The argument name.
        arg: String,
    },
    /// A tuple where a single value was expected, or the reverse.
    #[error("{op}: argument `{arg}` must be {expected}")]
    ArgumentForm {
        /// The op type.
        op: String,
        /// The argument name.
        arg: String,
        /// What was expected ("a tuple of values", "a single value").
        expected: &'static str,
    },
    /// The argument's dtype is outside its domain.
    #[error("{op}: argument `{arg}` has dtype {dtype}, expected one of {}", dtype_list(.allowed))]
    DTypeNotAllowed {
        /// The op type.
        op: String,
        /// The argument name.
        arg: String,
        /// Its dtype.
        dtype: DType,
        /// The dtypes the signature accepts.
        allowed: Vec<DType>,
    },
    /// Two arguments sharing a domain letter have different dtypes.
    #[error(
        "{op}: arguments `{first}` ({first_dtype}) and `{second}` ({second_dtype}) must have the same dtype (domain {letter})"
    )]
    DTypeMismatch {
        /// The op type.
        op: String,
        /// The shared domain letter.
        letter: String,
        /// The argument that fixed the domain's dtype.
        first: String,
        /// Its dtype.
        first_dtype: DType,
        /// The disagreeing argument.
        second: String,
        /// Its dtype.
        second_dtype: DType,
    },
    /// A must-be-const argument is bound to a runtime value.
    #[error(
        "{op}: argument `{arg}` must be a compile-time constant (an inline literal or the output of a `const` or `constexpr_*` op)"
    )]
    NotConst {
        /// The op type.
        op: String,
        /// The argument name.
        arg: String,
    },
    /// The argument has the wrong rank.
    #[error("{op}: argument `{arg}` must be {expected}, got {ty}")]
    Rank {
        /// The op type.
        op: String,
        /// The argument name.
        arg: String,
        /// What the signature requires ("a scalar", …).
        expected: &'static str,
        /// The argument's type.
        ty: TensorType,
    },
    /// The argument's value is invalid (out-of-range axis, unknown mode string, …).
    #[error("{op}: argument `{arg}`: {message}")]
    InvalidValue {
        /// The op type.
        op: String,
        /// The argument name.
        arg: String,
        /// What is wrong.
        message: String,
    },
    /// The argument shapes do not fit together.
    #[error("{op}: {message}")]
    Shape {
        /// The op type.
        op: String,
        /// What is wrong, naming the arguments and their shapes.
        message: String,
    },
}

fn dtype_list(dtypes: &[DType]) -> String {
    let names: Vec<&str> = dtypes.iter().map(|d| d.name()).collect();
    format!("{{{}}}", names.join(", "))
}
