//! The walk behind every broadcasting kernel (`add`, comparisons, `select`): the output is seen
//! as rows of merged dimensions along which each of the `N` operands either advances by one
//! (contiguous) or repeats one element (broadcast). Kernels visit the output in segments that
//! never cross a row, each with every operand's starting offset.

use ane_cpu::shape::broadcast_strides;

/// A precomputed numpy-broadcast walk of `N` operands over an output shape.
#[derive(Debug, Clone)]
pub(crate) struct BroadcastPlan<const N: usize> {
    len: usize,
    row_len: usize,
    /// 0 or 1 per operand along a row.
    steps: [usize; N],
    /// Merged outer dims, outermost first.
    outer: Vec<usize>,
    /// Per outer dim, each operand's stride.
    strides: Vec<[usize; N]>,
}

/// One stretch of the output: flat output offset, each operand's offset, length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment<const N: usize> {
    pub out: usize,
    pub at: [usize; N],
    pub len: usize,
}

impl<const N: usize> BroadcastPlan<N> {
    /// The walk of operands of `shapes` broadcast to `out_shape` (which must be their numpy
    /// broadcast; the shape rules checked that when the program was prepared).
    pub(crate) fn new(out_shape: &[usize], shapes: [&[usize]; N]) -> Self {
        let len: usize = out_shape.iter().product();
        let strides: Vec<Vec<usize>> = shapes
            .iter()
            .map(|s| broadcast_strides(s, out_shape))
            .collect();
        // Innermost first: (size, strides). Size-1 dims are dropped; a dim merges into the run
        // inside it when every operand continues its layout across the boundary.
        let mut dims: Vec<(usize, [usize; N])> = Vec::new();
        for d in (0..out_shape.len()).rev() {
            let n = out_shape[d];
            if n == 1 {
                continue;
            }
            let s: [usize; N] = std::array::from_fn(|k| strides[k][d]);
            match dims.last_mut() {
                Some((m, inner)) if (0..N).all(|k| s[k] == inner[k] * *m) => *m *= n,
                _ => dims.push((n, s)),
            }
        }
        let (row_len, steps) = if dims.is_empty() {
            (1, [0; N])
        } else {
            dims.remove(0)
        };
        dims.reverse();
        BroadcastPlan {
            len,
            row_len,
            steps,
            outer: dims.iter().map(|d| d.0).collect(),
            strides: dims.iter().map(|d| d.1).collect(),
        }
    }

    /// Number of output elements.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Each operand's offset at the start of output row `row`.
    fn row_offsets(&self, mut row: usize) -> [usize; N] {
        let mut at = [0; N];
        for d in (0..self.outer.len()).rev() {
            let i = row % self.outer[d];
            row /= self.outer[d];
            for (a, &s) in at.iter_mut().zip(&self.strides[d]) {
                *a += i * s;
            }
        }
        at
    }

    /// Calls `f` on consecutive segments covering output range `[start, end)`, each at most
    /// `max_len` long and inside one row.
    pub(crate) fn for_each_segment<E>(
        &self,
        start: usize,
        end: usize,
        max_len: usize,
        mut f: impl FnMut(Segment<N>) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.len == 0 || start >= end {
            return Ok(());
        }
        let mut pos = start;
        let mut row = pos / self.row_len;
        let mut col = pos % self.row_len;
        let mut base = self.row_offsets(row);
        while pos < end {
            let len = (self.row_len - col).min(end - pos).min(max_len);
            let at = std::array::from_fn(|k| base[k] + col * self.steps[k]);
            f(Segment { out: pos, at, len })?;
            pos += len;
            col += len;
            if col == self.row_len && pos < end {
                row += 1;
                col = 0;
                base = self.row_offsets(row);
            }
        }
        Ok(())
    }

    /// Whether operand `k` advances along rows (else it repeats one element per row).
    pub(crate) fn contiguous(&self, k: usize) -> bool {
        self.steps[k] == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ane_cpu::layout::BroadcastOffsets;

    fn offsets(out: &[usize], shapes: [&[usize]; 2]) -> Vec<[usize; 2]> {
        let plan = BroadcastPlan::new(out, shapes);
        let mut got = Vec::new();
        plan.for_each_segment::<()>(0, plan.len(), 3, |s| {
            for i in 0..s.len {
                got.push([s.at[0] + i * plan.steps[0], s.at[1] + i * plan.steps[1]]);
            }
            Ok(())
        })
        .unwrap();
        got
    }

    #[test]
    fn segments_visit_the_numpy_broadcast_offsets() {
        let cases: &[(&[usize], &[usize], &[usize])] = &[
            (&[2, 3], &[2, 3], &[2, 3]),
            (&[2, 3], &[3], &[2, 3]),
            (&[2, 3], &[2, 1], &[2, 3]),
            (&[], &[2, 1, 4], &[2, 1, 4]),
            (&[1, 3, 1, 2, 1], &[2, 1, 4, 1, 5], &[2, 3, 4, 2, 5]),
            (&[5, 1], &[1, 7], &[5, 7]),
            (&[1], &[1], &[1]),
        ];
        for (a, b, out) in cases {
            let expected: Vec<[usize; 2]> = BroadcastOffsets::new(a, out)
                .unwrap()
                .zip(BroadcastOffsets::new(b, out).unwrap())
                .map(|(x, y)| [x, y])
                .collect();
            assert_eq!(offsets(out, [a, b]), expected, "{a:?} {b:?}");
        }
    }

    #[test]
    fn partial_ranges_start_mid_row() {
        let plan = BroadcastPlan::new(&[4, 5], [&[4, 5], &[5]]);
        let mut seen = Vec::new();
        plan.for_each_segment::<()>(7, 13, 100, |s| {
            seen.push((s.out, s.at, s.len));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec![(7, [7, 2], 3), (10, [10, 0], 3)]);
    }
}
