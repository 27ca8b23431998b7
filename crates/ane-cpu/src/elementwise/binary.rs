//! Binary elementwise operations with numpy broadcasting (MIL `add`, `sub`, `mul`, `real_div`,
//! `pow`, `maximum`, `minimum`, `floor_div`, `mod` and the comparisons).
//!
//! The engine ([`broadcast_map`]) has fast paths for equal shapes and scalar operands; in
//! general it merges dimensions that both operands traverse the same way, then walks output rows
//! whose inner loop reads each operand either contiguously or as one repeated value (row and
//! column broadcasts run as straight vector loops). Large outputs are split into fixed-size
//! chunks of rows across threads.

use crate::error::CpuError;
use crate::shape::{broadcast_shapes, broadcast_strides, num_elements};
use crate::tensor::{Tensor, TensorRef};
use crate::threads::{ELEMENTWISE_CHUNK, PARALLEL_MIN_ELEMENTS};
use rayon::prelude::*;

/// Arithmetic binary operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    /// True division (`real_div`).
    Div,
    /// `x ** y`.
    Pow,
    /// numpy `maximum`: NaN if either operand is NaN.
    Max,
    /// numpy `minimum`: NaN if either operand is NaN.
    Min,
    /// `floor(x / y)`.
    FloorDiv,
    /// numpy `mod`: `x − floor(x / y)·y` (the sign of the divisor).
    Mod,
}

/// Comparisons producing booleans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Equal,
    NotEqual,
    Greater,
    GreaterEqual,
    Less,
    LessEqual,
}

impl BinaryOp {
    /// The operation on one pair of f32 values.
    pub fn apply_f32(self, x: f32, y: f32) -> f32 {
        match self {
            BinaryOp::Add => x + y,
            BinaryOp::Sub => x - y,
            BinaryOp::Mul => x * y,
            BinaryOp::Div => x / y,
            BinaryOp::Pow => x.powf(y),
            BinaryOp::Max => {
                if x.is_nan() || y.is_nan() {
                    f32::NAN
                } else {
                    x.max(y)
                }
            }
            BinaryOp::Min => {
                if x.is_nan() || y.is_nan() {
                    f32::NAN
                } else {
                    x.min(y)
                }
            }
            BinaryOp::FloorDiv => (x / y).floor(),
            BinaryOp::Mod => {
                let r = x % y;
                if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
                    r + y
                } else {
                    r
                }
            }
        }
    }
}

impl CompareOp {
    /// The comparison of one pair (IEEE: any comparison with NaN is false except `NotEqual`).
    pub fn apply<T: PartialOrd>(self, x: T, y: T) -> bool {
        match self {
            CompareOp::Equal => x == y,
            CompareOp::NotEqual => x != y,
            CompareOp::Greater => x > y,
            CompareOp::GreaterEqual => x >= y,
            CompareOp::Less => x < y,
            CompareOp::LessEqual => x <= y,
        }
    }
}

/// `op(a, b)` elementwise with broadcasting, in f32.
pub fn binary_f32(
    op: BinaryOp,
    a: TensorRef<'_, f32>,
    b: TensorRef<'_, f32>,
) -> Result<Tensor<f32>, CpuError> {
    // One monomorphized loop per operation, so each inner loop is a plain vectorizable kernel.
    match op {
        BinaryOp::Add => broadcast_map(a, b, |x, y| x + y),
        BinaryOp::Sub => broadcast_map(a, b, |x, y| x - y),
        BinaryOp::Mul => broadcast_map(a, b, |x, y| x * y),
        BinaryOp::Div => broadcast_map(a, b, |x, y| x / y),
        other => broadcast_map(a, b, move |x, y| other.apply_f32(x, y)),
    }
}

/// `op(a, b)` elementwise with broadcasting on int32 data: `Add`, `Sub`, `Mul` wrap like 32-bit
/// hardware; `Max`, `Min`; `FloorDiv` and `Mod` round toward −∞ like numpy. `Div` and `Pow` are
/// errors (their int32 meaning is not defined by MIL), as is a zero divisor.
pub fn binary_i32(
    op: BinaryOp,
    a: TensorRef<'_, i32>,
    b: TensorRef<'_, i32>,
) -> Result<Tensor<i32>, CpuError> {
    match op {
        BinaryOp::Add => broadcast_map(a, b, i32::wrapping_add),
        BinaryOp::Sub => broadcast_map(a, b, i32::wrapping_sub),
        BinaryOp::Mul => broadcast_map(a, b, i32::wrapping_mul),
        BinaryOp::Max => broadcast_map(a, b, i32::max),
        BinaryOp::Min => broadcast_map(a, b, i32::min),
        BinaryOp::FloorDiv | BinaryOp::Mod => {
            if b.data().contains(&0) {
                return Err(CpuError::invalid("binary_i32", "integer division by zero"));
            }
            if op == BinaryOp::FloorDiv {
                broadcast_map(a, b, |x, y| {
                    let (q, r) = (x.wrapping_div(y), x.wrapping_rem(y));
                    if r != 0 && ((r < 0) != (y < 0)) {
                        q - 1
                    } else {
                        q
                    }
                })
            } else {
                broadcast_map(a, b, |x, y| {
                    let r = x.wrapping_rem(y);
                    if r != 0 && ((r < 0) != (y < 0)) {
                        r + y
                    } else {
                        r
                    }
                })
            }
        }
        BinaryOp::Div | BinaryOp::Pow => Err(CpuError::invalid(
            "binary_i32",
            format!("{op:?} is only defined for floating-point data"),
        )),
    }
}

/// Comparison with broadcasting of f32 data.
pub fn compare_f32(
    op: CompareOp,
    a: TensorRef<'_, f32>,
    b: TensorRef<'_, f32>,
) -> Result<Tensor<bool>, CpuError> {
    broadcast_map(a, b, move |x, y| op.apply(x, y))
}

/// Comparison with broadcasting of int32 data.
pub fn compare_i32(
    op: CompareOp,
    a: TensorRef<'_, i32>,
    b: TensorRef<'_, i32>,
) -> Result<Tensor<bool>, CpuError> {
    broadcast_map(a, b, move |x, y| op.apply(x, y))
}

/// `f(a, b)` elementwise over the numpy broadcast of the two shapes: the engine behind every
/// binary op, public for callers with their own element function (e.g. logical ops, `select`
/// halves).
pub fn broadcast_map<A, B, O, F>(
    a: TensorRef<'_, A>,
    b: TensorRef<'_, B>,
    f: F,
) -> Result<Tensor<O>, CpuError>
where
    A: Copy + Sync,
    B: Copy + Sync,
    O: Copy + Send + Default,
    F: Fn(A, B) -> O + Sync,
{
    let out_shape = broadcast_shapes("broadcast", a.shape(), b.shape())?;
    let n = num_elements("broadcast", &out_shape)?;
    let mut out = vec![O::default(); n];
    let (ad, bd) = (a.data(), b.data());
    if n == 0 {
        // Nothing to compute.
    } else if a.shape() == b.shape() {
        for_chunks(&mut out, |start, chunk| {
            let (a, b) = (
                &ad[start..start + chunk.len()],
                &bd[start..start + chunk.len()],
            );
            for ((o, &x), &y) in chunk.iter_mut().zip(a).zip(b) {
                *o = f(x, y);
            }
        });
    } else if bd.len() == 1 && ad.len() == n {
        let y = bd[0];
        for_chunks(&mut out, |start, chunk| {
            let len = chunk.len();
            for (o, &x) in chunk.iter_mut().zip(&ad[start..start + len]) {
                *o = f(x, y);
            }
        });
    } else if ad.len() == 1 && bd.len() == n {
        let x = ad[0];
        for_chunks(&mut out, |start, chunk| {
            let len = chunk.len();
            for (o, &y) in chunk.iter_mut().zip(&bd[start..start + len]) {
                *o = f(x, y);
            }
        });
    } else {
        let plan = RowPlan::new(&out_shape, a.shape(), b.shape());
        let row = plan.row_len;
        let rows_per_chunk = (ELEMENTWISE_CHUNK / row).max(1);
        let run_rows = |first_row: usize, chunk: &mut [O]| {
            for (r, out_row) in chunk.chunks_mut(row).enumerate() {
                let (oa, ob) = plan.offsets(first_row + r);
                match (plan.a_step, plan.b_step) {
                    (1, 1) => {
                        for ((o, &x), &y) in out_row
                            .iter_mut()
                            .zip(&ad[oa..oa + row])
                            .zip(&bd[ob..ob + row])
                        {
                            *o = f(x, y);
                        }
                    }
                    (1, _) => {
                        let y = bd[ob];
                        for (o, &x) in out_row.iter_mut().zip(&ad[oa..oa + row]) {
                            *o = f(x, y);
                        }
                    }
                    (_, 1) => {
                        let x = ad[oa];
                        for (o, &y) in out_row.iter_mut().zip(&bd[ob..ob + row]) {
                            *o = f(x, y);
                        }
                    }
                    _ => out_row.fill(f(ad[oa], bd[ob])),
                }
            }
        };
        if n >= PARALLEL_MIN_ELEMENTS {
            out.par_chunks_mut(rows_per_chunk * row)
                .enumerate()
                .for_each(|(c, chunk)| run_rows(c * rows_per_chunk, chunk));
        } else {
            run_rows(0, &mut out);
        }
    }
    Ok(Tensor {
        data: out,
        shape: out_shape,
    })
}

/// Runs `f(start, chunk)` over `out` in fixed-size chunks, in parallel for large outputs.
fn for_chunks<O: Send>(out: &mut [O], f: impl Fn(usize, &mut [O]) + Sync) {
    if out.len() >= PARALLEL_MIN_ELEMENTS {
        out.par_chunks_mut(ELEMENTWISE_CHUNK)
            .enumerate()
            .for_each(|(i, chunk)| f(i * ELEMENTWISE_CHUNK, chunk));
    } else {
        f(0, out);
    }
}

/// A broadcast walk in rows: merged outer dims with per-operand strides, and an inner row
/// along which each operand steps by 1 (contiguous) or 0 (repeated).
struct RowPlan {
    outer_shape: Vec<usize>,
    a_strides: Vec<usize>,
    b_strides: Vec<usize>,
    row_len: usize,
    a_step: usize,
    b_step: usize,
}

impl RowPlan {
    fn new(out_shape: &[usize], a_shape: &[usize], b_shape: &[usize]) -> Self {
        let sa = broadcast_strides(a_shape, out_shape);
        let sb = broadcast_strides(b_shape, out_shape);
        // Merge dim i into the run after it when both operands continue their layout across
        // the boundary (contiguous continuation or broadcast on both sides).
        let mut dims: Vec<(usize, usize, usize)> = Vec::new(); // (size, stride a, stride b), innermost first
        for i in (0..out_shape.len()).rev() {
            let (n, a, b) = (out_shape[i], sa[i], sb[i]);
            if n == 1 {
                continue;
            }
            match dims.last_mut() {
                Some((m, ia, ib)) if a == *ia * *m && b == *ib * *m => *m *= n,
                _ => dims.push((n, a, b)),
            }
        }
        dims.reverse();
        let (row_len, a_step, b_step) = dims.pop().unwrap_or((1, 0, 0));
        RowPlan {
            outer_shape: dims.iter().map(|d| d.0).collect(),
            a_strides: dims.iter().map(|d| d.1).collect(),
            b_strides: dims.iter().map(|d| d.2).collect(),
            row_len,
            a_step,
            b_step,
        }
    }

    /// Start offsets in `a` and `b` of output row `row`.
    fn offsets(&self, mut row: usize) -> (usize, usize) {
        let (mut oa, mut ob) = (0, 0);
        for d in (0..self.outer_shape.len()).rev() {
            let i = row % self.outer_shape[d];
            row /= self.outer_shape[d];
            oa += i * self.a_strides[d];
            ob += i * self.b_strides[d];
        }
        (oa, ob)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::BroadcastOffsets;
    use crate::tests_support::random_vec;

    fn naive(op: BinaryOp, a: &[f32], sa: &[usize], b: &[f32], sb: &[usize]) -> Vec<f32> {
        let out = broadcast_shapes("t", sa, sb).unwrap();
        BroadcastOffsets::new(sa, &out)
            .unwrap()
            .zip(BroadcastOffsets::new(sb, &out).unwrap())
            .map(|(i, j)| op.apply_f32(a[i], b[j]))
            .collect()
    }

    #[test]
    fn broadcasting_matches_naive_indexing() {
        let cases: &[(&[usize], &[usize])] = &[
            (&[4, 5], &[4, 5]),
            (&[4, 5], &[]),
            (&[], &[3]),
            (&[4, 5], &[5]),
            (&[4, 5], &[4, 1]),
            (&[2, 1, 5], &[3, 1]),
            (&[1, 3, 1, 2, 1], &[2, 1, 4, 1, 5]),
            (&[7], &[1]),
            (&[300, 300], &[300, 1]),
            (&[2, 0, 3], &[1, 3]),
            (&[64, 1, 33], &[1, 70, 33]),
        ];
        for op in [
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Div,
            BinaryOp::Max,
            BinaryOp::Mod,
            BinaryOp::Pow,
        ] {
            for (sa, sb) in cases {
                let a = random_vec(sa.iter().product(), 1);
                let b = random_vec(sb.iter().product(), 2);
                let got = binary_f32(
                    op,
                    TensorRef::new(&a, sa).unwrap(),
                    TensorRef::new(&b, sb).unwrap(),
                )
                .unwrap();
                let expected = naive(op, &a, sa, &b, sb);
                assert_eq!(got.shape, broadcast_shapes("t", sa, sb).unwrap());
                for (g, e) in got.data.iter().zip(&expected) {
                    assert!(
                        g.to_bits() == e.to_bits() || (g.is_nan() && e.is_nan()),
                        "{op:?} {sa:?} {sb:?}"
                    );
                }
            }
        }
        let a = [1f32; 6];
        assert!(binary_f32(
            BinaryOp::Add,
            TensorRef::new(&a, &[2, 3]).unwrap(),
            TensorRef::new(&a[..2], &[2]).unwrap()
        )
        .is_err());
    }

    #[test]
    fn special_values() {
        assert!(BinaryOp::Max.apply_f32(f32::NAN, 1.0).is_nan());
        assert!(BinaryOp::Min.apply_f32(1.0, f32::NAN).is_nan());
        assert_eq!(BinaryOp::Mod.apply_f32(-7.0, 3.0), 2.0);
        assert_eq!(BinaryOp::Mod.apply_f32(7.0, -3.0), -2.0);
        assert_eq!(BinaryOp::FloorDiv.apply_f32(-7.0, 2.0), -4.0);
        assert_eq!(BinaryOp::Div.apply_f32(1.0, 0.0), f32::INFINITY);
        assert!(!CompareOp::Equal.apply(f32::NAN, f32::NAN));
        assert!(CompareOp::NotEqual.apply(f32::NAN, f32::NAN));
    }

    #[test]
    fn int32_ops() {
        let a = [-7, 7, i32::MAX, 6];
        let b = [2, -2, 1, 3];
        let run = |op| {
            binary_i32(
                op,
                TensorRef::new(&a, &[4]).unwrap(),
                TensorRef::new(&b, &[4]).unwrap(),
            )
            .map(|t| t.data)
        };
        assert_eq!(run(BinaryOp::FloorDiv).unwrap(), vec![-4, -4, i32::MAX, 2]);
        assert_eq!(run(BinaryOp::Mod).unwrap(), vec![1, -1, 0, 0]);
        assert_eq!(run(BinaryOp::Add).unwrap(), vec![-5, 5, i32::MIN, 9]);
        assert!(run(BinaryOp::Div).is_err());
        let zero = [0];
        assert!(binary_i32(
            BinaryOp::Mod,
            TensorRef::new(&a, &[4]).unwrap(),
            TensorRef::new(&zero, &[]).unwrap()
        )
        .is_err());
        let cmp = compare_i32(
            CompareOp::GreaterEqual,
            TensorRef::new(&a, &[4]).unwrap(),
            TensorRef::new(&b[..1], &[1]).unwrap(),
        )
        .unwrap();
        assert_eq!(cmp.data, vec![false, true, true, true]);
    }
}
