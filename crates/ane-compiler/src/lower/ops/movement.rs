//! Reductions and data movement: `reduce_sum` (always kept dims, then reshaped), broadcasts as
//! `tile` (MIL has no broadcast op), `reshape`, `transpose`, `concat` (trees), `slice_by_size`,
//! constant `pad`.

use super::NodeArgs;
use crate::lower::context::{dims, mil_dims, to_i32, LowerCx};
use crate::lower::error::LowerError;
use crate::op::Op;
use ane_mil::builder::Var;

pub(super) fn lower(cx: &mut LowerCx, n: &NodeArgs) -> Result<Var, LowerError> {
    let x = n.arg(0);
    let y = match n.op {
        Op::ReduceSum { axes, .. } => {
            if axes.is_empty() {
                x.clone()
            } else {
                cx.sum_keep(x, axes)?
            }
        }
        Op::BroadcastTo { shape } => broadcast(cx, x, &mil_dims(shape))?,
        Op::Reshape { .. } => x.clone(),
        Op::Permute { perm } => {
            if perm.len() <= 1 || perm.iter().enumerate().all(|(i, &p)| i == p) {
                x.clone()
            } else {
                let p: Vec<i32> = perm.iter().map(|&a| a as i32).collect();
                let r = cx.f.transpose(x, &p);
                cx.ok(r)?
            }
        }
        Op::Concat { axis } => cx.concat(n.args, *axis)?,
        Op::Slice { axis, start, end } => cx.slice_axis(x, *axis, *start, end - start)?,
        Op::Pad {
            axis,
            before,
            after,
        } => cx.pad_axis(x, *axis, *before, *after, 0.0)?,
        _ => unreachable!("movement::lower called for {}", n.op.name()),
    };
    cx.fit(&y, n.out)
}

/// `x` broadcast to `target` (numpy rules): reshape to the target's rank, then `tile` the unit
/// axes that grow.
pub fn broadcast(cx: &mut LowerCx, x: &Var, target: &[usize]) -> Result<Var, LowerError> {
    let from = dims(x);
    let mut lifted = vec![1; target.len().saturating_sub(from.len())];
    lifted.extend_from_slice(&from);
    let x = cx.reshape(x, &lifted)?;
    let reps: Vec<usize> = lifted
        .iter()
        .zip(target)
        .map(|(&s, &t)| if s == t { 1 } else { t })
        .collect();
    if reps.iter().all(|&r| r == 1) {
        return Ok(x);
    }
    let reps = to_i32(&reps)?;
    let r = cx.f.tile(&x, &reps);
    cx.ok(r)
}
