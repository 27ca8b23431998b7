//! The evaluator's tensor: a shape and row-major f64 data (i32 values are stored exactly as f64).

use crate::shape::Shape;

/// A dense row-major tensor of f64 values.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Shape,
    data: Vec<f64>,
}

impl Tensor {
    /// A tensor from its shape and data; `None` if the lengths disagree.
    pub fn new(shape: impl Into<Shape>, data: Vec<f64>) -> Option<Self> {
        let shape = shape.into();
        (shape.numel() == data.len()).then_some(Tensor { shape, data })
    }

    /// A tensor of zeros.
    pub fn zeros(shape: impl Into<Shape>) -> Self {
        let shape = shape.into();
        let data = vec![0.0; shape.numel()];
        Tensor { shape, data }
    }

    /// A rank-0 tensor.
    pub fn scalar(value: f64) -> Self {
        Tensor {
            shape: Shape::scalar(),
            data: vec![value],
        }
    }

    /// A tensor of integer ids (labels, tokens); `None` if the lengths disagree.
    pub fn from_ids(shape: impl Into<Shape>, ids: &[i32]) -> Option<Self> {
        Tensor::new(shape, ids.iter().map(|&i| i as f64).collect())
    }

    /// A tensor from f32 data; `None` if the lengths disagree.
    pub fn from_f32(shape: impl Into<Shape>, data: &[f32]) -> Option<Self> {
        Tensor::new(shape, data.iter().map(|&v| v as f64).collect())
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The elements in row-major order.
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// Mutable access to the elements.
    pub fn data_mut(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// The single element of a one-element tensor (e.g. a loss).
    pub fn item(&self) -> Option<f64> {
        (self.data.len() == 1).then(|| self.data[0])
    }

    /// The elements as f32 (rounded).
    pub fn to_f32(&self) -> Vec<f32> {
        self.data.iter().map(|&v| v as f32).collect()
    }

    /// Crate-internal constructor for results whose length is correct by construction.
    pub(crate) fn from_parts(shape: Shape, data: Vec<f64>) -> Self {
        debug_assert_eq!(shape.numel(), data.len());
        Tensor { shape, data }
    }
}
