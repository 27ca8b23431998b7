//! Errors of building a program.

use crate::ops::InferError;
use crate::program::Opset;
use crate::types::TensorType;
use crate::validate::ValidationErrors;
use thiserror::Error;

/// Why an op could not be added or a function/program could not be finished.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BuildError {
    /// The op's arguments do not fit its signature or shape rules.
    #[error(transparent)]
    Infer(#[from] InferError),
    /// A name that is not a MIL identifier.
    #[error("`{name}` is not a valid identifier ([A-Za-z_][A-Za-z0-9_@]*)")]
    InvalidIdentifier {
        /// The name.
        name: String,
    },
    /// A name already defined in the function.
    #[error("`{name}` is already defined in function `{function}`")]
    DuplicateName {
        /// The name.
        name: String,
        /// The function.
        function: String,
    },
    /// A [`super::Var`] that does not belong to this function (or has a different type here).
    #[error("`{name}` ({ty}) is not a value of function `{function}`")]
    ForeignVar {
        /// Its name.
        name: String,
        /// Its type.
        ty: TensorType,
        /// The function.
        function: String,
    },
    /// The same argument was passed twice.
    #[error("{op}: argument `{arg}` is given twice")]
    DuplicateArgument {
        /// The op type.
        op: String,
        /// The argument.
        arg: String,
    },
    /// A literal that cannot be emitted as given.
    #[error("{op}: argument `{arg}`: {message}")]
    InvalidLiteral {
        /// The op type.
        op: String,
        /// The argument.
        arg: String,
        /// What is wrong.
        message: String,
    },
    /// A size or index that does not fit the `int32` MIL uses.
    #[error("{what} = {value} does not fit in int32")]
    OutOfRange {
        /// What the value is.
        what: String,
        /// The value.
        value: i128,
    },
    /// A typed helper expected one output.
    #[error("{op} produced {count} outputs where one was expected")]
    OutputCount {
        /// The op type.
        op: String,
        /// How many it produced.
        count: usize,
    },
    /// A function whose opset differs from the program dialect's.
    #[error("function `{function}` uses opset {opset}, but the dialect needs {expected}")]
    OpsetMismatch {
        /// The function.
        function: String,
        /// Its opset.
        opset: Opset,
        /// The dialect's opset.
        expected: Opset,
    },
    /// The finished function or program does not validate.
    #[error("the built program does not validate:\n{0}")]
    Invalid(ValidationErrors),
}
