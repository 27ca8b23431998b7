//! Unary math and activations on f32 slices (MIL `relu`, `sigmoid`, `silu`, `tanh`, `gelu`,
//! `exp`, `log`, `sqrt`, `rsqrt`, `inverse`, `abs`, `square`, `clip`, … ), with the epsilon
//! parameters of `log`, `rsqrt` and `inverse` explicit. Large slices are split into fixed-size
//! chunks across threads.

use super::erf::erf_f64;
use crate::threads::{ELEMENTWISE_CHUNK, PARALLEL_MIN_ELEMENTS};
use rayon::prelude::*;

/// The three `gelu` modes of MIL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeluMode {
    /// `0.5·x·(1 + erf(x/√2))`.
    Exact,
    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    TanhApproximation,
    /// `x·sigmoid(1.702·x)`.
    SigmoidApproximation,
}

/// A unary elementwise operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnaryOp {
    /// `max(x, 0)` (NaN stays NaN).
    Relu,
    /// `x` if `x ≥ 0`, else `alpha·x`.
    LeakyRelu {
        alpha: f32,
    },
    /// `1 / (1 + e^−x)`.
    Sigmoid,
    /// `x·sigmoid(x)`.
    Silu,
    Tanh,
    Gelu(GeluMode),
    /// `ln(1 + e^x)`, computed without overflow.
    Softplus,
    Exp,
    /// `2^x`.
    Exp2,
    /// `ln(x + epsilon)` (MIL default epsilon 1e-45).
    Log {
        epsilon: f32,
    },
    Sqrt,
    /// `1 / sqrt(x + epsilon)` (epsilon inside the root; MIL default 1e-12).
    Rsqrt {
        epsilon: f32,
    },
    /// `1 / (x + epsilon)` (MIL default 1e-4).
    Inverse {
        epsilon: f32,
    },
    Abs,
    Square,
    Neg,
    /// −1, 0 or 1 (NaN stays NaN).
    Sign,
    Floor,
    Ceil,
    /// Round half to even (numpy `round`).
    Round,
    Sin,
    Cos,
    Erf,
    /// `min(max(x, min), max)` (NaN stays NaN).
    Clip {
        min: f32,
        max: f32,
    },
}

impl UnaryOp {
    /// The operation on one value.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            UnaryOp::Relu => {
                if x < 0.0 {
                    0.0
                } else {
                    x
                }
            }
            UnaryOp::LeakyRelu { alpha } => {
                if x < 0.0 {
                    alpha * x
                } else {
                    x
                }
            }
            UnaryOp::Sigmoid => sigmoid(x),
            UnaryOp::Silu => x * sigmoid(x),
            UnaryOp::Tanh => x.tanh(),
            UnaryOp::Gelu(GeluMode::Exact) => {
                let xd = x as f64;
                (0.5 * xd * (1.0 + erf_f64(xd * std::f64::consts::FRAC_1_SQRT_2))) as f32
            }
            UnaryOp::Gelu(GeluMode::TanhApproximation) => {
                const SQRT_2_OVER_PI: f32 = 0.797_884_6;
                0.5 * x * (1.0 + (SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)).tanh())
            }
            UnaryOp::Gelu(GeluMode::SigmoidApproximation) => x * sigmoid(1.702 * x),
            UnaryOp::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
            UnaryOp::Exp => x.exp(),
            UnaryOp::Exp2 => x.exp2(),
            UnaryOp::Log { epsilon } => (x + epsilon).ln(),
            UnaryOp::Sqrt => x.sqrt(),
            UnaryOp::Rsqrt { epsilon } => 1.0 / (x + epsilon).sqrt(),
            UnaryOp::Inverse { epsilon } => 1.0 / (x + epsilon),
            UnaryOp::Abs => x.abs(),
            UnaryOp::Square => x * x,
            UnaryOp::Neg => -x,
            UnaryOp::Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    x * 0.0
                }
            }
            UnaryOp::Floor => x.floor(),
            UnaryOp::Ceil => x.ceil(),
            UnaryOp::Round => x.round_ties_even(),
            UnaryOp::Sin => x.sin(),
            UnaryOp::Cos => x.cos(),
            UnaryOp::Erf => erf_f64(x as f64) as f32,
            UnaryOp::Clip { min, max } => {
                if x.is_nan() {
                    x
                } else {
                    x.max(min).min(max)
                }
            }
        }
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `op` applied to every element, into a new vector.
pub fn unary_f32(op: UnaryOp, x: &[f32]) -> Vec<f32> {
    let mut out = x.to_vec();
    unary_f32_in_place(op, &mut out);
    out
}

/// `op` applied to every element in place.
pub fn unary_f32_in_place(op: UnaryOp, data: &mut [f32]) {
    let run = |chunk: &mut [f32]| apply_chunk(op, chunk);
    if data.len() >= PARALLEL_MIN_ELEMENTS {
        data.par_chunks_mut(ELEMENTWISE_CHUNK).for_each(run);
    } else {
        run(data);
    }
}

fn apply_chunk(op: UnaryOp, chunk: &mut [f32]) {
    // The cheap ops get their own loops so the compiler vectorizes them.
    match op {
        UnaryOp::Relu => chunk.iter_mut().for_each(|v| *v = UnaryOp::Relu.apply(*v)),
        UnaryOp::Square => chunk.iter_mut().for_each(|v| *v *= *v),
        UnaryOp::Abs => chunk.iter_mut().for_each(|v| *v = v.abs()),
        UnaryOp::Neg => chunk.iter_mut().for_each(|v| *v = -*v),
        UnaryOp::Inverse { epsilon } => chunk.iter_mut().for_each(|v| *v = 1.0 / (*v + epsilon)),
        other => chunk.iter_mut().for_each(|v| *v = other.apply(*v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f64, tol: f64) -> bool {
        (a as f64 - b).abs() <= tol * b.abs().max(1.0)
    }

    #[test]
    fn activations_match_f64_formulas() {
        let xs: Vec<f32> = (-400..=400).map(|i| i as f32 * 0.025).collect();
        for &x in &xs {
            let xd = x as f64;
            let sig = 1.0 / (1.0 + (-xd).exp());
            let erf = crate::elementwise::erf::erf_f64(xd / 2f64.sqrt());
            let cases = [
                (UnaryOp::Sigmoid, sig),
                (UnaryOp::Silu, xd * sig),
                (UnaryOp::Tanh, xd.tanh()),
                (UnaryOp::Gelu(GeluMode::Exact), 0.5 * xd * (1.0 + erf)),
                (
                    UnaryOp::Gelu(GeluMode::TanhApproximation),
                    0.5 * xd
                        * (1.0
                            + ((2.0 / std::f64::consts::PI).sqrt() * (xd + 0.044715 * xd.powi(3)))
                                .tanh()),
                ),
                (
                    UnaryOp::Gelu(GeluMode::SigmoidApproximation),
                    xd / (1.0 + (-1.702 * xd).exp()),
                ),
                (UnaryOp::Softplus, (1.0 + xd.exp()).ln()),
                (UnaryOp::Exp, xd.exp()),
                (UnaryOp::Square, xd * xd),
                (UnaryOp::Relu, xd.max(0.0)),
                (
                    UnaryOp::LeakyRelu { alpha: 0.1 },
                    if xd < 0.0 { 0.1 * xd } else { xd },
                ),
                (
                    UnaryOp::Clip {
                        min: -1.0,
                        max: 2.0,
                    },
                    xd.clamp(-1.0, 2.0),
                ),
                (UnaryOp::Erf, crate::elementwise::erf::erf_f64(xd)),
            ];
            for (op, expected) in cases {
                assert!(
                    close(op.apply(x), expected, 2e-6),
                    "{op:?}({x}) = {} vs {expected}",
                    op.apply(x)
                );
            }
        }
    }

    #[test]
    fn epsilons_and_edge_values() {
        assert_eq!(UnaryOp::Inverse { epsilon: 0.0 }.apply(4.0), 0.25);
        assert!(UnaryOp::Inverse { epsilon: 1e-4 }.apply(4.0) < 0.25);
        assert_eq!(UnaryOp::Rsqrt { epsilon: 0.0 }.apply(4.0), 0.5);
        assert_eq!(UnaryOp::Rsqrt { epsilon: 5.0 }.apply(4.0), 1.0 / 3.0);
        assert_eq!(UnaryOp::Log { epsilon: 0.0 }.apply(0.0), f32::NEG_INFINITY);
        assert_eq!(UnaryOp::Log { epsilon: 1.0 }.apply(0.0), 0.0);
        assert_eq!(UnaryOp::Round.apply(2.5), 2.0);
        assert_eq!(UnaryOp::Round.apply(-3.5), -4.0);
        assert!(UnaryOp::Relu.apply(f32::NAN).is_nan());
        assert!(UnaryOp::Clip { min: 0.0, max: 1.0 }
            .apply(f32::NAN)
            .is_nan());
        assert_eq!(UnaryOp::Sigmoid.apply(-200.0), 0.0);
        assert_eq!(UnaryOp::Sigmoid.apply(200.0), 1.0);
        assert_eq!(UnaryOp::Softplus.apply(200.0), 200.0);
        assert_eq!(UnaryOp::Sign.apply(-0.5), -1.0);
        assert_eq!(UnaryOp::Gelu(GeluMode::Exact).apply(-10.0), -0.0);
    }

    #[test]
    fn slice_application_matches_scalar_application() {
        let xs: Vec<f32> = (0..PARALLEL_MIN_ELEMENTS + 5)
            .map(|i| (i as f32 * 0.01).sin() * 3.0)
            .collect();
        for op in [
            UnaryOp::Relu,
            UnaryOp::Square,
            UnaryOp::Silu,
            UnaryOp::Inverse { epsilon: 0.5 },
        ] {
            let got = unary_f32(op, &xs);
            assert!(got
                .iter()
                .zip(&xs)
                .all(|(g, &x)| g.to_bits() == op.apply(x).to_bits()));
        }
    }
}
