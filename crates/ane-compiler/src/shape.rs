//! Tensor shapes of graph values (logical, PyTorch-style: `[B, in]`, NCHW, `[B, S, D]`), the
//! value type (dtype + shape), broadcasting and axis normalisation.

use crate::dtype::DType;
use std::fmt;

/// The shape of a tensor: one size per axis; rank 0 is a scalar.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(Vec<usize>);

impl Shape {
    /// A shape from its sizes.
    pub fn new(dims: impl Into<Vec<usize>>) -> Self {
        Shape(dims.into())
    }

    /// The rank-0 (scalar) shape `[]`.
    pub fn scalar() -> Self {
        Shape(Vec::new())
    }

    /// The sizes, outermost first.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of axes.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements (1 for a scalar). Graphs only hold shapes whose count fits (see
    /// [`Shape::checked_numel`]), so this cannot overflow for a graph value.
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    /// Number of elements, `None` when it overflows `usize`.
    pub fn checked_numel(&self) -> Option<usize> {
        self.0.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
    }

    /// Bytes of a dense tensor of this shape with `element_bytes`-byte elements, `None` when it
    /// overflows 64 bits.
    pub fn checked_bytes(&self, element_bytes: u64) -> Option<u64> {
        self.0
            .iter()
            .try_fold(element_bytes, |acc, &d| acc.checked_mul(d as u64))
    }

    /// The size of the last axis, if the rank is at least 1.
    pub fn last(&self) -> Option<usize> {
        self.0.last().copied()
    }

    /// Row-major strides (in elements) of a dense tensor of this shape.
    pub fn strides(&self) -> Vec<usize> {
        let mut strides = vec![1; self.0.len()];
        for axis in (0..self.0.len().saturating_sub(1)).rev() {
            strides[axis] = strides[axis + 1] * self.0[axis + 1];
        }
        strides
    }
}

impl From<&[usize]> for Shape {
    fn from(dims: &[usize]) -> Self {
        Shape(dims.to_vec())
    }
}

impl From<Vec<usize>> for Shape {
    fn from(dims: Vec<usize>) -> Self {
        Shape(dims)
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(dims: [usize; N]) -> Self {
        Shape(dims.to_vec())
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

/// The type of a graph value: element type and shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ValueType {
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: Shape,
}

impl ValueType {
    /// An `f32` tensor of the given shape.
    pub fn f32(shape: impl Into<Shape>) -> Self {
        ValueType {
            dtype: DType::F32,
            shape: shape.into(),
        }
    }

    /// An `i32` tensor of the given shape.
    pub fn i32(shape: impl Into<Shape>) -> Self {
        ValueType {
            dtype: DType::I32,
            shape: shape.into(),
        }
    }
}

impl fmt::Display for ValueType {
    /// Prints as `f32[2, 3]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.dtype, self.shape)
    }
}

/// The numpy-style broadcast of two shapes (right-aligned; a size-1 axis stretches), or `None`
/// when some aligned pair of sizes differs and neither is 1.
pub fn broadcast_shapes(a: &Shape, b: &Shape) -> Option<Shape> {
    let rank = a.rank().max(b.rank());
    let mut out = Vec::with_capacity(rank);
    for axis in 0..rank {
        let da = aligned_dim(a, axis, rank);
        let db = aligned_dim(b, axis, rank);
        out.push(match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        });
    }
    Some(Shape(out))
}

/// The size of `shape` at axis `axis` once right-aligned to rank `rank` (1 for missing axes).
pub fn aligned_dim(shape: &Shape, axis: usize, rank: usize) -> usize {
    let missing = rank - shape.rank();
    if axis < missing {
        1
    } else {
        shape.dims()[axis - missing]
    }
}

/// Turns a possibly negative axis (`-1` = last) into an index below `rank`.
pub fn normalize_axis(axis: isize, rank: usize) -> Option<usize> {
    let r = rank as isize;
    let a = if axis < 0 { axis + r } else { axis };
    (0..r).contains(&a).then_some(a as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_follows_numpy_rules() {
        let s = |d: &[usize]| Shape::from(d);
        assert_eq!(broadcast_shapes(&s(&[2, 3]), &s(&[3])), Some(s(&[2, 3])));
        assert_eq!(
            broadcast_shapes(&s(&[4, 1, 5]), &s(&[3, 1])),
            Some(s(&[4, 3, 5]))
        );
        assert_eq!(broadcast_shapes(&s(&[]), &s(&[2, 2])), Some(s(&[2, 2])));
        assert_eq!(broadcast_shapes(&s(&[2, 3]), &s(&[2])), None);
    }

    #[test]
    fn strides_are_row_major() {
        assert_eq!(Shape::from([2, 3, 4]).strides(), vec![12, 4, 1]);
        assert_eq!(Shape::scalar().strides(), Vec::<usize>::new());
    }

    #[test]
    fn negative_axes_count_from_the_end() {
        assert_eq!(normalize_axis(-1, 3), Some(2));
        assert_eq!(normalize_axis(3, 3), None);
        assert_eq!(normalize_axis(-4, 3), None);
    }
}
