//! Evaluation of generated tensors: fills, the causal mask, dropout masks.

use super::{EvalError, Tensor};
use crate::dropout;
use crate::op::{Op, CAUSAL_MASK_VALUE};
use crate::shape::ValueType;

pub(super) fn eval(op: &Op, x: &[&Tensor], out: &ValueType) -> Result<Tensor, EvalError> {
    let n = out.shape.numel();
    let data = match op {
        Op::Full { value, .. } => vec![*value as f64; n],
        Op::CausalMask { size } => (0..n)
            .map(|i| {
                if i % size > i / size {
                    CAUSAL_MASK_VALUE as f64
                } else {
                    0.0
                }
            })
            .collect(),
        Op::DropoutMask { p, site, .. } => {
            // The rng input was validated as i32 when fed.
            let seed = x[0].data()[0] as i32;
            let step = x[0].data()[1] as i32;
            let scale = dropout::keep_scale(*p);
            (0..n)
                .map(|i| {
                    if dropout::keep(seed, step, *site, i as u64, *p) {
                        scale
                    } else {
                        0.0
                    }
                })
                .collect()
        }
        _ => unreachable!("generated::eval called for {}", op.name()),
    };
    Ok(Tensor::from_parts(out.shape.clone(), data))
}
