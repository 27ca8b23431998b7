//! `linear` and batched `matmul`: MIL `matmul` with runtime operands on rank-4 (or rank-5)
//! tensors, transposes through `transpose_x/y`, contraction padded by the context's `matmul`.

use super::NodeArgs;
use crate::lower::context::LowerCx;
use crate::lower::error::LowerError;
use crate::op::Op;
use ane_mil::builder::Var;

pub(super) fn lower(cx: &mut LowerCx, n: &NodeArgs) -> Result<Var, LowerError> {
    match n.op {
        Op::Linear => linear(cx, n),
        Op::MatMul {
            transpose_a,
            transpose_b,
        } => matmul(cx, n, *transpose_a, *transpose_b),
        _ => unreachable!("linalg::lower called for {}", n.op.name()),
    }
}

/// `y = x·wᵀ + b` as `[1, 1, rows, in] @ [1, 1, out, in]ᵀ`.
fn linear(cx: &mut LowerCx, n: &NodeArgs) -> Result<Var, LowerError> {
    let (out_features, in_features) = (n.dims(1)[0], n.dims(1)[1]);
    let rows = n.shapes[0].numel() / in_features.max(1);
    let x = cx.reshape(n.arg(0), &[1, 1, rows, in_features])?;
    let w = cx.reshape(n.arg(1), &[1, 1, out_features, in_features])?;
    let mut y = cx.matmul(&x, &w, false, true)?;
    if let Some(b) = n.args.get(2) {
        let b = cx.reshape(b, &[1, 1, 1, out_features])?;
        let r = cx.f.add(&y, &b);
        y = cx.ok(r)?;
    }
    cx.fit(&y, n.out)
}

/// Both operands left-padded with unit axes to rank 4 (the ANE's native rank; rank 5 stays 5).
fn matmul(cx: &mut LowerCx, n: &NodeArgs, ta: bool, tb: bool) -> Result<Var, LowerError> {
    let rank = n.shapes[0].rank().max(n.shapes[1].rank()).max(4);
    let lift = |dims: &[usize]| {
        let mut d = vec![1; rank - dims.len()];
        d.extend_from_slice(dims);
        d
    };
    let a = cx.reshape(n.arg(0), &lift(n.dims(0)))?;
    let b = cx.reshape(n.arg(1), &lift(n.dims(1)))?;
    let y = cx.matmul(&a, &b, ta, tb)?;
    cx.fit(&y, n.out)
}
