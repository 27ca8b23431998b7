//! Sliding-window parameters shared by `conv`, `conv_transpose` and the poolings: strides,
//! dilations, kernel sizes and the `(before, after)` padding of every spatial dim, resolved with
//! `ane_mil::ops::shape::window_padding` (MIL's `valid`, `same`, `same_lower`, `custom`).

use crate::error::SimError;
use crate::prepare::op_cx::OpCx;
use ane_mil::ops::shape::{window_padding, PadType};

/// A positive value per spatial dim from constant `name` (1s when absent).
pub(crate) fn per_dim(cx: &OpCx<'_>, name: &str, spatial: usize) -> Result<Vec<usize>, SimError> {
    if !cx.has(name) {
        return Ok(vec![1; spatial]);
    }
    let values = cx.ints(name)?;
    if values.len() != spatial || values.iter().any(|&v| v < 1) {
        return Err(cx.internal(format!(
            "`{name}` must hold {spatial} positive values, got {values:?}"
        )));
    }
    Ok(values.iter().map(|&v| v as usize).collect())
}

/// The pad type named by constant `pad_type`.
pub(crate) fn pad_type(cx: &OpCx<'_>) -> Result<PadType, SimError> {
    let name = cx.string("pad_type")?;
    PadType::from_name(&name).ok_or_else(|| cx.unsupported(format!("unknown pad_type \"{name}\"")))
}

/// The custom `(before, after)` padding per spatial dim from constant `pad` (zeros when the pad
/// type is not `custom`).
pub(crate) fn custom_pads(
    cx: &OpCx<'_>,
    pad_type: PadType,
    spatial: usize,
) -> Result<Vec<(usize, usize)>, SimError> {
    if pad_type != PadType::Custom {
        return Ok(vec![(0, 0); spatial]);
    }
    let values = cx.ints("pad")?;
    if values.len() != 2 * spatial || values.iter().any(|&v| v < 0) {
        return Err(cx.internal(format!(
            "`pad` must hold {} non-negative values",
            2 * spatial
        )));
    }
    Ok(values
        .chunks(2)
        .map(|c| (c[0] as usize, c[1] as usize))
        .collect())
}

/// `(before, after)` padding of a window op (conv, pooling) for each spatial dim, given input
/// sizes and effective kernel extents.
pub(crate) fn window_pads(
    pad_type: PadType,
    custom: &[(usize, usize)],
    input: &[usize],
    extent: &[usize],
    strides: &[usize],
) -> Vec<(usize, usize)> {
    (0..input.len())
        .map(|d| window_padding(pad_type, input[d], extent[d], strides[d], custom[d]))
        .collect()
}

/// `(k − 1) · dilation + 1`.
pub(crate) fn effective(kernel: usize, dilation: usize) -> usize {
    kernel.saturating_sub(1) * dilation + 1
}
