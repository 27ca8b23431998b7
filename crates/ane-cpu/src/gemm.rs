//! Matrix products through the `gemm` crate: strided 2-D GEMM ([`gemm_f32`], [`gemm_f16`]) and
//! MIL `matmul` semantics on N-D tensors ([`matmul_f32`], [`matmul_f16`],
//! [`matmul_f16_to_f32`]): transposes as strides (no copies), numpy batch broadcasting, rank-1
//! operands promoted and their inserted dimension removed again.
//!
//! The f16 matmuls convert their operands to f32 with slice conversions, run the f32 GEMM and
//! round the result once. On this machine that is faster than `gemm`'s native f16 kernel (f32
//! FMA peak is ~95 GFLOP/s per core against ~72 for the f16 path, and conversion is O(n²) next to
//! the O(n³) product), and it gives exactly "accumulate in f32, round once", whereas `gemm`'s f16
//! kernel rounds its accumulator to f16 between k-blocks.

use crate::convert::{f16_to_f32, f32_to_f16};
use crate::error::CpuError;
use crate::shape::{broadcast_shapes, broadcast_strides, num_elements};
use crate::tensor::{Tensor, TensorRef};
use crate::threads::{gemm_parallelism, with_scratch};
use half::f16;
use rayon::prelude::*;

/// A read-only strided matrix: element (i, j) is `data[i * row_stride + j * col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a, T> MatRef<'a, T> {
    /// A strided view; fails if any element would lie outside `data`.
    pub fn new(
        data: &'a [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<Self, CpuError> {
        check_extent(
            "matrix view",
            data.len(),
            rows,
            cols,
            row_stride,
            col_stride,
        )?;
        Ok(MatRef {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        })
    }

    /// A dense row-major `rows × cols` view.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self, CpuError> {
        Self::new(data, rows, cols, cols, 1)
    }

    /// The transpose, as a view (no copy).
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// A writable row-major matrix with a row stride ≥ its column count (so rows never overlap).
#[derive(Debug)]
pub struct MatMut<'a, T> {
    data: &'a mut [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
}

impl<'a, T> MatMut<'a, T> {
    /// Rows of `cols` elements starting every `row_stride` elements of `data`.
    pub fn new(
        data: &'a mut [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
    ) -> Result<Self, CpuError> {
        if row_stride < cols && rows > 1 {
            return Err(CpuError::invalid(
                "matrix view",
                format!("row stride {row_stride} is shorter than a row of {cols}"),
            ));
        }
        check_extent("matrix view", data.len(), rows, cols, row_stride, 1)?;
        Ok(MatMut {
            data,
            rows,
            cols,
            row_stride,
        })
    }

    /// A dense row-major `rows × cols` view.
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Result<Self, CpuError> {
        Self::new(data, rows, cols, cols)
    }
}

/// Fails unless the largest index `(rows-1)*row_stride + (cols-1)*col_stride` is inside a slice
/// of `len` elements (any empty matrix is fine).
fn check_extent(
    op: &'static str,
    len: usize,
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
) -> Result<(), CpuError> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    let last = (rows - 1)
        .checked_mul(row_stride)
        .zip((cols - 1).checked_mul(col_stride))
        .and_then(|(r, c)| r.checked_add(c));
    let fits = matches!(last, Some(l) if l < len && l <= isize::MAX as usize);
    if !fits {
        return Err(CpuError::invalid(
            op,
            format!(
                "{rows}×{cols} matrix with strides ({row_stride}, {col_stride}) does not fit \
                 in {len} elements"
            ),
        ));
    }
    Ok(())
}

/// Element types the `gemm` crate multiplies.
trait GemmScalar: Copy + Send + Sync + 'static {
    const ONE: Self;
}
impl GemmScalar for f32 {
    const ONE: Self = 1.0;
}
impl GemmScalar for f16 {
    const ONE: Self = f16::ONE;
}

/// `out = a · b` (or `out += a · b` with `accumulate`) in f32.
///
/// `parallel` lets `gemm` use the whole rayon pool; pass `false` when calling from inside a
/// parallel loop.
pub fn gemm_f32(
    out: MatMut<'_, f32>,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    accumulate: bool,
    parallel: bool,
) -> Result<(), CpuError> {
    gemm_any(out, a, b, accumulate, parallel)
}

/// `out = a · b` (or `+=`) through `gemm`'s native f16 kernel (f16 storage, f32 arithmetic
/// within each k-block, f16 accumulator between k-blocks).
pub fn gemm_f16(
    out: MatMut<'_, f16>,
    a: MatRef<'_, f16>,
    b: MatRef<'_, f16>,
    accumulate: bool,
    parallel: bool,
) -> Result<(), CpuError> {
    gemm_any(out, a, b, accumulate, parallel)
}

fn gemm_any<T: GemmScalar>(
    out: MatMut<'_, T>,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    accumulate: bool,
    parallel: bool,
) -> Result<(), CpuError> {
    if a.rows != out.rows || b.cols != out.cols || a.cols != b.rows {
        return Err(CpuError::invalid(
            "gemm",
            format!(
                "cannot multiply {}×{} by {}×{} into {}×{}",
                a.rows, a.cols, b.rows, b.cols, out.rows, out.cols
            ),
        ));
    }
    let (m, n, k) = (out.rows, out.cols, a.cols);
    if m == 0 || n == 0 {
        return Ok(());
    }
    // SAFETY: every view was checked on construction (`check_extent`) so that all indices
    // `i*row_stride + j*col_stride` for i < rows, j < cols lie inside its slice, and the strides
    // fit isize. The shapes were checked above to agree, so gemm reads a[i, p] and b[p, j] and
    // writes out[i, j] only for i < m, j < n, p < k. `out` is a unique borrow with
    // non-overlapping rows (row_stride ≥ cols), and `a`, `b` are shared borrows, so the output
    // aliases neither input. T is f32 or f16, both supported by `gemm`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.data.as_mut_ptr(),
            1,
            out.row_stride as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            gemm_parallelism(parallel),
        );
    }
    Ok(())
}

/// The shapes and offsets of a MIL `matmul`: `a @ b` with optional transposes of the last two
/// dimensions and numpy broadcasting of the leading (batch) dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct MatmulPlan {
    /// The result shape (rank-1 operands' inserted dims removed; both rank 1 → scalar `[]`).
    pub out_shape: Vec<usize>,
    /// Rows of each product.
    pub m: usize,
    /// Columns of each product.
    pub n: usize,
    /// Contraction length.
    pub k: usize,
    transpose_a: bool,
    transpose_b: bool,
    batch_shape: Vec<usize>,
    a_batch_shape: Vec<usize>,
    b_batch_shape: Vec<usize>,
}

impl MatmulPlan {
    /// Checks the operand shapes and works out the result. Transposing a rank-1 operand is an
    /// error (as in coremltools); rank-0 operands are errors.
    pub fn new(
        a_shape: &[usize],
        b_shape: &[usize],
        transpose_a: bool,
        transpose_b: bool,
    ) -> Result<Self, CpuError> {
        const OP: &str = "matmul";
        if a_shape.is_empty() || b_shape.is_empty() {
            return Err(CpuError::invalid(OP, "operands must have rank ≥ 1"));
        }
        if (a_shape.len() == 1 && transpose_a) || (b_shape.len() == 1 && transpose_b) {
            return Err(CpuError::invalid(
                OP,
                "a rank-1 operand cannot be transposed",
            ));
        }
        // Rank-1 a is [1, K]; rank-1 b is [K, 1].
        let a2: Vec<usize> = if a_shape.len() == 1 {
            vec![1, a_shape[0]]
        } else {
            a_shape.to_vec()
        };
        let b2: Vec<usize> = if b_shape.len() == 1 {
            vec![b_shape[0], 1]
        } else {
            b_shape.to_vec()
        };
        let (ar, ac) = (a2[a2.len() - 2], a2[a2.len() - 1]);
        let (br, bc) = (b2[b2.len() - 2], b2[b2.len() - 1]);
        let (m, ka) = if transpose_a { (ac, ar) } else { (ar, ac) };
        let (kb, n) = if transpose_b { (bc, br) } else { (br, bc) };
        if ka != kb {
            return Err(CpuError::invalid(
                OP,
                format!(
                    "contraction sizes differ: {a_shape:?} (transpose {transpose_a}) \
                     @ {b_shape:?} (transpose {transpose_b})"
                ),
            ));
        }
        let a_batch_shape = a2[..a2.len() - 2].to_vec();
        let b_batch_shape = b2[..b2.len() - 2].to_vec();
        let batch_shape = broadcast_shapes(OP, &a_batch_shape, &b_batch_shape)?;
        let mut out_shape = batch_shape.clone();
        if a_shape.len() > 1 {
            out_shape.push(m);
        }
        if b_shape.len() > 1 {
            out_shape.push(n);
        }
        num_elements(OP, &out_shape)?;
        Ok(MatmulPlan {
            out_shape,
            m,
            n,
            k: ka,
            transpose_a,
            transpose_b,
            batch_shape,
            a_batch_shape,
            b_batch_shape,
        })
    }

    /// Number of products in the batch.
    pub fn batch(&self) -> usize {
        self.batch_shape.iter().product()
    }

    /// Floating-point operations (2·batch·m·n·k).
    pub fn flops(&self) -> f64 {
        2.0 * self.batch() as f64 * self.m as f64 * self.n as f64 * self.k as f64
    }

    /// Runs the product of `a` and `b` (already shape-checked against this plan) into `out`.
    fn run_f32(&self, a: &[f32], b: &[f32], out: &mut [f32]) -> Result<(), CpuError> {
        let (m, n, k) = (self.m, self.n, self.k);
        let a_mat = m * k;
        let b_mat = k * n;
        let out_mat = m * n;
        let batch = self.batch();
        if batch == 0 || out_mat == 0 {
            return Ok(());
        }
        let view_a = |offset: usize| {
            if self.transpose_a {
                MatRef::new(&a[offset..offset + a_mat], m, k, 1, m)
            } else {
                MatRef::new(&a[offset..offset + a_mat], m, k, k, 1)
            }
        };
        let view_b = |offset: usize| {
            if self.transpose_b {
                MatRef::new(&b[offset..offset + b_mat], k, n, 1, k)
            } else {
                MatRef::new(&b[offset..offset + b_mat], k, n, n, 1)
            }
        };

        // b shared by every batch and a stored plainly: one tall product [batch·m, k] · [k, n].
        let b_shared = self.b_batch_shape.iter().product::<usize>() == 1;
        if b_shared && !self.transpose_a && self.a_batch_shape == self.batch_shape {
            let tall = MatRef::new(a, batch * m, k, k, 1)?;
            let out_mat = MatMut::row_major(out, batch * m, n)?;
            return gemm_f32(out_mat, tall, view_b(0)?, false, true);
        }

        let a_strides = broadcast_strides(&self.a_batch_shape, &self.batch_shape);
        let b_strides = broadcast_strides(&self.b_batch_shape, &self.batch_shape);
        let offsets = |index: usize| {
            let (mut rest, mut oa, mut ob) = (index, 0, 0);
            for d in (0..self.batch_shape.len()).rev() {
                let i = rest % self.batch_shape[d];
                rest /= self.batch_shape[d];
                oa += i * a_strides[d];
                ob += i * b_strides[d];
            }
            (oa * a_mat, ob * b_mat)
        };
        // Many small products: one per task, each single-threaded. Few large ones: in turn,
        // each using the whole pool inside gemm.
        let small = (m * n).saturating_mul(k) < 1 << 21;
        if batch > 1 && small {
            out.par_chunks_mut(out_mat)
                .enumerate()
                .try_for_each(|(index, out_chunk)| {
                    let (oa, ob) = offsets(index);
                    let out_view = MatMut::row_major(out_chunk, m, n)?;
                    gemm_f32(out_view, view_a(oa)?, view_b(ob)?, false, false)
                })
        } else {
            for (index, out_chunk) in out.chunks_mut(out_mat).enumerate() {
                let (oa, ob) = offsets(index);
                let out_view = MatMut::row_major(out_chunk, m, n)?;
                gemm_f32(out_view, view_a(oa)?, view_b(ob)?, false, true)?;
            }
            Ok(())
        }
    }
}

/// Transpose flags of a MIL `matmul` (they swap the last two dims of an operand).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transposes {
    pub a: bool,
    pub b: bool,
}

/// MIL `matmul` in f32.
pub fn matmul_f32(
    a: TensorRef<'_, f32>,
    b: TensorRef<'_, f32>,
    transposes: Transposes,
) -> Result<Tensor<f32>, CpuError> {
    let plan = MatmulPlan::new(a.shape(), b.shape(), transposes.a, transposes.b)?;
    let mut out = vec![0f32; num_elements("matmul", &plan.out_shape)?];
    plan.run_f32(a.data(), b.data(), &mut out)?;
    Ok(Tensor {
        data: out,
        shape: plan.out_shape,
    })
}

/// MIL `matmul` on f16 tensors with an f32 result (f32 accumulation, no rounding): for callers
/// that add a bias or scale before rounding once.
pub fn matmul_f16_to_f32(
    a: TensorRef<'_, f16>,
    b: TensorRef<'_, f16>,
    transposes: Transposes,
) -> Result<Tensor<f32>, CpuError> {
    let plan = MatmulPlan::new(a.shape(), b.shape(), transposes.a, transposes.b)?;
    let mut out = vec![0f32; num_elements("matmul", &plan.out_shape)?];
    with_wide_operands(a.data(), b.data(), 0, |a32, b32, _| {
        plan.run_f32(a32, b32, &mut out)
    })?;
    Ok(Tensor {
        data: out,
        shape: plan.out_shape,
    })
}

/// MIL `matmul` on f16 tensors: f32 accumulation, result rounded once to f16.
pub fn matmul_f16(
    a: TensorRef<'_, f16>,
    b: TensorRef<'_, f16>,
    transposes: Transposes,
) -> Result<Tensor<f16>, CpuError> {
    let plan = MatmulPlan::new(a.shape(), b.shape(), transposes.a, transposes.b)?;
    let len = num_elements("matmul", &plan.out_shape)?;
    let mut out: Vec<f16> = bytemuck::zeroed_vec(len);
    with_wide_operands(a.data(), b.data(), len, |a32, b32, out32| {
        plan.run_f32(a32, b32, out32)?;
        f32_to_f16(out32, &mut out)
    })?;
    Ok(Tensor {
        data: out,
        shape: plan.out_shape,
    })
}

/// Runs `f(a32, b32, out32)` with both operands widened to f32 and an f32 result buffer of
/// `out_len`, all in this thread's scratch memory: fresh multi-megabyte buffers on every call
/// would be returned to the OS and faulted back in each time.
fn with_wide_operands<R>(
    a: &[f16],
    b: &[f16],
    out_len: usize,
    f: impl FnOnce(&[f32], &[f32], &mut [f32]) -> R,
) -> R {
    with_scratch(a.len() + b.len() + out_len, |buf| {
        let (a32, rest) = buf.split_at_mut(a.len());
        let (b32, out32) = rest.split_at_mut(b.len());
        // Lengths match by construction.
        let _ = f16_to_f32(a, a32);
        let _ = f16_to_f32(b, b32);
        f(a32, b32, out32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{f16_to_f32_vec, f32_to_f16_vec};
    use crate::tests_support::{assert_close, random_vec};

    /// Naive f64 matmul of already-laid-out [batch, m, k] and [batch, k, n] blocks.
    fn reference(
        a: &[f32],
        a_shape: &[usize],
        b: &[f32],
        b_shape: &[usize],
        t: Transposes,
    ) -> Vec<f64> {
        let plan = MatmulPlan::new(a_shape, b_shape, t.a, t.b).unwrap();
        let (m, n, k) = (plan.m, plan.n, plan.k);
        let batch = plan.batch();
        let a_strides = broadcast_strides(&plan.a_batch_shape, &plan.batch_shape);
        let b_strides = broadcast_strides(&plan.b_batch_shape, &plan.batch_shape);
        let mut out = vec![0f64; batch * m * n];
        for bi in 0..batch {
            let (mut rest, mut oa, mut ob) = (bi, 0, 0);
            for d in (0..plan.batch_shape.len()).rev() {
                let i = rest % plan.batch_shape[d];
                rest /= plan.batch_shape[d];
                oa += i * a_strides[d];
                ob += i * b_strides[d];
            }
            for i in 0..m {
                for j in 0..n {
                    let mut s = 0f64;
                    for p in 0..k {
                        let av = if t.a {
                            a[oa * m * k + p * m + i]
                        } else {
                            a[oa * m * k + i * k + p]
                        };
                        let bv = if t.b {
                            b[ob * k * n + j * k + p]
                        } else {
                            b[ob * k * n + p * n + j]
                        };
                        s += av as f64 * bv as f64;
                    }
                    out[bi * m * n + i * n + j] = s;
                }
            }
        }
        out
    }

    fn check(a_shape: &[usize], b_shape: &[usize], t: Transposes, expected_shape: &[usize]) {
        let a = random_vec(a_shape.iter().product(), 1);
        let b = random_vec(b_shape.iter().product(), 2);
        let got = matmul_f32(
            TensorRef::new(&a, a_shape).unwrap(),
            TensorRef::new(&b, b_shape).unwrap(),
            t,
        )
        .unwrap();
        assert_eq!(got.shape, expected_shape, "{a_shape:?} @ {b_shape:?}");
        assert_close(&got.data, &reference(&a, a_shape, &b, b_shape, t), 1e-5);
    }

    #[test]
    fn matmul_shapes_and_values_match_reference() {
        let no = Transposes::default();
        check(&[3, 4], &[4, 5], no, &[3, 5]);
        check(&[10, 4, 3], &[5, 10, 3, 2], no, &[5, 10, 4, 2]);
        check(&[4, 3], &[2, 1, 3, 6], no, &[2, 1, 4, 6]);
        check(&[2, 3, 4], &[4, 5], no, &[2, 3, 5]);
        check(&[7], &[7], no, &[]);
        check(&[7], &[2, 7, 3], no, &[2, 3]);
        check(&[2, 3, 7], &[7], no, &[2, 3]);
        check(&[1, 1, 1, 1, 1], &[1, 1], no, &[1, 1, 1, 1, 1]);
        check(
            &[2, 5, 3],
            &[2, 4, 5],
            Transposes { a: true, b: true },
            &[2, 3, 4],
        );
        check(&[6, 3], &[5, 6], Transposes { a: true, b: true }, &[3, 5]);
        check(
            &[3, 64, 70],
            &[3, 80, 70],
            Transposes { a: false, b: true },
            &[3, 64, 80],
        );
        check(&[2, 0, 3], &[3, 4], no, &[2, 0, 4]);
        check(&[2, 3, 0], &[0, 4], no, &[2, 3, 4]);
        check(&[300, 260], &[260, 270], no, &[300, 270]);
    }

    #[test]
    fn bad_matmul_shapes_are_errors() {
        assert!(MatmulPlan::new(&[3, 4], &[5, 6], false, false).is_err());
        assert!(MatmulPlan::new(&[2, 3, 4], &[3, 4, 5], false, false).is_err());
        assert!(MatmulPlan::new(&[4], &[4, 2], true, false).is_err());
        assert!(MatmulPlan::new(&[], &[4, 2], false, false).is_err());
    }

    #[test]
    fn f16_matmul_rounds_an_f32_accumulation_once() {
        let a32 = random_vec(5 * 40 * 33, 3);
        let b32 = random_vec(5 * 33 * 21, 4);
        let a16 = f32_to_f16_vec(&a32);
        let b16 = f32_to_f16_vec(&b32);
        let (sa, sb) = ([5, 40, 33], [5, 33, 21]);
        let got = matmul_f16(
            TensorRef::new(&a16, &sa).unwrap(),
            TensorRef::new(&b16, &sb).unwrap(),
            Transposes::default(),
        )
        .unwrap();
        let exact = reference(
            &f16_to_f32_vec(&a16),
            &sa,
            &f16_to_f32_vec(&b16),
            &sb,
            Transposes::default(),
        );
        for (g, e) in got.data.iter().zip(&exact) {
            // One rounding of a nearly exact value: within half an fp16 ulp plus f32 noise.
            let ulp = f16::from_f64(*e).to_f64().abs().max(6.1e-5) * 2f64.powi(-10);
            assert!((g.to_f64() - e).abs() <= 0.5 * ulp + 1e-5, "{g} vs {e}");
        }
    }

    #[test]
    fn strided_views_are_bounds_checked() {
        let data = [0f32; 10];
        assert!(MatRef::new(&data, 2, 5, 5, 1).is_ok());
        assert!(MatRef::new(&data, 2, 5, 6, 1).is_err());
        assert!(MatRef::new(&data, 0, 5, 100, 1).is_ok());
        let mut out = [0f32; 10];
        assert!(MatMut::new(&mut out, 2, 5, 4).is_err());
        let mut out = [0f32; 4];
        let a = MatRef::row_major(&data[..6], 2, 3).unwrap();
        let b = MatRef::row_major(&data[..6], 2, 3).unwrap();
        assert!(gemm_f32(
            MatMut::row_major(&mut out, 2, 2).unwrap(),
            a,
            b,
            false,
            true
        )
        .is_err());
    }

    #[test]
    fn native_f16_gemm_and_accumulate() {
        let a: Vec<f16> = f32_to_f16_vec(&[1.0, 2.0, 3.0, 4.0]);
        let b: Vec<f16> = f32_to_f16_vec(&[5.0, 6.0, 7.0, 8.0]);
        let mut out = f32_to_f16_vec(&[1.0, 1.0, 1.0, 1.0]);
        gemm_f16(
            MatMut::row_major(&mut out, 2, 2).unwrap(),
            MatRef::row_major(&a, 2, 2).unwrap(),
            MatRef::row_major(&b, 2, 2).unwrap().t(),
            true,
            false,
        )
        .unwrap();
        assert_eq!(f16_to_f32_vec(&out), vec![18.0, 24.0, 40.0, 54.0]);
    }
}
