//! Evaluation of `linear` and batched `matmul`.

use super::index::{broadcast_offset, unravel};
use super::Tensor;
use crate::op::Op;
use crate::shape::{Shape, ValueType};

pub(super) fn eval(op: &Op, x: &[&Tensor], out: &ValueType) -> Tensor {
    match op {
        Op::Linear => linear(x, out),
        Op::MatMul {
            transpose_a,
            transpose_b,
        } => matmul(x[0], x[1], *transpose_a, *transpose_b, out),
        _ => unreachable!("linalg::eval called for {}", op.name()),
    }
}

fn linear(x: &[&Tensor], out: &ValueType) -> Tensor {
    let (input, w) = (x[0], x[1]);
    let (n_out, n_in) = (w.shape().dims()[0], w.shape().dims()[1]);
    let rows = input.shape().numel() / n_in.max(1);
    let mut data = vec![0.0; rows * n_out];
    for r in 0..rows {
        for o in 0..n_out {
            let mut acc = x.get(2).map_or(0.0, |b| b.data()[o]);
            for i in 0..n_in {
                acc += input.data()[r * n_in + i] * w.data()[o * n_in + i];
            }
            data[r * n_out + o] = acc;
        }
    }
    Tensor::from_parts(out.shape.clone(), data)
}

fn matmul(a: &Tensor, b: &Tensor, ta: bool, tb: bool, out: &ValueType) -> Tensor {
    let out_rank = out.shape.rank();
    let (m, n) = (
        out.shape.dims()[out_rank - 2],
        out.shape.dims()[out_rank - 1],
    );
    let a_dims = a.shape().dims();
    let k = if ta {
        a_dims[a_dims.len() - 2]
    } else {
        a_dims[a_dims.len() - 1]
    };
    let batch_shape = Shape::from(&out.shape.dims()[..out_rank - 2]);
    let a_batch = Shape::from(&a_dims[..a_dims.len() - 2]);
    let b_batch = Shape::from(&b.shape().dims()[..b.shape().rank() - 2]);
    // Strides over whole matrices for each operand's batch axes.
    let a_strides = matrix_strides(&a_batch, a.shape().numel() / a_batch.numel().max(1));
    let b_strides = matrix_strides(&b_batch, b.shape().numel() / b_batch.numel().max(1));
    let (a_cols, b_cols) = (
        a_dims[a_dims.len() - 1],
        b.shape().dims()[b.shape().rank() - 1],
    );
    let mut data = vec![0.0; out.shape.numel()];
    for batch in 0..batch_shape.numel() {
        let index = unravel(batch, &batch_shape);
        let a_base = broadcast_offset(&index, &a_batch, &a_strides);
        let b_base = broadcast_offset(&index, &b_batch, &b_strides);
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0.0;
                for p in 0..k {
                    let av = if ta {
                        a.data()[a_base + p * a_cols + i]
                    } else {
                        a.data()[a_base + i * a_cols + p]
                    };
                    let bv = if tb {
                        b.data()[b_base + j * b_cols + p]
                    } else {
                        b.data()[b_base + p * b_cols + j]
                    };
                    acc += av * bv;
                }
                data[(batch * m + i) * n + j] = acc;
            }
        }
    }
    Tensor::from_parts(out.shape.clone(), data)
}

/// Row-major strides of `batch` where the innermost unit is a whole matrix of `matrix_len` elements.
fn matrix_strides(batch: &Shape, matrix_len: usize) -> Vec<usize> {
    batch.strides().iter().map(|s| s * matrix_len).collect()
}
