//! Index arithmetic for the evaluator: unravelling flat indices and splitting shapes around an axis.

use crate::shape::Shape;

/// The multi-index of flat row-major position `flat` in `shape`.
pub fn unravel(mut flat: usize, shape: &Shape) -> Vec<usize> {
    let mut index = vec![0; shape.rank()];
    for axis in (0..shape.rank()).rev() {
        let d = shape.dims()[axis];
        index[axis] = flat % d;
        flat /= d;
    }
    index
}

/// The flat position of `index` given row-major `strides`.
pub fn ravel(index: &[usize], strides: &[usize]) -> usize {
    index.iter().zip(strides).map(|(i, s)| i * s).sum()
}

/// `(outer, len, inner)`: the products of the sizes before `axis`, at it, and after it, so element
/// `(o, i, j)` sits at `(o·len + i)·inner + j`.
pub fn split_at_axis(shape: &Shape, axis: usize) -> (usize, usize, usize) {
    let dims = shape.dims();
    let outer = dims[..axis].iter().product();
    let inner = dims[axis + 1..].iter().product();
    (outer, dims[axis], inner)
}

/// The flat offset in a tensor of shape `from` (numpy-broadcast to the rank of `index`) of the
/// element that broadcasting maps to output position `index`.
pub fn broadcast_offset(index: &[usize], from: &Shape, from_strides: &[usize]) -> usize {
    let missing = index.len() - from.rank();
    from.dims()
        .iter()
        .enumerate()
        .map(|(axis, &d)| {
            if d == 1 {
                0
            } else {
                index[missing + axis] * from_strides[axis]
            }
        })
        .sum()
}

/// Rows of the last axis: `(rows, width)` for a shape `[..., width]` (a scalar is one row of one).
pub fn rows_of_last_axis(shape: &Shape) -> (usize, usize) {
    match shape.last() {
        Some(w) if w > 0 => (shape.numel() / w, w),
        Some(_) => (0, 0),
        None => (1, 1),
    }
}
