//! Gradients of `linear` and `matmul`, as matmuls, reshapes and sums.

use super::RuleCx;
use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::Op;

pub(super) fn backward(g: &mut Graph, cx: &RuleCx) -> Result<Vec<Option<ValueId>>, GraphError> {
    match cx.node.op {
        Op::Linear => linear(g, cx),
        Op::MatMul {
            transpose_a,
            transpose_b,
        } => matmul(g, cx, transpose_a, transpose_b),
        _ => unreachable!(),
    }
}

/// `y = x·wᵀ + b`: with rows flattened to `[R, ·]`, `dx = dy·w`, `dw = dyᵀ·x`, `db = Σ_rows dy`.
fn linear(g: &mut Graph, cx: &RuleCx) -> Result<Vec<Option<ValueId>>, GraphError> {
    let (x, w) = (cx.input(0), cx.input(1));
    let x_shape = g.shape(x)?.clone();
    let (n_out, n_in) = (g.shape(w)?.dims()[0], g.shape(w)?.dims()[1]);
    let rows = x_shape.numel() / n_in.max(1);
    let dy_rows = g.reshape(cx.dy, &[rows, n_out])?;
    let dx = cx.when_needed(g, 0, |g| {
        let dx_rows = g.matmul(dy_rows, w)?;
        g.reshape(dx_rows, x_shape.dims())
    })?;
    let dw = cx.when_needed(g, 1, |g| {
        let x_rows = g.reshape(x, &[rows, n_in])?;
        g.matmul_t(dy_rows, x_rows, true, false)
    })?;
    let mut grads = vec![dx, dw];
    if cx.node.inputs.len() == 3 {
        grads.push(cx.when_needed(g, 2, |g| g.reduce_sum(dy_rows, &[0], false))?);
    }
    Ok(grads)
}

/// `C = op(A)·op(B)`; the four transpose cases, then summed over broadcast batch axes.
fn matmul(
    g: &mut Graph,
    cx: &RuleCx,
    ta: bool,
    tb: bool,
) -> Result<Vec<Option<ValueId>>, GraphError> {
    let (a, b, dc) = (cx.input(0), cx.input(1), cx.dy);
    let a_shape = g.shape(a)?.clone();
    let b_shape = g.shape(b)?.clone();
    let da = cx.when_needed(g, 0, |g| {
        let full = match (ta, tb) {
            (false, false) => g.matmul_t(dc, b, false, true)?, // dC·Bᵀ
            (false, true) => g.matmul_t(dc, b, false, false)?, // dC·B
            (true, false) => g.matmul_t(b, dc, false, true)?,  // B·dCᵀ
            (true, true) => g.matmul_t(b, dc, true, true)?,    // Bᵀ·dCᵀ
        };
        g.sum_to(full, &a_shape)
    })?;
    let db = cx.when_needed(g, 1, |g| {
        let full = match (ta, tb) {
            (false, false) => g.matmul_t(a, dc, true, false)?, // Aᵀ·dC
            (false, true) => g.matmul_t(dc, a, true, false)?,  // dCᵀ·A
            (true, false) => g.matmul_t(a, dc, false, false)?, // A·dC
            (true, true) => g.matmul_t(dc, a, true, true)?,    // dCᵀ·Aᵀ
        };
        g.sum_to(full, &b_shape)
    })?;
    Ok(vec![da, db])
}
