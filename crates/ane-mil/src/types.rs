//! Value types: tensors of a dtype and shape (rank 0 is a scalar), dictionaries and tuples.

use crate::dtype::DType;
use std::fmt;

/// One dimension of a tensor shape: a known size or `?` (unknown / flexible).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dim {
    Known(usize),
    Unknown,
}

impl Dim {
    /// The size if known.
    pub fn known(self) -> Option<usize> {
        match self {
            Dim::Known(n) => Some(n),
            Dim::Unknown => None,
        }
    }
}

impl From<usize> for Dim {
    fn from(n: usize) -> Self {
        Dim::Known(n)
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Known(n) => write!(f, "{n}"),
            Dim::Unknown => f.write_str("?"),
        }
    }
}

/// The highest tensor rank MIL programs may use here (Core ML supports up to rank 5).
pub const MAX_RANK: usize = 5;

/// A tensor type: dtype plus shape. Rank 0 is a scalar (`int32` in the 1.3 dialect,
/// `tensor<int32, []>` in the 1.0 dialect).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TensorType {
    pub dtype: DType,
    pub shape: Vec<Dim>,
}

impl TensorType {
    /// A tensor of known shape.
    pub fn new(dtype: DType, shape: impl IntoIterator<Item = usize>) -> Self {
        TensorType {
            dtype,
            shape: shape.into_iter().map(Dim::Known).collect(),
        }
    }

    /// A rank-0 scalar.
    pub fn scalar(dtype: DType) -> Self {
        TensorType {
            dtype,
            shape: Vec::new(),
        }
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// True for rank 0.
    pub fn is_scalar(&self) -> bool {
        self.shape.is_empty()
    }

    /// The shape as sizes, if every dimension is known.
    pub fn known_shape(&self) -> Option<Vec<usize>> {
        self.shape.iter().map(|d| d.known()).collect()
    }

    /// Number of elements, if every dimension is known (1 for a scalar).
    pub fn num_elements(&self) -> Option<usize> {
        self.known_shape()
            .and_then(|s| s.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)))
    }
}

impl fmt::Display for TensorType {
    /// Prints in the 1.0 (always-tensor) spelling, e.g. `tensor<fp16, [1, ?, 4]>`; the printer
    /// module decides the dialect-specific scalar spelling.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tensor<{}, [", self.dtype)?;
        for (i, d) in self.shape.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]>")
    }
}

/// The type of any value that can appear in a program.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// A tensor (rank ≥ 1) or a scalar (rank 0).
    Tensor(TensorType),
    /// `dict<K, V>` (used for the `buildInfo` program attribute).
    Dict(Box<ValueType>, Box<ValueType>),
    /// `tuple<T0, T1, …>`.
    Tuple(Vec<ValueType>),
}

impl ValueType {
    /// The tensor type, if this is a tensor or scalar.
    pub fn as_tensor(&self) -> Option<&TensorType> {
        match self {
            ValueType::Tensor(t) => Some(t),
            _ => None,
        }
    }
}

impl From<TensorType> for ValueType {
    fn from(t: TensorType) -> Self {
        ValueType::Tensor(t)
    }
}
