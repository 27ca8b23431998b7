//! Errors of graph construction, shape inference and autodiff.

use thiserror::Error;

/// Why a graph could not be built or differentiated.
///
/// Every variant names what was wrong: the op, the shapes it got and what it expected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GraphError {
    /// An op's inputs have the wrong count, dtype or shape.
    #[error("{op}: got {inputs}; expected {expected}")]
    BadInputs {
        /// The op (with its attributes).
        op: String,
        /// The inputs it received, named and typed (`x: f32[2, 3], w: f32[4, 5]`).
        inputs: String,
        /// What the op needs.
        expected: String,
    },
    /// An op's attribute is out of range (zero stride, odd RoPE width, bad axis, …).
    #[error("{op}: {message}")]
    BadAttribute {
        /// The op.
        op: String,
        /// What is wrong with the attribute.
        message: String,
    },
    /// A value whose element count overflows 64-bit sizes (a model far too large to build).
    #[error("{what} has shape {shape:?}, more elements than 64-bit sizes can count; use smaller dimensions")]
    TooLarge {
        /// The input (`input `x``) or op producing the value.
        what: String,
        /// The shape.
        shape: Vec<usize>,
    },
    /// A value id that this graph never produced.
    #[error("value %{0} does not exist in this graph")]
    UnknownValue(usize),
    /// Two graph inputs (data or parameter) with the same name.
    #[error("a graph input named `{0}` already exists")]
    DuplicateInput(String),
    /// Two graph outputs with the same name.
    #[error("a graph output named `{0}` already exists")]
    DuplicateOutput(String),
    /// A graph input or output name that is empty or contains whitespace.
    #[error("invalid name `{0}`: names must be non-empty and contain no whitespace")]
    BadName(String),
    /// Looking up an output that the graph does not have.
    #[error("the graph has no output named `{0}`")]
    UnknownOutput(String),
    /// Looking up an input that the graph does not have.
    #[error("the graph has no input named `{0}`")]
    UnknownInput(String),
    /// The value to differentiate is not an f32 scalar.
    #[error("autodiff: the loss `{name}` must be an f32 scalar (shape []), got {ty}")]
    LossNotScalar {
        /// Output name of the loss.
        name: String,
        /// Its type.
        ty: String,
    },
    /// A gradient was requested through an op that has no gradient rule.
    #[error("autodiff: `{op}` has no gradient rule (backward ops are not differentiated again)")]
    NoGradientRule {
        /// The op.
        op: String,
    },
    /// A gradient was requested for an input that cannot have one.
    #[error("autodiff: cannot take the gradient with respect to `{name}`: {reason}")]
    NotDifferentiable {
        /// The input name.
        name: String,
        /// Why not.
        reason: String,
    },
}
