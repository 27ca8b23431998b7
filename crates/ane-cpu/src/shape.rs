//! Shape arithmetic shared by the primitives: element counts, row-major strides, axis
//! normalization and numpy broadcasting.

use crate::error::CpuError;

/// Product of the dimensions (1 for a scalar); an error if it overflows `usize`.
pub fn num_elements(op: &'static str, shape: &[usize]) -> Result<usize, CpuError> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| CpuError::invalid(op, format!("shape {shape:?} has too many elements")))
}

/// Row-major strides, in elements (the last dimension has stride 1).
pub fn row_major_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1].saturating_mul(shape[i + 1]);
    }
    strides
}

/// Maps a possibly negative axis into `0..rank`.
pub fn normalize_axis(op: &'static str, axis: isize, rank: usize) -> Result<usize, CpuError> {
    let r = rank as isize;
    if axis < -r || axis >= r {
        return Err(CpuError::invalid(
            op,
            format!("axis {axis} is out of range for rank {rank}"),
        ));
    }
    Ok(if axis < 0 {
        (axis + r) as usize
    } else {
        axis as usize
    })
}

/// Normalizes a list of axes, sorts it and rejects duplicates.
pub fn normalize_axes(
    op: &'static str,
    axes: &[isize],
    rank: usize,
) -> Result<Vec<usize>, CpuError> {
    let mut out = axes
        .iter()
        .map(|&a| normalize_axis(op, a, rank))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_unstable();
    if out.windows(2).any(|w| w[0] == w[1]) {
        return Err(CpuError::invalid(
            op,
            format!("axes {axes:?} repeat an axis"),
        ));
    }
    Ok(out)
}

/// The numpy broadcast of two shapes: right-aligned, missing leading dims are 1, a dim of 1
/// stretches, other dims must match.
pub fn broadcast_shapes(
    op: &'static str,
    a: &[usize],
    b: &[usize],
) -> Result<Vec<usize>, CpuError> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for (i, slot) in out.iter_mut().enumerate() {
        let da = dim_from_right(a, rank - 1 - i);
        let db = dim_from_right(b, rank - 1 - i);
        *slot = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(CpuError::Broadcast {
                    op,
                    a: a.to_vec(),
                    b: b.to_vec(),
                })
            }
        };
    }
    Ok(out)
}

/// The strides with which an input of `shape` is read when broadcast to `out_shape`
/// (right-aligned; 0 for stretched or missing dims). `shape` must broadcast to `out_shape`.
pub fn broadcast_strides(shape: &[usize], out_shape: &[usize]) -> Vec<usize> {
    let own = row_major_strides(shape);
    let offset = out_shape.len() - shape.len();
    (0..out_shape.len())
        .map(|i| {
            if i < offset || shape[i - offset] == 1 {
                0
            } else {
                own[i - offset]
            }
        })
        .collect()
}

/// Views a tensor of `shape` as `[outer, reduced, inner]` when the (sorted) `axes` form one
/// contiguous block once size-1 dims are ignored; `None` otherwise.
pub fn reduction_view(shape: &[usize], axes: &[usize]) -> Option<(usize, usize, usize)> {
    let real_reduced: Vec<usize> = axes.iter().copied().filter(|&a| shape[a] != 1).collect();
    let (Some(&first), Some(&last)) = (real_reduced.first(), real_reduced.last()) else {
        // Nothing of size > 1 is reduced.
        return Some((shape.iter().product(), 1, 1));
    };
    let gap = (first..=last).any(|d| shape[d] != 1 && !axes.contains(&d));
    if gap {
        return None;
    }
    Some((
        shape[..first].iter().product(),
        shape[first..=last].iter().product(),
        shape[last + 1..].iter().product(),
    ))
}

/// The shape after reducing `axes` (sorted): those dims become 1 (`keep_dims`) or vanish.
pub fn reduced_shape(shape: &[usize], axes: &[usize], keep_dims: bool) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .filter_map(|(d, &n)| match (axes.contains(&d), keep_dims) {
            (false, _) => Some(n),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// The dimension `k` places from the right (0 = last), 1 when the shape is too short.
fn dim_from_right(shape: &[usize], k: usize) -> usize {
    if k < shape.len() {
        shape[shape.len() - 1 - k]
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(
            broadcast_shapes("t", &[10, 4, 3], &[5, 10, 1, 3]).unwrap(),
            vec![5, 10, 4, 3]
        );
        assert_eq!(broadcast_shapes("t", &[], &[2, 3]).unwrap(), vec![2, 3]);
        assert_eq!(broadcast_shapes("t", &[0, 1], &[1, 4]).unwrap(), vec![0, 4]);
        assert!(broadcast_shapes("t", &[2, 3], &[3, 3]).is_err());
        assert_eq!(broadcast_strides(&[4, 1], &[2, 4, 5]), vec![0, 1, 0]);
    }

    #[test]
    fn axes_are_normalized_and_checked() {
        assert_eq!(normalize_axes("t", &[-1, 0], 3).unwrap(), vec![0, 2]);
        assert!(normalize_axes("t", &[1, -2], 3).is_err());
        assert!(normalize_axis("t", 3, 3).is_err());
        assert!(normalize_axis("t", -4, 3).is_err());
        assert!(num_elements("t", &[usize::MAX, 2]).is_err());
    }

    #[test]
    fn reduction_views_ignore_size_one_dims() {
        assert_eq!(reduction_view(&[2, 3, 4], &[1]), Some((2, 3, 4)));
        assert_eq!(reduction_view(&[2, 3, 1, 4], &[1, 3]), Some((2, 12, 1)));
        assert_eq!(reduction_view(&[2, 3, 4], &[0, 2]), None);
        assert_eq!(reduction_view(&[2, 1, 4], &[1]), Some((8, 1, 1)));
        assert_eq!(reduction_view(&[2, 3, 4], &[0, 1, 2]), Some((1, 24, 1)));
        assert_eq!(reduced_shape(&[2, 3, 4], &[0, 2], true), vec![1, 3, 1]);
        assert_eq!(reduced_shape(&[2, 3, 4], &[0, 2], false), vec![3]);
    }
}
