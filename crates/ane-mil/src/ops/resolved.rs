//! The input form of inference: each argument's type, whether it is a compile-time constant, and its
//! value when that value is known (shapes of `reshape`, `slice_by_index`, `conv`, … depend on it).

use crate::dtype::DType;
use crate::types::TensorType;
use crate::value::TensorValue;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Whether a value is known at compile time.
///
/// ane-trainer's rule (stricter than coremltools, which also treats any op whose inputs are all
/// constant as constant): a value is constant when it is an inline literal, the output of a `const`
/// op, or the output of a `constexpr_*` op. Only the first two have a value that inference can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constness {
    /// Computed at run time (function parameters, outputs of ordinary ops).
    Runtime,
    /// An inline literal or the output of `const` (its value may still be unreadable when stored
    /// in a weight blob file).
    Const,
    /// The output of a `constexpr_*` op: constant, but its value is only materialized at load time.
    Constexpr,
}

impl Constness {
    /// True for [`Constness::Const`] and [`Constness::Constexpr`].
    pub fn is_const(self) -> bool {
        !matches!(self, Constness::Runtime)
    }
}

/// One resolved argument value.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedArg<'a> {
    /// Its type.
    pub ty: TensorType,
    /// Whether it is a compile-time constant.
    pub constness: Constness,
    /// Its value, when known (inline literal or `const` with an inline value).
    pub value: Option<Cow<'a, TensorValue>>,
}

impl<'a> ResolvedArg<'a> {
    /// A runtime value of type `ty`.
    pub fn runtime(ty: TensorType) -> Self {
        ResolvedArg {
            ty,
            constness: Constness::Runtime,
            value: None,
        }
    }

    /// A constant with a known value (its type is the value's type).
    pub fn known(value: Cow<'a, TensorValue>) -> Self {
        ResolvedArg {
            ty: value.ty.clone(),
            constness: Constness::Const,
            value: Some(value),
        }
    }

    /// A constant of type `ty` whose value inference cannot read (a weight blob reference or a
    /// `constexpr_*` output).
    pub fn opaque_const(ty: TensorType, constness: Constness) -> Self {
        ResolvedArg {
            ty,
            constness,
            value: None,
        }
    }
}

/// An argument: a single value or a tuple (variadic inputs).
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedInput<'a> {
    /// A single value.
    Single(ResolvedArg<'a>),
    /// A tuple of values.
    Tuple(Vec<ResolvedArg<'a>>),
}

impl<'a> ResolvedInput<'a> {
    /// The single value, if this is not a tuple.
    pub fn single(&self) -> Option<&ResolvedArg<'a>> {
        match self {
            ResolvedInput::Single(a) => Some(a),
            ResolvedInput::Tuple(_) => None,
        }
    }

    /// The dtype of the value (of the first element for a tuple).
    pub fn dtype(&self) -> Option<DType> {
        match self {
            ResolvedInput::Single(a) => Some(a.ty.dtype),
            ResolvedInput::Tuple(items) => items.first().map(|a| a.ty.dtype),
        }
    }
}

/// All arguments of one op, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResolvedInputs<'a> {
    args: BTreeMap<String, ResolvedInput<'a>>,
}

impl<'a> ResolvedInputs<'a> {
    /// No arguments.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) argument `name`.
    pub fn insert(&mut self, name: impl Into<String>, input: ResolvedInput<'a>) {
        self.args.insert(name.into(), input);
    }

    /// Adds a single-valued argument; chains for tests and callers building by hand.
    pub fn with(mut self, name: impl Into<String>, arg: ResolvedArg<'a>) -> Self {
        self.insert(name, ResolvedInput::Single(arg));
        self
    }

    /// Adds a tuple argument.
    pub fn with_tuple(mut self, name: impl Into<String>, args: Vec<ResolvedArg<'a>>) -> Self {
        self.insert(name, ResolvedInput::Tuple(args));
        self
    }

    /// Argument `name`.
    pub fn get(&self, name: &str) -> Option<&ResolvedInput<'a>> {
        self.args.get(name)
    }

    /// True when argument `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.args.contains_key(name)
    }

    /// The argument names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.args.keys().map(String::as_str)
    }
}
