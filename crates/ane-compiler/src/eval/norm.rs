//! Evaluation of softmax, LayerNorm, RMSNorm and the norms' backward ops.

use super::index::{rows_of_last_axis, split_at_axis};
use super::Tensor;
use crate::op::Op;
use crate::shape::ValueType;

/// Per-row statistics of LayerNorm: mean and reciprocal standard deviation.
fn layer_norm_stats(row: &[f64], eps: f64) -> (f64, f64) {
    let d = row.len() as f64;
    let mean = row.iter().sum::<f64>() / d;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / d;
    (mean, 1.0 / (var + eps).sqrt())
}

/// RMSNorm's reciprocal root mean square of a row.
fn rms_scale(row: &[f64], eps: f64) -> f64 {
    let mean_square = row.iter().map(|v| v * v).sum::<f64>() / row.len() as f64;
    1.0 / (mean_square + eps).sqrt()
}

pub(super) fn eval(op: &Op, x: &[&Tensor], out: &ValueType) -> Tensor {
    let input = x[0];
    let (rows, d) = rows_of_last_axis(input.shape());
    let row = |t: &Tensor, r: usize| -> Vec<f64> { t.data()[r * d..(r + 1) * d].to_vec() };
    let data = match op {
        Op::Softmax { axis } => {
            let (outer, len, inner) = split_at_axis(input.shape(), *axis);
            let mut data = vec![0.0; input.data().len()];
            for o in 0..outer {
                for j in 0..inner {
                    let at = |i: usize| (o * len + i) * inner + j;
                    let max = (0..len)
                        .map(|i| input.data()[at(i)])
                        .fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = (0..len).map(|i| (input.data()[at(i)] - max).exp()).sum();
                    for i in 0..len {
                        data[at(i)] = (input.data()[at(i)] - max).exp() / sum;
                    }
                }
            }
            data
        }
        Op::LayerNorm { eps } => {
            let (gamma, beta) = (x[1].data(), x[2].data());
            (0..rows)
                .flat_map(|r| {
                    let v = row(input, r);
                    let (mean, rstd) = layer_norm_stats(&v, *eps as f64);
                    (0..d)
                        .map(move |i| (v[i] - mean) * rstd * gamma[i] + beta[i])
                        .collect::<Vec<_>>()
                })
                .collect()
        }
        Op::LayerNormBackwardInput { eps } => {
            let (gamma, dy) = (x[1].data(), x[2]);
            (0..rows)
                .flat_map(|r| {
                    let v = row(input, r);
                    let (mean, rstd) = layer_norm_stats(&v, *eps as f64);
                    let xhat: Vec<f64> = v.iter().map(|a| (a - mean) * rstd).collect();
                    let g: Vec<f64> = row(dy, r).iter().zip(gamma).map(|(a, b)| a * b).collect();
                    let mean_g = g.iter().sum::<f64>() / d as f64;
                    let mean_gx = g.iter().zip(&xhat).map(|(a, b)| a * b).sum::<f64>() / d as f64;
                    (0..d)
                        .map(move |i| rstd * (g[i] - mean_g - xhat[i] * mean_gx))
                        .collect::<Vec<_>>()
                })
                .collect()
        }
        Op::LayerNormBackwardWeight { eps } => {
            let mut dgamma = vec![0.0; d];
            for r in 0..rows {
                let v = row(input, r);
                let (mean, rstd) = layer_norm_stats(&v, *eps as f64);
                for (i, g) in row(x[1], r).iter().enumerate() {
                    dgamma[i] += g * (v[i] - mean) * rstd;
                }
            }
            dgamma
        }
        Op::RmsNorm { eps } => {
            let w = x[1].data();
            (0..rows)
                .flat_map(|r| {
                    let v = row(input, r);
                    let scale = rms_scale(&v, *eps as f64);
                    (0..d).map(move |i| v[i] * scale * w[i]).collect::<Vec<_>>()
                })
                .collect()
        }
        Op::RmsNormBackwardInput { eps } => {
            let (w, dy) = (x[1].data(), x[2]);
            (0..rows)
                .flat_map(|r| {
                    let v = row(input, r);
                    let scale = rms_scale(&v, *eps as f64);
                    let g: Vec<f64> = row(dy, r).iter().zip(w).map(|(a, b)| a * b).collect();
                    let mean_gx = g.iter().zip(&v).map(|(a, b)| a * b).sum::<f64>() / d as f64;
                    (0..d)
                        .map(move |i| scale * (g[i] - v[i] * scale * scale * mean_gx))
                        .collect::<Vec<_>>()
                })
                .collect()
        }
        Op::RmsNormBackwardWeight { eps } => {
            let mut dw = vec![0.0; d];
            for r in 0..rows {
                let v = row(input, r);
                let scale = rms_scale(&v, *eps as f64);
                for (i, g) in row(x[1], r).iter().enumerate() {
                    dw[i] += g * v[i] * scale;
                }
            }
            dw
        }
        _ => unreachable!("norm::eval called for {}", op.name()),
    };
    Tensor::from_parts(out.shape.clone(), data)
}
