//! Gradients of convolution and pooling, through their dedicated backward ops.

use super::RuleCx;
use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::Op;

pub(super) fn backward(g: &mut Graph, cx: &RuleCx) -> Result<Vec<Option<ValueId>>, GraphError> {
    let x = cx.input(0);
    let x_dims = g.shape(x)?.dims().to_vec();
    let input_hw = [x_dims[2], x_dims[3]];
    match cx.node.op {
        Op::Conv2d(params) => {
            let w = cx.input(1);
            let w_dims = g.shape(w)?.dims().to_vec();
            let dx = cx.when_needed(g, 0, |g| {
                g.add_node(Op::Conv2dBackwardData { params, input_hw }, &[cx.dy, w])
            })?;
            let dw = cx.when_needed(g, 1, |g| {
                let kernel_hw = [w_dims[2], w_dims[3]];
                g.add_node(Op::Conv2dBackwardWeight { params, kernel_hw }, &[x, cx.dy])
            })?;
            let mut grads = vec![dx, dw];
            if cx.node.inputs.len() == 3 {
                grads.push(cx.when_needed(g, 2, |g| g.reduce_sum(cx.dy, &[0, 2, 3], false))?);
            }
            Ok(grads)
        }
        Op::MaxPool2d(pool) => Ok(vec![cx.when_needed(g, 0, |g| {
            g.add_node(Op::MaxPool2dBackward(pool), &[x, cx.dy])
        })?]),
        Op::AvgPool2d {
            pool,
            count_include_pad,
        } => Ok(vec![cx.when_needed(g, 0, |g| {
            g.add_node(
                Op::AvgPool2dBackward {
                    pool,
                    count_include_pad,
                    input_hw,
                },
                &[cx.dy],
            )
        })?]),
        _ => unreachable!(),
    }
}
