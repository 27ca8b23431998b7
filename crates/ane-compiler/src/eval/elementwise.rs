//! Evaluation of broadcasting binary arithmetic, scalar arithmetic and activations.

use super::index::{broadcast_offset, unravel};
use super::math::{unary, unary_derivative};
use super::Tensor;
use crate::op::{BinaryOp, Op};
use crate::shape::ValueType;

pub(super) fn eval(op: &Op, x: &[&Tensor], out: &ValueType) -> Tensor {
    let data = match op {
        Op::Binary(kind) => {
            let (a, b) = (x[0], x[1]);
            let apply = |av: f64, bv: f64| match kind {
                BinaryOp::Add => av + bv,
                BinaryOp::Sub => av - bv,
                BinaryOp::Mul => av * bv,
                BinaryOp::Div => av / bv,
            };
            if a.shape() == b.shape() {
                // Same shapes: no index arithmetic needed (the common case, kept fast for the
                // finite-difference checks that evaluate whole models thousands of times).
                a.data()
                    .iter()
                    .zip(b.data())
                    .map(|(&av, &bv)| apply(av, bv))
                    .collect()
            } else {
                let (sa, sb) = (a.shape().strides(), b.shape().strides());
                (0..out.shape.numel())
                    .map(|flat| {
                        let index = unravel(flat, &out.shape);
                        let av = a.data()[broadcast_offset(&index, a.shape(), &sa)];
                        let bv = b.data()[broadcast_offset(&index, b.shape(), &sb)];
                        apply(av, bv)
                    })
                    .collect()
            }
        }
        Op::ScalarMul(f) => x[0].data().iter().map(|v| v * *f as f64).collect(),
        Op::ScalarAdd(c) => x[0].data().iter().map(|v| v + *c as f64).collect(),
        Op::Unary(kind) => x[0].data().iter().map(|&v| unary(*kind, v)).collect(),
        Op::UnaryBackward(kind) => x[0]
            .data()
            .iter()
            .zip(x[1].data())
            .map(|(&v, &g)| g * unary_derivative(*kind, v))
            .collect(),
        _ => unreachable!("elementwise::eval called for {}", op.name()),
    };
    Tensor::from_parts(out.shape.clone(), data)
}
