//! The two data types every primitive speaks: a borrowed, shape-checked view ([`TensorRef`])
//! and an owned result ([`Tensor`]). Both are row-major.

use crate::error::CpuError;
use crate::shape::num_elements;

/// A row-major tensor borrowed from a slice, whose length is known to match its shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorRef<'a, T> {
    data: &'a [T],
    shape: &'a [usize],
}

impl<'a, T> TensorRef<'a, T> {
    /// A view of `data` as `shape`; fails unless `data.len()` is the product of `shape`.
    pub fn new(data: &'a [T], shape: &'a [usize]) -> Result<Self, CpuError> {
        let expected = num_elements("tensor view", shape)?;
        if data.len() != expected {
            return Err(CpuError::LengthMismatch {
                op: "tensor view",
                len: data.len(),
                shape: shape.to_vec(),
                expected,
            });
        }
        Ok(TensorRef { data, shape })
    }

    /// The elements, row-major.
    pub fn data(&self) -> &'a [T] {
        self.data
    }

    /// The shape (empty for a scalar).
    pub fn shape(&self) -> &'a [usize] {
        self.shape
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor has no elements (some dimension is 0).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// An owned row-major tensor: the result of a primitive.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor<T> {
    pub data: Vec<T>,
    pub shape: Vec<usize>,
}

impl<T> Tensor<T> {
    /// A tensor from parts; fails unless `data.len()` is the product of `shape`.
    pub fn new(data: Vec<T>, shape: Vec<usize>) -> Result<Self, CpuError> {
        TensorRef::new(&data, &shape)?;
        Ok(Tensor { data, shape })
    }

    /// A borrowed view.
    pub fn view(&self) -> TensorRef<'_, T> {
        TensorRef {
            data: &self.data,
            shape: &self.shape,
        }
    }
}
