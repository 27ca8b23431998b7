//! Builder methods for convolution and pooling (NCHW).

use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::{Conv2dParams, Op, Pool2dParams};

impl Graph {
    /// 2-D convolution of `x: [N, C, H, W]` with `w: [O, C/groups, kh, kw]` and optional bias `[O]`.
    pub fn conv2d(
        &mut self,
        x: ValueId,
        w: ValueId,
        b: Option<ValueId>,
        params: Conv2dParams,
    ) -> Result<ValueId, GraphError> {
        match b {
            Some(b) => self.add_node(Op::Conv2d(params), &[x, w, b]),
            None => self.add_node(Op::Conv2d(params), &[x, w]),
        }
    }

    /// Max pooling over windows of `x: [N, C, H, W]`.
    pub fn max_pool2d(&mut self, x: ValueId, pool: Pool2dParams) -> Result<ValueId, GraphError> {
        self.add_node(Op::MaxPool2d(pool), &[x])
    }

    /// Average pooling over windows of `x: [N, C, H, W]`; `count_include_pad` as in PyTorch
    /// (default there: `true`).
    pub fn avg_pool2d(
        &mut self,
        x: ValueId,
        pool: Pool2dParams,
        count_include_pad: bool,
    ) -> Result<ValueId, GraphError> {
        self.add_node(
            Op::AvgPool2d {
                pool,
                count_include_pad,
            },
            &[x],
        )
    }
}
