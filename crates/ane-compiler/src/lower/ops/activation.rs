//! Activations and their backward ops (`dy · f'(x)`), composed from MIL elementwise ops.
//!
//! SiLU is `x · sigmoid(x)` (the form maderix runs on the ANE). Derivatives are the closed forms
//! of the IR definition; ReLU's uses `greater` + `select` (0 at 0, as the IR). MIL has no `erf`,
//! so exact GELU's derivative `Φ(x) + x·φ(x)` computes `Φ` from Abramowitz & Stegun 7.1.26
//! (|error| ≤ 1.5e-7, below fp32 tolerances and far below fp16's). Both GELU derivatives clip
//! `x` to ±20 first: the derivative is exactly 0 or 1 (to fp32) beyond, and fp16 cubes of larger
//! values would overflow into `0 · ∞`.

use super::NodeArgs;
use crate::lower::context::LowerCx;
use crate::lower::error::LowerError;
use crate::op::{GeluApprox, Op, UnaryOp};
use ane_mil::builder::{GeluMode, Var};
use std::f64::consts::PI;

/// GELU's tanh-approximation cubic coefficient.
const GELU_TANH_C: f64 = 0.044_715;
/// Beyond this magnitude GELU's derivative is 0 or 1 to fp32 precision.
const GELU_DERIVATIVE_CLIP: f64 = 20.0;
/// Abramowitz & Stegun 7.1.26: `erf(z) ≈ 1 − t·(a1 + t·(a2 + …)) · e^(−z²)`, `t = 1/(1 + p·z)`.
const AS_P: f64 = 0.327_591_1;
const AS_A: [f64; 5] = [
    0.254_829_592,
    -0.284_496_736,
    1.421_413_741,
    -1.453_152_027,
    1.061_405_429,
];

pub(super) fn lower(cx: &mut LowerCx, n: &NodeArgs) -> Result<Var, LowerError> {
    let x = n.arg(0);
    match n.op {
        Op::Unary(kind) => forward(cx, *kind, x),
        Op::UnaryBackward(kind) => {
            let dy = n.arg(1);
            if let UnaryOp::Relu = kind {
                let zero = cx.scalar(0.0)?;
                let r = cx.f.greater(x, &zero);
                let positive = cx.ok(r)?;
                let r = cx.f.select(&positive, dy, &zero);
                return cx.ok(r);
            }
            let d = derivative(cx, *kind, x)?;
            cx.mul(dy, &d)
        }
        _ => unreachable!("activation::lower called for {}", n.op.name()),
    }
}

fn forward(cx: &mut LowerCx, kind: UnaryOp, x: &Var) -> Result<Var, LowerError> {
    let r = match kind {
        UnaryOp::Relu => cx.f.relu(x),
        UnaryOp::Gelu(GeluApprox::Exact) => cx.f.gelu(x, GeluMode::Exact),
        UnaryOp::Gelu(GeluApprox::Tanh) => cx.f.gelu(x, GeluMode::TanhApproximation),
        UnaryOp::Sigmoid => cx.f.sigmoid(x),
        UnaryOp::Tanh => cx.f.tanh(x),
        UnaryOp::Silu => {
            let r = cx.f.sigmoid(x);
            let s = cx.ok(r)?;
            cx.f.mul(x, &s)
        }
    };
    cx.ok(r)
}

/// `f'(x)` for every activation but ReLU.
fn derivative(cx: &mut LowerCx, kind: UnaryOp, x: &Var) -> Result<Var, LowerError> {
    match kind {
        UnaryOp::Sigmoid => {
            let s = forward(cx, UnaryOp::Sigmoid, x)?;
            let one_minus = cx.const_sub(1.0, &s)?;
            cx.mul(&s, &one_minus)
        }
        UnaryOp::Tanh => {
            let t = forward(cx, UnaryOp::Tanh, x)?;
            let t2 = cx.mul(&t, &t)?;
            cx.const_sub(1.0, &t2)
        }
        UnaryOp::Silu => {
            // σ·(1 + x·(1 − σ))
            let s = forward(cx, UnaryOp::Sigmoid, x)?;
            let one_minus = cx.const_sub(1.0, &s)?;
            let xs = cx.mul(x, &one_minus)?;
            let inner = cx.add_const(&xs, 1.0)?;
            cx.mul(&s, &inner)
        }
        UnaryOp::Gelu(GeluApprox::Tanh) => {
            // 0.5·(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3k·x²),  t = tanh(c·x·(1 + k·x²))
            let x = cx.clip(x, -GELU_DERIVATIVE_CLIP, GELU_DERIVATIVE_CLIP)?;
            let c = (2.0 / PI).sqrt();
            let x2 = cx.mul(&x, &x)?;
            let kx2 = cx.mul_const(&x2, GELU_TANH_C)?;
            let poly = cx.add_const(&kx2, 1.0)?;
            let xp = cx.mul(&x, &poly)?;
            let inner = cx.mul_const(&xp, c)?;
            let t = forward(cx, UnaryOp::Tanh, &inner)?;
            let one_plus_t = cx.add_const(&t, 1.0)?;
            let left = cx.mul_const(&one_plus_t, 0.5)?;
            let t2 = cx.mul(&t, &t)?;
            let sech2 = cx.const_sub(1.0, &t2)?;
            let k3x2 = cx.mul_const(&x2, 3.0 * GELU_TANH_C)?;
            let dpoly = cx.add_const(&k3x2, 1.0)?;
            let prod = cx.mul(&sech2, &dpoly)?;
            let xprod = cx.mul(&x, &prod)?;
            let right = cx.mul_const(&xprod, 0.5 * c)?;
            cx.add(&left, &right)
        }
        UnaryOp::Gelu(GeluApprox::Exact) => {
            // Φ(x) + x·φ(x), with e = exp(−x²/2) shared by φ and the erfc approximation.
            let x = cx.clip(x, -GELU_DERIVATIVE_CLIP, GELU_DERIVATIVE_CLIP)?;
            let x2 = cx.mul(&x, &x)?;
            let half_x2 = cx.mul_const(&x2, -0.5)?;
            let e = cx.exp(&half_x2)?;
            let r = cx.f.abs(&x);
            let ax = cx.ok(r)?;
            // z = |x|/√2, t = 1/(1 + p·z)
            let pz = cx.mul_const(&ax, AS_P / 2f64.sqrt())?;
            let denom = cx.add_const(&pz, 1.0)?;
            let one = cx.scalar(1.0)?;
            let t = cx.div(&one, &denom)?;
            let mut poly = cx.mul_const(&t, AS_A[4])?;
            for &a in AS_A[..4].iter().rev() {
                let shifted = cx.add_const(&poly, a)?;
                poly = cx.mul(&t, &shifted)?;
            }
            // erfc(|x|/√2) = poly · e;  Φ(x) = x ≥ 0 ? 1 − erfc/2 : erfc/2
            let erfc = cx.mul(&poly, &e)?;
            let half_erfc = cx.mul_const(&erfc, 0.5)?;
            let upper = cx.const_sub(1.0, &half_erfc)?;
            let zero = cx.scalar(0.0)?;
            let r = cx.f.greater_equal(&x, &zero);
            let nonnegative = cx.ok(r)?;
            let r = cx.f.select(&nonnegative, &upper, &half_erfc);
            let cdf = cx.ok(r)?;
            let xe = cx.mul(&x, &e)?;
            let pdf_term = cx.mul_const(&xe, 1.0 / (2.0 * PI).sqrt())?;
            cx.add(&cdf, &pdf_term)
        }
        UnaryOp::Relu => unreachable!("ReLU's derivative is a select, handled by the caller"),
    }
}
