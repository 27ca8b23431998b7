//! Losses. Softmax cross-entropy and its backward read integer labels, so they only exist in fp32
//! multi-input host kernels: numerically stable `logsumexp(x − max) − (x − max)[label]` with the
//! label picked through `one_hot` (no gather). MSE is plain arithmetic and runs anywhere.

use super::NodeArgs;
use crate::lower::context::LowerCx;
use crate::lower::error::LowerError;
use crate::op::Op;
use ane_mil::builder::Var;

pub(super) fn lower(cx: &mut LowerCx, n: &NodeArgs) -> Result<Var, LowerError> {
    let y = match n.op {
        Op::SoftmaxCrossEntropy | Op::SoftmaxCrossEntropyBackward => {
            let logits = n.arg(0);
            let rank = logits.ty.rank();
            let classes = n.dims(0)[n.dims(0).len() - 1];
            let rows = n.shapes[0].numel() / classes;
            let r = cx.f.reduce_max(logits, &[rank as i32 - 1], true);
            let max = cx.ok(r)?;
            let shifted = cx.sub(logits, &max)?;
            let e = cx.exp(&shifted)?;
            let total = cx.sum_keep(&e, &[rank - 1])?;
            let r = cx.f.one_hot(n.arg(1), classes, -1, 1.0, 0.0, cx.float);
            let onehot = cx.ok(r)?;
            if let Op::SoftmaxCrossEntropy = n.op {
                let r = cx.f.log(&total, 0.0);
                let lse = cx.ok(r)?;
                let picked_all = cx.mul(&onehot, &shifted)?;
                let picked = cx.sum_keep(&picked_all, &[rank - 1])?;
                let per_row = cx.sub(&lse, &picked)?;
                let all: Vec<usize> = (0..rank).collect();
                let sum = cx.sum_keep(&per_row, &all)?;
                cx.mul_const(&sum, 1.0 / rows as f64)?
            } else {
                let probs = cx.div(&e, &total)?;
                let diff = cx.sub(&probs, &onehot)?;
                let mean = cx.mul_const(&diff, 1.0 / rows as f64)?;
                cx.mul(&mean, n.arg(2))?
            }
        }
        Op::MseLoss => {
            let count = n.shapes[0].numel();
            let diff = cx.sub(n.arg(0), n.arg(1))?;
            let sq = cx.mul(&diff, &diff)?;
            let all: Vec<usize> = (0..sq.ty.rank()).collect();
            let sum = cx.sum_keep(&sq, &all)?;
            cx.mul_const(&sum, 1.0 / count as f64)?
        }
        _ => unreachable!("loss::lower called for {}", n.op.name()),
    };
    cx.fit(&y, n.out)
}
