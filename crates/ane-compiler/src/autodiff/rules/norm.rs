//! Gradients of softmax (as primitives) and of LayerNorm/RMSNorm (dedicated backward ops).

use super::RuleCx;
use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::Op;

pub(super) fn backward(g: &mut Graph, cx: &RuleCx) -> Result<Vec<Option<ValueId>>, GraphError> {
    let (x, dy) = (cx.input(0), cx.dy);
    let rank = g.shape(x)?.rank() as isize;
    let leading_axes: Vec<isize> = (0..rank - 1).collect();
    match cx.node.op {
        Op::Softmax { axis } => Ok(vec![cx.when_needed(g, 0, |g| {
            // dx = y · (dy − Σ_axis y·dy)
            let y = cx.node.output;
            let y_dy = g.mul(y, dy)?;
            let row_sum = g.reduce_sum(y_dy, &[axis as isize], true)?;
            let centered = g.sub(dy, row_sum)?;
            g.mul(y, centered)
        })?]),
        Op::LayerNorm { eps } => {
            let gamma = cx.input(1);
            let dx = cx.when_needed(g, 0, |g| {
                g.add_node(Op::LayerNormBackwardInput { eps }, &[x, gamma, dy])
            })?;
            let dgamma = cx.when_needed(g, 1, |g| {
                g.add_node(Op::LayerNormBackwardWeight { eps }, &[x, dy])
            })?;
            let dbeta = cx.when_needed(g, 2, |g| g.reduce_sum(dy, &leading_axes, false))?;
            Ok(vec![dx, dgamma, dbeta])
        }
        Op::RmsNorm { eps } => {
            let w = cx.input(1);
            let dx = cx.when_needed(g, 0, |g| {
                g.add_node(Op::RmsNormBackwardInput { eps }, &[x, w, dy])
            })?;
            let dw = cx.when_needed(g, 1, |g| {
                g.add_node(Op::RmsNormBackwardWeight { eps }, &[x, dy])
            })?;
            Ok(vec![dx, dw])
        }
        _ => unreachable!(),
    }
}
