//! `Conv2d`: 2-D convolution on NCHW with weight `[out, in/groups, kh, kw]` and bias `[out]`.
//! Default initialization as `torch.nn.Conv2d`: weight and bias U(−1/√fan_in, 1/√fan_in) with
//! `fan_in = in/groups · kh · kw` (see [`Init`]).

use super::error::NnError;
use super::init::Init;
use super::module::{Ctx, InModule, Module, ParamSpec};
use ane_compiler::{Conv2dParams, Graph, ValueId};

/// A 2-D convolution (dilation 1, zero padding on both sides).
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2d {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Window `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Step `[sh, sw]` (default 1).
    pub stride: [usize; 2],
    /// Zero padding `[ph, pw]` on both sides (default 0).
    pub padding: [usize; 2],
    /// Channel groups (default 1); both channel counts must divide by it.
    pub groups: usize,
    /// Whether there is a bias `[out]` (default true).
    pub bias: bool,
    /// Initializer of `weight`; `None` means PyTorch's default for the final geometry.
    pub weight_init: Option<Init>,
    /// Initializer of `bias`; `None` means PyTorch's default for the final geometry.
    pub bias_init: Option<Init>,
}

impl Conv2d {
    /// `torch.nn.Conv2d(in, out, kernel)` with a square `kernel × kernel` window.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> Self {
        Conv2d {
            in_channels,
            out_channels,
            kernel: [kernel, kernel],
            stride: [1, 1],
            padding: [0, 0],
            groups: 1,
            bias: true,
            weight_init: None,
            bias_init: None,
        }
    }

    /// With a rectangular window `[kh, kw]`.
    pub fn kernel_hw(mut self, kernel: [usize; 2]) -> Self {
        self.kernel = kernel;
        self
    }

    /// With the same stride along H and W.
    pub fn stride(mut self, stride: usize) -> Self {
        self.stride = [stride, stride];
        self
    }

    /// With the same padding along H and W.
    pub fn padding(mut self, padding: usize) -> Self {
        self.padding = [padding, padding];
        self
    }

    /// With `groups` channel groups.
    pub fn groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// Without a bias.
    pub fn no_bias(mut self) -> Self {
        self.bias = false;
        self
    }

    /// `in/groups · kh · kw`, the fan-in PyTorch's initializer uses.
    pub fn fan_in(&self) -> usize {
        (self.in_channels / self.groups.max(1)) * self.kernel[0] * self.kernel[1]
    }

    /// The weight shape `[out, in/groups, kh, kw]`.
    pub fn weight_shape(&self) -> [usize; 4] {
        [
            self.out_channels,
            self.in_channels / self.groups.max(1),
            self.kernel[0],
            self.kernel[1],
        ]
    }

    /// The geometry handed to the graph op.
    pub fn conv_params(&self) -> Conv2dParams {
        Conv2dParams {
            stride: self.stride,
            padding: self.padding,
            groups: self.groups,
        }
    }

    fn check(&self, ctx: &Ctx) -> Result<(), NnError> {
        let problem = if self.in_channels == 0 || self.out_channels == 0 {
            Some("channel counts must be non-zero".to_string())
        } else if self.kernel.contains(&0) || self.stride.contains(&0) {
            Some("kernel and stride must be non-zero".to_string())
        } else if self.groups == 0
            || self.in_channels % self.groups != 0
            || self.out_channels % self.groups != 0
        {
            Some(format!(
                "groups={} must divide in_channels={} and out_channels={}",
                self.groups, self.in_channels, self.out_channels
            ))
        } else {
            None
        };
        match problem {
            Some(p) => Err(ctx.bad_module(format!(
                "Conv2d({} → {}, {}×{}): {p}",
                self.in_channels, self.out_channels, self.kernel[0], self.kernel[1]
            ))),
            None => Ok(()),
        }
    }
}

impl Module for Conv2d {
    fn declare_params(&self, ctx: &Ctx, params: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        self.check(ctx)?;
        let default = Init::pytorch_default(self.fan_in());
        params.push(ctx.spec(
            "weight",
            self.weight_shape().to_vec(),
            self.weight_init.unwrap_or(default),
        ));
        if self.bias {
            params.push(ctx.spec(
                "bias",
                vec![self.out_channels],
                self.bias_init.unwrap_or(default),
            ));
        }
        Ok(())
    }

    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        self.check(ctx)?;
        let w = ctx.param(g, "weight", &self.weight_shape())?;
        let b = if self.bias {
            Some(ctx.param(g, "bias", &[self.out_channels])?)
        } else {
            None
        };
        g.conv2d(x, w, b, self.conv_params()).in_module(ctx)
    }
}
