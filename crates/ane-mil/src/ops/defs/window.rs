//! The sliding-window parameters shared by `conv`, `conv_transpose`, `max_pool` and `avg_pool`:
//! reading and checking `strides`, `dilations`, `pad_type` and `pad` against the number of spatial
//! dims.

use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::shape::{expect_len, positive_arg, size_arg, PadType};
use crate::program::Opset;
use crate::types::TensorType;

/// Checks that `x` is `[n, C, *spatial]` with 1–3 spatial dims; returns the spatial count.
pub fn spatial_rank(ctx: &InferCtx<'_, '_>, x: &TensorType) -> Result<usize, InferError> {
    if (3..=5).contains(&x.rank()) {
        Ok(x.rank() - 2)
    } else {
        Err(ctx.shape_error(format!(
            "`x` must be [n, C, *spatial] with 1 to 3 spatial dims (rank 3 to 5), got {x}"
        )))
    }
}

/// A per-spatial-dim vector of positive values (`strides`, `dilations`, `kernel_sizes`).
pub fn positive_per_dim(
    ctx: &InferCtx<'_, '_>,
    arg: &str,
    spatial: usize,
) -> Result<Vec<usize>, InferError> {
    let values = ctx.ints(arg)?;
    expect_len(ctx, arg, &values, spatial, "one per spatial dim")?;
    values.iter().map(|&v| positive_arg(ctx, arg, v)).collect()
}

/// Parses `pad_type`; `same_lower` only where `allow_same_lower` and not in iOS15.
pub fn pad_type(ctx: &InferCtx<'_, '_>, allow_same_lower: bool) -> Result<PadType, InferError> {
    let name = ctx.string("pad_type")?;
    let pad_type = PadType::from_name(&name).ok_or_else(|| {
        ctx.value_error(
            "pad_type",
            format!("unknown pad_type \"{name}\" (expected valid, same, same_lower or custom)"),
        )
    })?;
    if pad_type == PadType::SameLower {
        if !allow_same_lower {
            return Err(ctx.value_error("pad_type", "`same_lower` is not supported by this op"));
        }
        if ctx.opset == Opset::Ios15 {
            return Err(ctx.value_error(
                "pad_type",
                "`same_lower` is not available in ios15 (allowed from ios16)",
            ));
        }
    }
    Ok(pad_type)
}

/// The `(before, after)` custom padding of each spatial dim: read from `pad` for `custom`, zeros
/// otherwise (`pad` is ignored then, as in coremltools).
pub fn custom_pads(
    ctx: &InferCtx<'_, '_>,
    pad_type: PadType,
    spatial: usize,
) -> Result<Vec<(usize, usize)>, InferError> {
    if pad_type != PadType::Custom {
        return Ok(vec![(0, 0); spatial]);
    }
    let values = ctx.ints("pad")?;
    expect_len(
        ctx,
        "pad",
        &values,
        2 * spatial,
        "before and after each spatial dim",
    )?;
    values
        .chunks(2)
        .map(|c| Ok((size_arg(ctx, "pad", c[0])?, size_arg(ctx, "pad", c[1])?)))
        .collect()
}
