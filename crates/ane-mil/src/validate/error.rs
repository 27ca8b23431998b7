//! Validation errors: a kind (for callers and tests), the source position and a readable message.

use crate::ops::InferError;
use crate::program::SourcePos;
use std::fmt;

/// What kind of problem a [`ValidationError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValidationErrorKind {
    /// An op type that exists in no opset.
    UnknownOp,
    /// An op used in an opset that does not have it yet.
    NotInOpset,
    /// A required argument is absent.
    MissingArgument,
    /// An argument or attribute the op does not take.
    UnknownArgument,
    /// A tuple where a single value belongs, or the reverse.
    ArgumentForm,
    /// A dtype outside the argument's domain, or two arguments of one domain letter disagreeing.
    DTypeMismatch,
    /// Shapes or ranks that do not fit the op's rules.
    ShapeMismatch,
    /// A runtime value where a compile-time constant is required.
    NotConst,
    /// An argument value the op rejects (out-of-range axis, unknown mode, …).
    InvalidValue,
    /// A literal whose elements do not match its type.
    MalformedLiteral,
    /// A name that is used before (or without) being defined.
    UndefinedIdentifier,
    /// A name defined twice in one function (parameters, outputs, op names), or a function twice.
    DuplicateIdentifier,
    /// A name that is not a valid MIL identifier.
    InvalidIdentifier,
    /// A function output (`-> (...)`) that is not defined.
    UndefinedOutput,
    /// A function without outputs.
    NoOutputs,
    /// A program without functions.
    NoFunctions,
    /// An op's declared output type disagrees with the inferred type.
    OutputTypeMismatch,
    /// An op declares a different number of outputs than it produces.
    OutputCount,
    /// A `const` without `val`, or whose `val` disagrees with its declared type.
    ConstValue,
    /// An op without a `name = string(...)` attribute.
    MissingName,
    /// A `BLOBFILE` reference that does not resolve in the weight files (missing file, no record
    /// at the offset, wrong dtype or size).
    BlobReference,
    /// A value type the program model allows but ops cannot use (non-tensor parameters, rank > 5).
    UnsupportedType,
}

impl ValidationErrorKind {
    /// The kind matching an inference error.
    pub fn of_infer_error(e: &InferError) -> Self {
        match e {
            InferError::UnknownOp { .. } => ValidationErrorKind::UnknownOp,
            InferError::NotInOpset { .. } => ValidationErrorKind::NotInOpset,
            InferError::MissingArgument { .. } => ValidationErrorKind::MissingArgument,
            InferError::UnknownArgument { .. } => ValidationErrorKind::UnknownArgument,
            InferError::ArgumentForm { .. } => ValidationErrorKind::ArgumentForm,
            InferError::DTypeNotAllowed { .. } | InferError::DTypeMismatch { .. } => {
                ValidationErrorKind::DTypeMismatch
            }
            InferError::NotConst { .. } => ValidationErrorKind::NotConst,
            InferError::Rank { .. } | InferError::Shape { .. } => {
                ValidationErrorKind::ShapeMismatch
            }
            InferError::InvalidValue { .. } => ValidationErrorKind::InvalidValue,
        }
    }
}

/// One problem in a program.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationError {
    /// Where the offending op, parameter or function starts (`?:?` for programs built in memory).
    pub pos: SourcePos,
    /// What kind of problem.
    pub kind: ValidationErrorKind,
    /// A message naming the op, argument and types involved.
    pub message: String,
}

impl ValidationError {
    /// A new error.
    pub fn new(pos: SourcePos, kind: ValidationErrorKind, message: impl Into<String>) -> Self {
        ValidationError {
            pos,
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// Every problem found in a program; displays one `line:col: message` per line.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    /// `Ok` when there are no errors.
    pub fn result(errors: Vec<ValidationError>) -> Result<(), ValidationErrors> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errors))
        }
    }

    /// The errors.
    pub fn errors(&self) -> &[ValidationError] {
        &self.0
    }

    /// True when some error is of `kind`.
    pub fn has(&self, kind: ValidationErrorKind) -> bool {
        self.0.iter().any(|e| e.kind == kind)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}
