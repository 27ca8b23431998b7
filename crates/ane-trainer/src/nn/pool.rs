//! `MaxPool2d` and `AvgPool2d` on NCHW (floor mode, PyTorch's default `ceil_mode=False`).

use super::error::NnError;
use super::module::{Ctx, InModule, Module, ParamSpec};
use ane_compiler::{Graph, Pool2dParams, ValueId};

/// Checks a pooling geometry the way PyTorch does (non-zero window and stride, padding at most
/// half the window).
fn check_pool(ctx: &Ctx, kind: &str, p: &Pool2dParams) -> Result<(), NnError> {
    if p.kernel.contains(&0) || p.stride.contains(&0) {
        return Err(ctx.bad_module(format!("{kind}: kernel and stride must be non-zero ({p})")));
    }
    if (0..2).any(|i| 2 * p.padding[i] > p.kernel[i]) {
        return Err(ctx.bad_module(format!(
            "{kind}: padding must be at most half the kernel ({p})"
        )));
    }
    Ok(())
}

fn square_pool(kernel: usize) -> Pool2dParams {
    Pool2dParams {
        kernel: [kernel, kernel],
        stride: [kernel, kernel],
        padding: [0, 0],
    }
}

/// Max over windows (`torch.nn.MaxPool2d`); padded positions never win.
#[derive(Debug, Clone, PartialEq)]
pub struct MaxPool2d {
    /// Window, stride and padding.
    pub pool: Pool2dParams,
}

impl MaxPool2d {
    /// `MaxPool2d(kernel)`: square window, stride = kernel (PyTorch's default), no padding.
    pub fn new(kernel: usize) -> Self {
        MaxPool2d {
            pool: square_pool(kernel),
        }
    }

    /// With the same stride along H and W.
    pub fn stride(mut self, stride: usize) -> Self {
        self.pool.stride = [stride, stride];
        self
    }

    /// With the same padding along H and W.
    pub fn padding(mut self, padding: usize) -> Self {
        self.pool.padding = [padding, padding];
        self
    }
}

impl Module for MaxPool2d {
    fn declare_params(&self, ctx: &Ctx, _: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        check_pool(ctx, "MaxPool2d", &self.pool)
    }

    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        check_pool(ctx, "MaxPool2d", &self.pool)?;
        g.max_pool2d(x, self.pool).in_module(ctx)
    }
}

/// Mean over windows (`torch.nn.AvgPool2d`).
#[derive(Debug, Clone, PartialEq)]
pub struct AvgPool2d {
    /// Window, stride and padding.
    pub pool: Pool2dParams,
    /// Whether padded zeros count in the divisor (PyTorch's default: true).
    pub count_include_pad: bool,
}

impl AvgPool2d {
    /// `AvgPool2d(kernel)`: square window, stride = kernel, no padding, `count_include_pad=True`.
    pub fn new(kernel: usize) -> Self {
        AvgPool2d {
            pool: square_pool(kernel),
            count_include_pad: true,
        }
    }

    /// With the same stride along H and W.
    pub fn stride(mut self, stride: usize) -> Self {
        self.pool.stride = [stride, stride];
        self
    }

    /// With the same padding along H and W.
    pub fn padding(mut self, padding: usize) -> Self {
        self.pool.padding = [padding, padding];
        self
    }

    /// Whether padded zeros count in the divisor.
    pub fn count_include_pad(mut self, include: bool) -> Self {
        self.count_include_pad = include;
        self
    }
}

impl Module for AvgPool2d {
    fn declare_params(&self, ctx: &Ctx, _: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        check_pool(ctx, "AvgPool2d", &self.pool)
    }

    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        check_pool(ctx, "AvgPool2d", &self.pool)?;
        g.avg_pool2d(x, self.pool, self.count_include_pad)
            .in_module(ctx)
    }
}
