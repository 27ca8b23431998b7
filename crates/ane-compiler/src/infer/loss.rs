//! Inference for the losses (scalar outputs) and the fused cross-entropy backward.

use super::{f32_out, Ctx};
use crate::error::GraphError;
use crate::op::Op;
use crate::shape::{Shape, ValueType};

pub(super) fn infer(cx: &Ctx) -> Result<ValueType, GraphError> {
    match cx.op {
        Op::SoftmaxCrossEntropy => {
            cx.arity(2, 2)?;
            check_logits_labels(cx)?;
            f32_out(Shape::scalar())
        }
        Op::SoftmaxCrossEntropyBackward => {
            cx.arity(3, 3)?;
            check_logits_labels(cx)?;
            if *cx.f32(2)? != Shape::scalar() {
                return Err(cx.fail("dloss: f32[] (a scalar)"));
            }
            f32_out(cx.f32(0)?.clone())
        }
        Op::MseLoss => {
            cx.arity(2, 2)?;
            if cx.f32(0)? != cx.f32(1)? {
                return Err(cx.fail("prediction and target of the same shape"));
            }
            f32_out(Shape::scalar())
        }
        _ => unreachable!("loss::infer called for {}", cx.op.name()),
    }
}

fn check_logits_labels(cx: &Ctx) -> Result<(), GraphError> {
    let logits = cx.f32(0)?;
    let labels = cx.i32(1)?;
    let ok = logits.rank() >= 1
        && logits.last() != Some(0)
        && labels.dims() == &logits.dims()[..logits.rank() - 1];
    if !ok {
        return Err(cx.fail("logits: [..., C], labels: i32[...] (the leading axes of logits)"));
    }
    Ok(())
}
