//! Data movement by index tables: element `(i_0, …, i_{r-1})` of an iteration shape is copied
//! from source offset `src_base + Σ_k src[k][i_k]` to destination offset
//! `dst_base + Σ_k dst[k][i_k]`. One table per dim turns every movement op into the same loop:
//! transposes and slices (strided tables, negative strides included), tiles (modulo tables),
//! pads (mirrored or clamped tables, or a shifted destination), concatenation and interleaving
//! (shifted or strided destinations) and splits. Rows whose last-dim tables both step by one are
//! copied with `copy_from_slice`.

/// The most dims a copy iterates over.
pub(crate) const MAX_DIMS: usize = 8;

/// A precomputed copy between two flat buffers.
#[derive(Debug, Clone)]
pub(crate) struct CopyMap {
    shape: Vec<usize>,
    src: Vec<Vec<usize>>,
    dst: Vec<Vec<usize>>,
    src_base: usize,
    dst_base: usize,
    contiguous: bool,
}

/// Tables of a dense row-major layout of `shape` (`table[k][i] = i · stride_k`).
pub(crate) fn row_major_tables(shape: &[usize]) -> Vec<Vec<usize>> {
    let strides = ane_cpu::shape::row_major_strides(shape);
    shape
        .iter()
        .zip(&strides)
        .map(|(&n, &s)| (0..n).map(|i| i * s).collect())
        .collect()
}

fn steps_by_one(table: &[usize]) -> bool {
    table.windows(2).all(|w| w[1] == w[0] + 1)
}

impl CopyMap {
    /// A copy over `shape` with the given tables and base offsets. `None` when the rank exceeds
    /// [`MAX_DIMS`] or a table's length differs from its dim.
    pub(crate) fn new(
        shape: Vec<usize>,
        src: Vec<Vec<usize>>,
        src_base: usize,
        dst: Vec<Vec<usize>>,
        dst_base: usize,
    ) -> Option<Self> {
        let rank = shape.len();
        let fits = |t: &Vec<Vec<usize>>| {
            t.len() == rank && t.iter().zip(&shape).all(|(t, &n)| t.len() == n)
        };
        if rank > MAX_DIMS || !fits(&src) || !fits(&dst) {
            return None;
        }
        let contiguous = rank > 0 && steps_by_one(&src[rank - 1]) && steps_by_one(&dst[rank - 1]);
        Some(CopyMap {
            shape,
            src,
            dst,
            src_base,
            dst_base,
            contiguous,
        })
    }

    /// A copy writing a dense row-major destination.
    pub(crate) fn to_dense(
        shape: Vec<usize>,
        src: Vec<Vec<usize>>,
        src_base: usize,
    ) -> Option<Self> {
        let dst = row_major_tables(&shape);
        CopyMap::new(shape, src, src_base, dst, 0)
    }

    /// Number of elements copied.
    pub(crate) fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// The largest source and destination offsets touched, `None` when nothing is copied.
    pub(crate) fn max_offsets(&self) -> Option<(usize, usize)> {
        if self.len() == 0 {
            return None;
        }
        let max = |tables: &[Vec<usize>], base: usize| {
            base + tables
                .iter()
                .map(|t| t.iter().copied().max().unwrap_or(0))
                .sum::<usize>()
        };
        Some((max(&self.src, self.src_base), max(&self.dst, self.dst_base)))
    }

    /// Whether the copy stays inside buffers of these lengths.
    pub(crate) fn fits(&self, src_len: usize, dst_len: usize) -> bool {
        self.max_offsets()
            .is_none_or(|(s, d)| s < src_len && d < dst_len)
    }

    /// Copies `src` into `dst`; both must be long enough ([`CopyMap::fits`], checked when the
    /// kernel was prepared).
    pub(crate) fn run<T: Copy>(&self, src: &[T], dst: &mut [T]) {
        self.run_shifted(src, dst, 0);
    }

    /// [`CopyMap::run`] with every source offset moved by `shift` (a slice whose start is only
    /// known at run time); the caller checks that the shifted copy stays inside `src`.
    pub(crate) fn run_shifted<T: Copy>(&self, src: &[T], dst: &mut [T], shift: usize) {
        let rank = self.shape.len();
        if self.len() == 0 {
            return;
        }
        if rank == 0 {
            dst[self.dst_base] = src[self.src_base + shift];
            return;
        }
        let last = rank - 1;
        let n = self.shape[last];
        let (src_row, dst_row) = (&self.src[last], &self.dst[last]);
        let mut index = [0usize; MAX_DIMS];
        loop {
            let mut s = self.src_base + shift;
            let mut d = self.dst_base;
            for ((&i, src), dst) in index[..last].iter().zip(&self.src).zip(&self.dst) {
                s += src[i];
                d += dst[i];
            }
            if self.contiguous {
                let (s0, d0) = (s + src_row[0], d + dst_row[0]);
                dst[d0..d0 + n].copy_from_slice(&src[s0..s0 + n]);
            } else {
                for (&so, &dof) in src_row.iter().zip(dst_row) {
                    dst[d + dof] = src[s + so];
                }
            }
            // Odometer over the outer dims.
            let mut k = last;
            loop {
                if k == 0 {
                    return;
                }
                k -= 1;
                index[k] += 1;
                if index[k] < self.shape[k] {
                    break;
                }
                index[k] = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_and_reverses() {
        // [2, 3] → transpose [3, 2]: out[i][j] = x[j][i].
        let x: Vec<i32> = (0..6).collect();
        let map = CopyMap::to_dense(vec![3, 2], vec![vec![0, 1, 2], vec![0, 3]], 0).unwrap();
        assert!(map.fits(6, 6));
        let mut out = vec![0; 6];
        map.run(&x, &mut out);
        assert_eq!(out, vec![0, 3, 1, 4, 2, 5]);
        // Reverse the last dim: table 2, 1, 0.
        let rev = CopyMap::to_dense(vec![2, 3], vec![vec![0, 3], vec![2, 1, 0]], 0).unwrap();
        rev.run(&x, &mut out);
        assert_eq!(out, vec![2, 1, 0, 5, 4, 3]);
    }

    #[test]
    fn shifted_destination_and_scalars() {
        let x = [7, 8];
        let mut out = [0; 4];
        let map = CopyMap::new(vec![2], vec![vec![0, 1]], 0, vec![vec![0, 1]], 1).unwrap();
        map.run(&x, &mut out);
        assert_eq!(out, [0, 7, 8, 0]);
        assert!(!map.fits(2, 2));
        let scalar = CopyMap::new(vec![], vec![], 1, vec![], 3).unwrap();
        scalar.run(&x, &mut out);
        assert_eq!(out, [0, 7, 8, 8]);
        assert!(CopyMap::new(vec![2], vec![vec![0]], 0, vec![vec![0, 1]], 0).is_none());
    }
}
