//! Moving data without arithmetic: N-D permutes (MIL `transpose`), cumulative sums along an
//! axis (MIL `cumsum`), and iteration over the input offsets of a broadcast (MIL `tile`-like
//! expansion, `broadcast_to`).
//!
//! `permute` first merges dimensions that stay adjacent and drops size-1 dims, then either
//! copies contiguous rows (when the last dimension stays last) or runs a cache-blocked 2-D
//! transpose between the input's and the output's contiguous dimensions. It is single-threaded:
//! it is memory-bound, and two cores share one memory bus.

use crate::error::CpuError;
use crate::shape::{
    broadcast_shapes, broadcast_strides, normalize_axis, num_elements, row_major_strides,
};
use crate::tensor::{Tensor, TensorRef};

/// `out.shape[i] = x.shape[perm[i]]`, `out[.., i_k, ..] = x[.., i_perm⁻¹, ..]` (numpy
/// `transpose(x, perm)`). `perm` must be a permutation of `0..rank`.
pub fn permute<T: Copy>(x: TensorRef<'_, T>, perm: &[usize]) -> Result<Tensor<T>, CpuError> {
    let rank = x.rank();
    let mut seen = vec![false; rank];
    let valid = perm.len() == rank
        && perm
            .iter()
            .all(|&p| p < rank && !std::mem::replace(&mut seen[p], true));
    if !valid {
        return Err(CpuError::invalid(
            "permute",
            format!(
                "{perm:?} is not a permutation of the {rank} axes of {:?}",
                x.shape()
            ),
        ));
    }
    let out_shape: Vec<usize> = perm.iter().map(|&p| x.shape()[p]).collect();
    let data = permute_data(x.data(), x.shape(), perm);
    Ok(Tensor {
        data,
        shape: out_shape,
    })
}

/// The inverse of a permutation (`inverse[perm[i]] = i`).
pub fn inverse_permutation(perm: &[usize]) -> Vec<usize> {
    let mut inverse = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inverse[p] = i;
    }
    inverse
}

/// Merges output dims whose input dims are adjacent too, drops size-1 dims. Returns the
/// reduced input shape and the reduced permutation.
fn coalesce_permutation(shape: &[usize], perm: &[usize]) -> (Vec<usize>, Vec<usize>) {
    // Groups of input axes, in output order, each group a run of consecutive input axes.
    let kept: Vec<usize> = perm.iter().copied().filter(|&p| shape[p] != 1).collect();
    let mut groups: Vec<(usize, usize)> = Vec::new(); // (first input axis, last input axis)
    for &p in &kept {
        match groups.last_mut() {
            Some((_, last)) if next_kept_axis(shape, *last) == Some(p) => *last = p,
            _ => groups.push((p, p)),
        }
    }
    // The groups sorted by input position give the reduced input shape.
    let mut by_input: Vec<usize> = (0..groups.len()).collect();
    by_input.sort_by_key(|&g| groups[g].0);
    let reduced_shape: Vec<usize> = by_input
        .iter()
        .map(|&g| (groups[g].0..=groups[g].1).map(|a| shape[a]).product())
        .collect();
    let position_of_group = inverse_permutation(&by_input);
    let reduced_perm: Vec<usize> = (0..groups.len()).map(|g| position_of_group[g]).collect();
    (reduced_shape, reduced_perm)
}

/// The next input axis after `axis` that is not size 1.
fn next_kept_axis(shape: &[usize], axis: usize) -> Option<usize> {
    (axis + 1..shape.len()).find(|&a| shape[a] != 1)
}

fn permute_data<T: Copy>(data: &[T], shape: &[usize], perm: &[usize]) -> Vec<T> {
    let (in_shape, perm) = coalesce_permutation(shape, perm);
    let r = in_shape.len();
    if data.is_empty() || r <= 1 || perm.iter().enumerate().all(|(i, &p)| i == p) {
        return data.to_vec();
    }
    let in_strides = row_major_strides(&in_shape);
    let out_shape: Vec<usize> = perm.iter().map(|&p| in_shape[p]).collect();
    // Input stride of each output dim.
    let strides: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let mut out = Vec::with_capacity(data.len());

    if perm[r - 1] == r - 1 {
        // The last dim stays last: copy contiguous rows.
        let row = out_shape[r - 1];
        let mut index = vec![0usize; r - 1];
        loop {
            let start: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
            out.extend_from_slice(&data[start..start + row]);
            if !advance(&mut index, &out_shape[..r - 1]) {
                break;
            }
        }
        return out;
    }

    // Blocked 2-D transpose between output dim `a` (the input's contiguous dim) and the
    // output's last dim, for every value of the remaining dims.
    out.resize(data.len(), data[0]);
    let a = perm.iter().position(|&p| p == r - 1).unwrap_or(0);
    let out_strides = row_major_strides(&out_shape);
    let (n_a, n_last) = (out_shape[a], out_shape[r - 1]);
    let (in_stride_last, out_stride_a) = (strides[r - 1], out_strides[a]);
    let others: Vec<usize> = (0..r - 1).filter(|&d| d != a).collect();
    let other_extents: Vec<usize> = others.iter().map(|&d| out_shape[d]).collect();
    let mut index = vec![0usize; others.len()];
    const BLOCK: usize = 32;
    loop {
        let (mut in_base, mut out_base) = (0, 0);
        for (k, &d) in others.iter().enumerate() {
            in_base += index[k] * strides[d];
            out_base += index[k] * out_strides[d];
        }
        for i0 in (0..n_a).step_by(BLOCK) {
            for j0 in (0..n_last).step_by(BLOCK) {
                for i in i0..(i0 + BLOCK).min(n_a) {
                    let dst = &mut out[out_base + i * out_stride_a..][..n_last];
                    for (j, d) in dst
                        .iter_mut()
                        .enumerate()
                        .take((j0 + BLOCK).min(n_last))
                        .skip(j0)
                    {
                        *d = data[in_base + i + j * in_stride_last];
                    }
                }
            }
        }
        if !advance(&mut index, &other_extents) {
            break;
        }
    }
    out
}

/// Odometer step over a multi-index; false after the last index (or for rank 0).
fn advance(index: &mut [usize], extents: &[usize]) -> bool {
    for d in (0..index.len()).rev() {
        index[d] += 1;
        if index[d] < extents[d] {
            return true;
        }
        index[d] = 0;
    }
    false
}

/// Options of MIL `cumsum`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CumsumOptions {
    /// Shift by one: element `i` sums the elements before `i` (the first output is 0).
    pub exclusive: bool,
    /// Accumulate from the end of the axis backwards.
    pub reverse: bool,
}

/// Cumulative sum along `axis` (negative counts from the end), accumulated in f64 and stored
/// as f32.
pub fn cumsum_f32(
    x: TensorRef<'_, f32>,
    axis: isize,
    options: CumsumOptions,
) -> Result<Tensor<f32>, CpuError> {
    cumsum_with(
        x,
        axis,
        options,
        0f64,
        |acc, v| acc + v as f64,
        |acc| acc as f32,
    )
}

/// Cumulative sum along `axis` of int32 data, wrapping on overflow like 32-bit hardware.
pub fn cumsum_i32(
    x: TensorRef<'_, i32>,
    axis: isize,
    options: CumsumOptions,
) -> Result<Tensor<i32>, CpuError> {
    cumsum_with(
        x,
        axis,
        options,
        0i32,
        |acc, v| acc.wrapping_add(v),
        |acc| acc,
    )
}

fn cumsum_with<T: Copy, A: Copy>(
    x: TensorRef<'_, T>,
    axis: isize,
    options: CumsumOptions,
    zero: A,
    add: impl Fn(A, T) -> A,
    store: impl Fn(A) -> T,
) -> Result<Tensor<T>, CpuError> {
    let shape = x.shape();
    let axis = normalize_axis("cumsum", axis, shape.len())?;
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let outer: usize = shape[..axis].iter().product();
    let data = x.data();
    let mut out = data.to_vec();
    let mut acc = vec![zero; inner];
    for o in 0..outer {
        acc.fill(zero);
        for step in 0..n {
            let i = if options.reverse { n - 1 - step } else { step };
            let at = (o * n + i) * inner;
            let src = &data[at..at + inner];
            let dst = &mut out[at..at + inner];
            for ((a, d), &v) in acc.iter_mut().zip(dst.iter_mut()).zip(src) {
                if options.exclusive {
                    *d = store(*a);
                    *a = add(*a, v);
                } else {
                    *a = add(*a, v);
                    *d = store(*a);
                }
            }
        }
    }
    Ok(Tensor {
        data: out,
        shape: shape.to_vec(),
    })
}

/// Iterates, in row-major output order, over the input offsets read when a tensor of
/// `in_shape` is broadcast (numpy rules) to `out_shape`.
#[derive(Debug, Clone)]
pub struct BroadcastOffsets {
    out_shape: Vec<usize>,
    strides: Vec<usize>,
    index: Vec<usize>,
    offset: usize,
    remaining: usize,
}

impl BroadcastOffsets {
    /// Fails unless `in_shape` broadcasts to exactly `out_shape`.
    pub fn new(in_shape: &[usize], out_shape: &[usize]) -> Result<Self, CpuError> {
        let joint = broadcast_shapes("broadcast", in_shape, out_shape)?;
        if joint != out_shape {
            return Err(CpuError::Broadcast {
                op: "broadcast",
                a: in_shape.to_vec(),
                b: out_shape.to_vec(),
            });
        }
        Ok(BroadcastOffsets {
            out_shape: out_shape.to_vec(),
            strides: broadcast_strides(in_shape, out_shape),
            index: vec![0; out_shape.len()],
            offset: 0,
            remaining: num_elements("broadcast", out_shape)?,
        })
    }
}

impl Iterator for BroadcastOffsets {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let current = self.offset;
        for d in (0..self.index.len()).rev() {
            self.index[d] += 1;
            self.offset += self.strides[d];
            if self.index[d] < self.out_shape[d] {
                break;
            }
            self.offset -= self.strides[d] * self.index[d];
            self.index[d] = 0;
        }
        Some(current)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for BroadcastOffsets {}

/// `x` expanded to `out_shape` by numpy broadcasting.
pub fn broadcast_to<T: Copy>(
    x: TensorRef<'_, T>,
    out_shape: &[usize],
) -> Result<Tensor<T>, CpuError> {
    let offsets = BroadcastOffsets::new(x.shape(), out_shape)?;
    let data = x.data();
    Ok(Tensor {
        data: offsets.map(|o| data[o]).collect(),
        shape: out_shape.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_permute(data: &[i64], shape: &[usize], perm: &[usize]) -> Vec<i64> {
        let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
        let in_strides = row_major_strides(shape);
        let total: usize = shape.iter().product();
        (0..total)
            .map(|flat| {
                let mut rest = flat;
                let mut offset = 0;
                for d in (0..out_shape.len()).rev() {
                    let i = rest % out_shape[d];
                    rest /= out_shape[d];
                    offset += i * in_strides[perm[d]];
                }
                data[offset]
            })
            .collect()
    }

    fn all_permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![vec![]];
        }
        let mut out = Vec::new();
        for p in all_permutations(n - 1) {
            for pos in 0..=p.len() {
                let mut q = p.clone();
                q.insert(pos, n - 1);
                out.push(q);
            }
        }
        out
    }

    #[test]
    fn permute_matches_naive_for_every_permutation() {
        for shape in [
            vec![5],
            vec![3, 40],
            vec![37, 33],
            vec![2, 3, 4],
            vec![1, 5, 1, 7],
            vec![2, 3, 1, 4, 5],
            vec![3, 1, 35, 2, 34],
        ] {
            let data: Vec<i64> = (0..shape.iter().product::<usize>() as i64).collect();
            for perm in all_permutations(shape.len()) {
                let got = permute(TensorRef::new(&data, &shape).unwrap(), &perm).unwrap();
                assert_eq!(
                    got.data,
                    naive_permute(&data, &shape, &perm),
                    "{shape:?} {perm:?}"
                );
                assert_eq!(
                    got.shape,
                    perm.iter().map(|&p| shape[p]).collect::<Vec<_>>()
                );
            }
        }
    }

    #[test]
    fn permute_rejects_bad_permutations() {
        let data = [0f32; 6];
        let x = TensorRef::new(&data, &[2, 3]).unwrap();
        assert!(permute(x, &[0, 0]).is_err());
        assert!(permute(x, &[0]).is_err());
        assert!(permute(x, &[1, 2]).is_err());
        let scalar = TensorRef::new(&data[..1], &[]).unwrap();
        assert_eq!(permute(scalar, &[]).unwrap().data, vec![0.0]);
    }

    #[test]
    fn cumsum_variants() {
        let data = [1f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let x = TensorRef::new(&data, &[2, 3]).unwrap();
        let run = |axis, exclusive, reverse| {
            cumsum_f32(x, axis, CumsumOptions { exclusive, reverse })
                .unwrap()
                .data
        };
        assert_eq!(run(1, false, false), vec![1.0, 3.0, 6.0, 4.0, 9.0, 15.0]);
        assert_eq!(run(-1, true, false), vec![0.0, 1.0, 3.0, 0.0, 4.0, 9.0]);
        assert_eq!(run(1, false, true), vec![6.0, 5.0, 3.0, 15.0, 11.0, 6.0]);
        assert_eq!(run(1, true, true), vec![5.0, 3.0, 0.0, 11.0, 6.0, 0.0]);
        assert_eq!(run(0, false, false), vec![1.0, 2.0, 3.0, 5.0, 7.0, 9.0]);
        assert_eq!(run(0, true, true), vec![4.0, 5.0, 6.0, 0.0, 0.0, 0.0]);
        assert!(cumsum_f32(x, 2, CumsumOptions::default()).is_err());
        let ints = [i32::MAX, 1];
        let wrapped = cumsum_i32(
            TensorRef::new(&ints, &[2]).unwrap(),
            0,
            CumsumOptions::default(),
        );
        assert_eq!(wrapped.unwrap().data, vec![i32::MAX, i32::MIN]);
    }

    #[test]
    fn cumsum_matches_naive_on_rank_1_and_rank_5() {
        for (shape, axis) in [
            (vec![9usize], 0isize),
            (vec![2, 1, 3, 4, 2], 3),
            (vec![2, 1, 3, 4, 2], -5),
        ] {
            let data: Vec<f32> = (0..shape.iter().product::<usize>())
                .map(|i| (i as f32 * 0.7).cos())
                .collect();
            let a = normalize_axis("t", axis, shape.len()).unwrap();
            let strides = row_major_strides(&shape);
            for (exclusive, reverse) in [(false, false), (true, false), (false, true), (true, true)]
            {
                let got = cumsum_f32(
                    TensorRef::new(&data, &shape).unwrap(),
                    axis,
                    CumsumOptions { exclusive, reverse },
                )
                .unwrap();
                for (flat, &g) in got.data.iter().enumerate() {
                    let i = flat / strides[a] % shape[a];
                    let base = flat - i * strides[a];
                    let included = |j: usize| match (exclusive, reverse) {
                        (false, false) => j <= i,
                        (true, false) => j < i,
                        (false, true) => j >= i,
                        (true, true) => j > i,
                    };
                    let expected: f64 = (0..shape[a])
                        .filter(|&j| included(j))
                        .map(|j| data[base + j * strides[a]] as f64)
                        .sum();
                    assert!(
                        (g as f64 - expected).abs() < 1e-6,
                        "{shape:?} axis {axis} at {flat}"
                    );
                }
            }
        }
    }

    #[test]
    fn broadcast_offsets_follow_numpy() {
        let offsets: Vec<usize> = BroadcastOffsets::new(&[3, 1], &[2, 3, 2])
            .unwrap()
            .collect();
        assert_eq!(offsets, vec![0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2]);
        let row: Vec<usize> = BroadcastOffsets::new(&[3], &[2, 3]).unwrap().collect();
        assert_eq!(row, vec![0, 1, 2, 0, 1, 2]);
        assert_eq!(
            BroadcastOffsets::new(&[], &[]).unwrap().collect::<Vec<_>>(),
            vec![0]
        );
        assert_eq!(BroadcastOffsets::new(&[2], &[0, 2]).unwrap().count(), 0);
        assert!(BroadcastOffsets::new(&[2, 3], &[3]).is_err());
        assert!(BroadcastOffsets::new(&[2], &[3]).is_err());
        let data = [1, 2];
        let tiled = broadcast_to(TensorRef::new(&data, &[2, 1]).unwrap(), &[2, 2]).unwrap();
        assert_eq!(tiled.data, vec![1, 1, 2, 2]);
    }
}
