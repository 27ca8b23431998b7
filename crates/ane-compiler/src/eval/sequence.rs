//! Evaluation of embedding lookup, its scatter-add backward, and RoPE.

use super::index::rows_of_last_axis;
use super::{EvalError, Tensor};
use crate::op::Op;
use crate::shape::ValueType;

/// Checks an id against `0..limit` and returns it as an index.
pub(super) fn checked_index(op: &Op, id: f64, limit: usize) -> Result<usize, EvalError> {
    let id = id as i64;
    if id < 0 || id as usize >= limit {
        return Err(EvalError::IndexOutOfRange {
            op: op.name().to_string(),
            index: id,
            limit,
        });
    }
    Ok(id as usize)
}

pub(super) fn eval(op: &Op, x: &[&Tensor], out: &ValueType) -> Result<Tensor, EvalError> {
    let data = match op {
        Op::Embedding => {
            let (ids, table) = (x[0], x[1]);
            let (vocab, d) = (table.shape().dims()[0], table.shape().dims()[1]);
            let mut data = Vec::with_capacity(out.shape.numel());
            for &id in ids.data() {
                let row = checked_index(op, id, vocab)?;
                data.extend_from_slice(&table.data()[row * d..(row + 1) * d]);
            }
            data
        }
        Op::EmbeddingBackward { vocab } => {
            let (ids, dy) = (x[0], x[1]);
            let d = out.shape.dims()[1];
            let mut data = vec![0.0; vocab * d];
            for (k, &id) in ids.data().iter().enumerate() {
                let row = checked_index(op, id, *vocab)?;
                for i in 0..d {
                    data[row * d + i] += dy.data()[k * d + i];
                }
            }
            data
        }
        Op::Rope { base, inverse } => {
            let input = x[0];
            let dims = input.shape().dims();
            let seq = dims[dims.len() - 2];
            let (rows, head_dim) = rows_of_last_axis(input.shape());
            let sign = if *inverse { -1.0 } else { 1.0 };
            let mut data = vec![0.0; input.data().len()];
            for r in 0..rows {
                let pos = (r % seq) as f64;
                for pair in 0..head_dim / 2 {
                    let freq = (*base as f64).powf(-((2 * pair) as f64) / head_dim as f64);
                    let (sin, cos) = (sign * pos * freq).sin_cos();
                    let at = r * head_dim + 2 * pair;
                    let (a, b) = (input.data()[at], input.data()[at + 1]);
                    data[at] = a * cos - b * sin;
                    data[at + 1] = a * sin + b * cos;
                }
            }
            data
        }
        _ => unreachable!("sequence::eval called for {}", op.name()),
    };
    Ok(Tensor::from_parts(out.shape.clone(), data))
}
