//! Shape arithmetic shared by the shape rules: broadcasting, axis normalization, dim comparison,
//! converting literal integers into sizes, and the sliding-window output size of conv and pooling.

use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::types::{Dim, TensorType};

/// `[1, ?, 4]`-style text for a shape.
pub fn shape_str(shape: &[Dim]) -> String {
    let dims: Vec<String> = shape.iter().map(Dim::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// Whether two dims may be the same size (equal, or either unknown).
pub fn dims_compatible(a: Dim, b: Dim) -> bool {
    match (a, b) {
        (Dim::Known(x), Dim::Known(y)) => x == y,
        _ => true,
    }
}

/// Whether two shapes may be the same (same rank, every dim compatible).
pub fn shapes_compatible(a: &[Dim], b: &[Dim]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| dims_compatible(x, y))
}

/// The more specific of two compatible dims.
pub fn merge_dims(a: Dim, b: Dim) -> Dim {
    match (a, b) {
        (Dim::Known(x), _) => Dim::Known(x),
        (_, d) => d,
    }
}

/// Numpy broadcasting of two shapes (mil-ops §0.3): right-aligned, missing leading dims are 1, a
/// dim of 1 stretches. An unknown dim against a known dim > 1 takes the known size (as
/// coremltools does); against 1 or another unknown it stays unknown.
pub fn broadcast_shapes(a: &[Dim], b: &[Dim]) -> Result<Vec<Dim>, usize> {
    let rank = a.len().max(b.len());
    let pad = |s: &[Dim], i: usize| -> Dim {
        let offset = rank - s.len();
        if i < offset {
            Dim::Known(1)
        } else {
            s[i - offset]
        }
    };
    (0..rank)
        .map(|i| {
            let (x, y) = (pad(a, i), pad(b, i));
            match (x, y) {
                (Dim::Known(p), Dim::Known(q)) if p == q => Ok(x),
                (Dim::Known(1), _) => Ok(y),
                (_, Dim::Known(1)) => Ok(x),
                (Dim::Known(_), Dim::Known(_)) => Err(i),
                (Dim::Known(_), Dim::Unknown) => Ok(x),
                (Dim::Unknown, _) => Ok(y),
            }
        })
        .collect()
}

/// Broadcasts two named arguments' shapes, with an error naming both.
pub fn broadcast_args(
    ctx: &InferCtx<'_, '_>,
    (name_a, a): (&str, &TensorType),
    (name_b, b): (&str, &TensorType),
) -> Result<Vec<Dim>, InferError> {
    broadcast_shapes(&a.shape, &b.shape).map_err(|dim| {
        ctx.shape_error(format!(
            "cannot broadcast `{name_a}` {a} with `{name_b}` {b} (output dim {dim} differs)"
        ))
    })
}

/// Normalizes `axis` against `rank` (negative counts from the end); `None` when out of
/// `[-rank, rank)`.
pub fn normalize_axis(axis: i64, rank: usize) -> Option<usize> {
    let r = i64::try_from(rank).ok()?;
    let a = if axis < 0 { axis.checked_add(r)? } else { axis };
    if (0..r).contains(&a) {
        usize::try_from(a).ok()
    } else {
        None
    }
}

/// Normalizes an axis argument, with an error naming it.
pub fn axis_arg(
    ctx: &InferCtx<'_, '_>,
    arg: &str,
    axis: i64,
    rank: usize,
) -> Result<usize, InferError> {
    normalize_axis(axis, rank).ok_or_else(|| {
        ctx.value_error(
            arg,
            format!("axis {axis} is out of range for rank {rank} (valid: -{rank}..{rank})"),
        )
    })
}

/// Normalizes a list of axes, rejecting duplicates.
pub fn axes_arg(
    ctx: &InferCtx<'_, '_>,
    arg: &str,
    axes: &[i64],
    rank: usize,
) -> Result<Vec<usize>, InferError> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let n = axis_arg(ctx, arg, a, rank)?;
        if out.contains(&n) {
            return Err(ctx.value_error(arg, format!("axis {a} is repeated")));
        }
        out.push(n);
    }
    Ok(out)
}

/// A non-negative literal integer as a size.
pub fn size_arg(ctx: &InferCtx<'_, '_>, arg: &str, v: i64) -> Result<usize, InferError> {
    usize::try_from(v)
        .map_err(|_| ctx.value_error(arg, format!("expected a non-negative value, got {v}")))
}

/// A positive literal integer as a size.
pub fn positive_arg(ctx: &InferCtx<'_, '_>, arg: &str, v: i64) -> Result<usize, InferError> {
    match usize::try_from(v) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ctx.value_error(arg, format!("expected a positive value, got {v}"))),
    }
}

/// Checks that vector argument `arg` has exactly `len` elements.
pub fn expect_len<T>(
    ctx: &InferCtx<'_, '_>,
    arg: &str,
    values: &[T],
    len: usize,
    why: &str,
) -> Result<(), InferError> {
    if values.len() == len {
        Ok(())
    } else {
        Err(ctx.value_error(
            arg,
            format!("expected {len} values ({why}), got {}", values.len()),
        ))
    }
}

/// `a * b` on dims (unknown if either is unknown); `None` on overflow.
pub fn mul_dims(a: Dim, b: Dim) -> Option<Dim> {
    match (a, b) {
        (Dim::Known(x), Dim::Known(y)) => x.checked_mul(y).map(Dim::Known),
        _ => Some(Dim::Unknown),
    }
}

/// `a + b` on dims.
pub fn add_dims(a: Dim, b: Dim) -> Option<Dim> {
    match (a, b) {
        (Dim::Known(x), Dim::Known(y)) => x.checked_add(y).map(Dim::Known),
        _ => Some(Dim::Unknown),
    }
}

/// The padding mode of conv and pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadType {
    /// No padding.
    Valid,
    /// Output `ceil(D / s)`; odd total padding puts the extra element after.
    Same,
    /// As `Same`, with the extra element before.
    SameLower,
    /// Explicit `pad` values.
    Custom,
}

impl PadType {
    /// Parses a `pad_type` string.
    pub fn from_name(name: &str) -> Option<PadType> {
        match name {
            "valid" => Some(PadType::Valid),
            "same" => Some(PadType::Same),
            "same_lower" => Some(PadType::SameLower),
            "custom" => Some(PadType::Custom),
            _ => None,
        }
    }
}

/// One spatial axis of a sliding window.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Input size.
    pub input: Dim,
    /// Effective kernel size (`(k - 1) · dilation + 1`), unknown for a runtime weight of unknown size.
    pub kernel: Dim,
    /// Stride (≥ 1).
    pub stride: usize,
    /// Custom padding before/after (used only by `PadType::Custom`).
    pub custom_pad: (usize, usize),
}

/// Total padding `(before, after)` of one window axis for a known input and kernel size.
pub fn window_padding(
    pad_type: PadType,
    input: usize,
    kernel: usize,
    stride: usize,
    custom: (usize, usize),
) -> (usize, usize) {
    match pad_type {
        PadType::Valid => (0, 0),
        PadType::Custom => custom,
        PadType::Same | PadType::SameLower => {
            let out = input.div_ceil(stride);
            let needed = (out.saturating_sub(1))
                .saturating_mul(stride)
                .saturating_add(kernel);
            let total = needed.saturating_sub(input);
            let small = total / 2;
            if pad_type == PadType::Same {
                (small, total - small)
            } else {
                (total - small, small)
            }
        }
    }
}

/// The output size of one window axis (conv, pooling), in floor or ceil mode (mil-ops §1.2, §1.12):
/// floor `(D + P − k)/s + 1`; ceil `(D + P − k + s − 1)/s + 1`, minus one when padding exists and
/// the last window would start at or after `D + pad_before`. `Err` with a message when the window
/// does not fit.
pub fn window_output(pad_type: PadType, w: Window, ceil_mode: bool) -> Result<Dim, String> {
    let (Dim::Known(d), Dim::Known(k)) = (w.input, w.kernel) else {
        if let (PadType::Same | PadType::SameLower, Dim::Known(d)) = (pad_type, w.input) {
            return Ok(Dim::Known(d.div_ceil(w.stride)));
        }
        return Ok(Dim::Unknown);
    };
    let (before, after) = window_padding(pad_type, d, k, w.stride, w.custom_pad);
    let padded = d
        .checked_add(before)
        .and_then(|v| v.checked_add(after))
        .ok_or("padding overflows")?;
    if padded < k {
        return Err(format!(
            "kernel extent {k} is larger than the padded input {padded} (input {d}, padding {before}+{after})"
        ));
    }
    let span = padded - k;
    let out = if ceil_mode {
        let mut o = span.div_ceil(w.stride) + 1;
        if before + after > 0 && (o - 1).saturating_mul(w.stride) >= d.saturating_add(before) {
            o -= 1;
        }
        o
    } else {
        span / w.stride + 1
    };
    if out == 0 {
        return Err(format!("output size is 0 (input {d}, kernel {k})"));
    }
    Ok(Dim::Known(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_the_odd_element_after_and_same_lower_before() {
        // D=7, k=4, s=2: out 4, total padding (4-1)·2 + 4 − 7 = 3.
        assert_eq!(window_padding(PadType::Same, 7, 4, 2, (9, 9)), (1, 2));
        assert_eq!(window_padding(PadType::SameLower, 7, 4, 2, (9, 9)), (2, 1));
        // A kernel smaller than the stride needs no padding.
        assert_eq!(window_padding(PadType::Same, 5, 1, 3, (0, 0)), (0, 0));
        assert_eq!(window_padding(PadType::Custom, 5, 1, 3, (2, 1)), (2, 1));
        assert_eq!(window_padding(PadType::Valid, 5, 3, 1, (2, 1)), (0, 0));
    }

    #[test]
    fn same_output_is_ceil_of_input_over_stride() {
        for d in 1..20 {
            for k in 1..6 {
                for s in 1..5 {
                    let w = Window {
                        input: Dim::Known(d),
                        kernel: Dim::Known(k),
                        stride: s,
                        custom_pad: (0, 0),
                    };
                    let out = window_output(PadType::Same, w, false).unwrap();
                    assert_eq!(out, Dim::Known(d.div_ceil(s)), "d={d} k={k} s={s}");
                }
            }
        }
    }

    #[test]
    fn normalize_axis_range() {
        assert_eq!(normalize_axis(-1, 3), Some(2));
        assert_eq!(normalize_axis(-3, 3), Some(0));
        assert_eq!(normalize_axis(-4, 3), None);
        assert_eq!(normalize_axis(3, 3), None);
        assert_eq!(normalize_axis(i64::MIN, 3), None);
        assert_eq!(normalize_axis(0, 0), None);
    }

    #[test]
    fn broadcast_reports_the_failing_dim() {
        let k = |v: &[usize]| v.iter().map(|&d| Dim::Known(d)).collect::<Vec<_>>();
        assert_eq!(broadcast_shapes(&k(&[2, 3]), &k(&[4])), Err(1));
        assert_eq!(broadcast_shapes(&k(&[0]), &k(&[1])), Ok(k(&[0])));
    }
}
