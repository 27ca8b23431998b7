//! Evaluation of the losses and the fused cross-entropy backward.

use super::index::rows_of_last_axis;
use super::sequence::checked_index;
use super::{EvalError, Tensor};
use crate::op::Op;
use crate::shape::ValueType;

/// Softmax of one row, computed from the row's maximum for stability; also returns logsumexp.
fn softmax_row(row: &[f64]) -> (Vec<f64>, f64) {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = row.iter().map(|v| (v - max).exp()).sum();
    let probs = row.iter().map(|v| (v - max).exp() / sum).collect();
    (probs, max + sum.ln())
}

pub(super) fn eval(op: &Op, x: &[&Tensor], out: &ValueType) -> Result<Tensor, EvalError> {
    let data = match op {
        Op::SoftmaxCrossEntropy | Op::SoftmaxCrossEntropyBackward => {
            let (logits, labels) = (x[0], x[1]);
            let (rows, classes) = rows_of_last_axis(logits.shape());
            let mut loss = 0.0;
            let mut grad = vec![0.0; logits.data().len()];
            let upstream = x.get(2).map_or(1.0, |t| t.data()[0]);
            for r in 0..rows {
                let row = &logits.data()[r * classes..(r + 1) * classes];
                let label = checked_index(op, labels.data()[r], classes)?;
                let (probs, lse) = softmax_row(row);
                loss += lse - row[label];
                for (c, p) in probs.iter().enumerate() {
                    let onehot = if c == label { 1.0 } else { 0.0 };
                    grad[r * classes + c] = (p - onehot) / rows as f64 * upstream;
                }
            }
            if matches!(op, Op::SoftmaxCrossEntropy) {
                vec![loss / rows as f64]
            } else {
                grad
            }
        }
        Op::MseLoss => {
            let n = x[0].data().len();
            let sum: f64 = x[0]
                .data()
                .iter()
                .zip(x[1].data())
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            vec![sum / n as f64]
        }
        _ => unreachable!("loss::eval called for {}", op.name()),
    };
    Ok(Tensor::from_parts(out.shape.clone(), data))
}
