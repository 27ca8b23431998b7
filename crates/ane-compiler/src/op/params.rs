//! Attribute records shared by the convolution and pooling ops and their backward ops.

use std::fmt;

/// Geometry of a 2-D convolution (dilation is always 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Conv2dParams {
    /// Step between windows, `[along H, along W]`.
    pub stride: [usize; 2],
    /// Zero padding added on both sides, `[H, W]`.
    pub padding: [usize; 2],
    /// Number of channel groups; input and output channels must both divide by it.
    pub groups: usize,
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams {
            stride: [1, 1],
            padding: [0, 0],
            groups: 1,
        }
    }
}

impl fmt::Display for Conv2dParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stride={:?}, padding={:?}, groups={}",
            self.stride, self.padding, self.groups
        )
    }
}

/// Geometry of a 2-D pooling window (floor mode: partial windows at the end are dropped, as
/// PyTorch's default `ceil_mode=False`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pool2dParams {
    /// Window size `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Step between windows `[sh, sw]`.
    pub stride: [usize; 2],
    /// Padding on both sides `[ph, pw]`; at most half the window, as in PyTorch.
    pub padding: [usize; 2],
}

impl fmt::Display for Pool2dParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kernel={:?}, stride={:?}, padding={:?}",
            self.kernel, self.stride, self.padding
        )
    }
}

/// The output size of a strided window along one axis, floor mode; `None` when the window does
/// not fit even once.
pub fn window_output_size(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Option<usize> {
    let padded = input + 2 * padding;
    if kernel == 0 || stride == 0 || padded < kernel {
        return None;
    }
    Some((padded - kernel) / stride + 1)
}
