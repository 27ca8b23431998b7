//! Shape and layout ops (mil-ops §1.11): `reshape`, `transpose`, `squeeze`, `expand_dims`,
//! `slice_by_index`, `slice_by_size`. Their iOS17 revisions widen the data dtypes, and for
//! `reshape`/slices let the shape or bounds be small signed integers (domain `U`); iOS17 also
//! changes how `reshape` treats zeros.

use super::domains::{t, u, B, FLOAT_INT_BOOL, I32, SMALL_SIGNED, WIDE};
use crate::dtype::DType;
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::shape::{axes_arg, normalize_axis};
use crate::ops::signature::{DTypeDomain, DefaultValue, InputSpec, OpSignature};
use crate::program::Opset;
use crate::types::{Dim, TensorType, MAX_RANK};

pub(super) fn signatures() -> Vec<OpSignature> {
    let mut sigs = Vec::new();
    for since in [Opset::Ios15, Opset::Ios17] {
        let ios17 = since == Opset::Ios17;
        let data: &'static [DType] = if ios17 { WIDE } else { FLOAT_INT_BOOL };
        let index: DTypeDomain = if ios17 { u(SMALL_SIGNED) } else { I32 };
        let x = InputSpec::required("x", t(data));
        sigs.push(OpSignature::new(
            "reshape",
            since,
            vec![x, InputSpec::required("shape", index).vector()],
            reshape_rule,
        ));
        sigs.push(OpSignature::new(
            "transpose",
            since,
            vec![x, InputSpec::required("perm", I32).constant().vector()],
            transpose_rule,
        ));
        sigs.push(OpSignature::new(
            "squeeze",
            since,
            vec![
                x,
                InputSpec::omittable("axes", I32, "remove every dim of size 1")
                    .constant()
                    .vector(),
            ],
            squeeze_rule,
        ));
        sigs.push(OpSignature::new(
            "expand_dims",
            since,
            vec![x, InputSpec::required("axes", I32).constant().vector()],
            expand_dims_rule,
        ));
        let mask = |name| {
            InputSpec::optional(name, B, DefaultValue::BoolPerDim(false))
                .constant()
                .vector()
        };
        sigs.push(OpSignature::new(
            "slice_by_index",
            since,
            vec![
                x,
                InputSpec::required("begin", index).vector(),
                InputSpec::required("end", index).vector(),
                InputSpec::optional("stride", index, DefaultValue::IntPerDim(1))
                    .constant()
                    .vector(),
                mask("begin_mask"),
                mask("end_mask"),
                mask("squeeze_mask"),
            ],
            slice_by_index_rule,
        ));
        sigs.push(OpSignature::new(
            "slice_by_size",
            since,
            vec![
                x,
                InputSpec::required("begin", index).vector(),
                InputSpec::required("size", index).vector(),
            ],
            slice_by_size_rule,
        ));
    }
    sigs
}

/// The known length of vector argument `name`, which must equal `expected` when given.
fn vector_len(
    ctx: &InferCtx<'_, '_>,
    name: &str,
    expected: Option<usize>,
) -> Result<usize, InferError> {
    let ty = ctx.tensor(name)?;
    let len = ty.shape[0]
        .known()
        .ok_or_else(|| ctx.shape_error(format!("the length of `{name}` {ty} must be known")))?;
    match expected {
        Some(n) if n != len => Err(ctx.shape_error(format!(
            "`{name}` {ty} must have one value per dim of `x` ({n})"
        ))),
        _ => Ok(len),
    }
}

fn reshape_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    let len = vector_len(ctx, "shape", None)?;
    if len > MAX_RANK {
        return Err(ctx.shape_error(format!(
            "`shape` has {len} entries: rank {len} exceeds the supported maximum {MAX_RANK}"
        )));
    }
    let Some(target) = ctx.opt_ints("shape")? else {
        // A runtime shape: the rank is known, the dims are not.
        return Ok(ctx.output(x.dtype, vec![Dim::Unknown; len]));
    };
    if target.iter().filter(|&&v| v == -1).count() > 1 {
        return Err(ctx.value_error(
            "shape",
            format!("at most one -1 is allowed, got {target:?}"),
        ));
    }
    if let Some(v) = target.iter().find(|&&v| v < -1) {
        return Err(ctx.value_error("shape", format!("invalid dim {v} in {target:?}")));
    }
    // Resolve zeros: iOS15/16 copy the dim at the same index and need len == rank; iOS17 aligns
    // zeros to the right of x's shape and turns unmatched ones into 1 (mil-ops §1.11).
    let has_zero = target.contains(&0);
    if has_zero && ctx.opset < Opset::Ios17 && target.len() != x.rank() {
        return Err(ctx.value_error(
            "shape",
            format!(
                "a 0 in {target:?} needs one value per dim of `x` {x} before ios17 (zeros copy the dim at the same index)"
            ),
        ));
    }
    let offset = target.len() as i64 - x.rank() as i64;
    let mut dims: Vec<Option<Dim>> = Vec::with_capacity(target.len());
    for (i, &v) in target.iter().enumerate() {
        dims.push(match v {
            -1 => None,
            0 => {
                let src = i as i64 - offset;
                Some(if src >= 0 {
                    x.shape[src as usize]
                } else {
                    Dim::Known(1)
                })
            }
            v => Some(Dim::Known(
                usize::try_from(v).map_err(|_| ctx.value_error("shape", "dim too large"))?,
            )),
        });
    }
    let known_product = |dims: &mut dyn Iterator<Item = Dim>| -> Option<Option<usize>> {
        // Some(None) = overflow; None = an unknown dim.
        let mut p: usize = 1;
        for d in dims {
            p = match p.checked_mul(d.known()?) {
                Some(v) => v,
                None => return Some(None),
            };
        }
        Some(Some(p))
    };
    let overflow = || {
        ctx.shape_error(format!(
            "element count of `x` {x} or of shape {target:?} overflows"
        ))
    };
    let total = known_product(&mut x.shape.iter().copied());
    let rest = known_product(&mut dims.iter().flatten().copied());
    let inferred = match (total, rest) {
        (Some(t), Some(r)) => {
            let (t, r) = (t.ok_or_else(overflow)?, r.ok_or_else(overflow)?);
            let has_minus_one = dims.iter().any(Option::is_none);
            if has_minus_one {
                if r == 0 || t % r != 0 {
                    return Err(ctx.shape_error(format!(
                        "cannot infer the -1 in {target:?}: {t} elements of `x` {x} are not a multiple of {r}"
                    )));
                }
                Dim::Known(t / r)
            } else {
                if t != r {
                    return Err(ctx.shape_error(format!(
                        "cannot reshape `x` {x} ({t} elements) to {target:?} ({r} elements)"
                    )));
                }
                Dim::Unknown
            }
        }
        _ => Dim::Unknown,
    };
    let shape = dims.into_iter().map(|d| d.unwrap_or(inferred)).collect();
    Ok(ctx.output(x.dtype, shape))
}

fn transpose_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    let perm = ctx.ints("perm")?;
    if perm.len() != x.rank() {
        return Err(ctx.value_error(
            "perm",
            format!("expected one entry per dim of `x` {x}, got {perm:?}"),
        ));
    }
    let axes = axes_arg(ctx, "perm", &perm, x.rank())?;
    Ok(ctx.output(x.dtype, axes.iter().map(|&a| x.shape[a]).collect()))
}

fn squeeze_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    if x.rank() == 0 {
        return Err(ctx.shape_error("cannot squeeze a scalar `x`"));
    }
    let shape = if ctx.inputs.contains("axes") {
        // Listed dims of size 1 go (an unknown dim is taken to be 1, as the author asserts);
        // listed dims of another size stay, as in PyTorch (mil-ops §1.11).
        let axes = axes_arg(ctx, "axes", &ctx.ints("axes")?, x.rank())?;
        x.shape
            .iter()
            .enumerate()
            .filter(|&(i, &d)| !(axes.contains(&i) && matches!(d, Dim::Known(1) | Dim::Unknown)))
            .map(|(_, &d)| d)
            .collect()
    } else {
        x.shape
            .iter()
            .copied()
            .filter(|&d| d != Dim::Known(1))
            .collect()
    };
    Ok(ctx.output(x.dtype, shape))
}

fn expand_dims_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    let axes = ctx.ints("axes")?;
    let out_rank = x.rank() + axes.len();
    // Axes refer to the output rank (mil-ops §1.11).
    let inserted = axes_arg(ctx, "axes", &axes, out_rank)?;
    let mut source = x.shape.iter();
    let shape = (0..out_rank)
        .map(|i| {
            if inserted.contains(&i) {
                Dim::Known(1)
            } else {
                source.next().copied().unwrap_or(Dim::Unknown)
            }
        })
        .collect();
    Ok(ctx.output(x.dtype, shape))
}

/// The length of a numpy slice `begin:end:stride` over a dim of size `d` (`None` bounds are masked;
/// `stride` must not be 0).
pub fn slice_len(d: usize, begin: Option<i64>, end: Option<i64>, stride: i64) -> usize {
    // i128 keeps every intermediate exact for any i64 bound and usize size.
    let d = d as i128;
    let resolve = |v: i64| {
        let v = i128::from(v);
        if v < 0 {
            v + d
        } else {
            v
        }
    };
    let (start, stop, step) = if stride > 0 {
        let start = begin.map_or(0, |b| resolve(b).clamp(0, d));
        let stop = end.map_or(d, |e| resolve(e).clamp(0, d));
        (start, stop, i128::from(stride))
    } else {
        let start = begin.map_or(d - 1, |b| resolve(b).clamp(-1, d - 1));
        let stop = end.map_or(-1, |e| resolve(e).clamp(-1, d - 1));
        (-start, -stop, -i128::from(stride))
    };
    if stop > start && step > 0 {
        usize::try_from((stop - start + step - 1) / step).unwrap_or(usize::MAX)
    } else {
        0
    }
}

fn slice_by_index_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    let rank = x.rank();
    vector_len(ctx, "begin", Some(rank))?;
    vector_len(ctx, "end", Some(rank))?;
    let strides = ctx.ints("stride")?;
    let begin_mask = ctx.bools("begin_mask")?;
    let end_mask = ctx.bools("end_mask")?;
    let squeeze_mask = ctx.bools("squeeze_mask")?;
    for (name, len) in [
        ("stride", strides.len()),
        ("begin_mask", begin_mask.len()),
        ("end_mask", end_mask.len()),
        ("squeeze_mask", squeeze_mask.len()),
    ] {
        if len != rank {
            return Err(ctx.value_error(
                name,
                format!("expected {rank} values (one per dim of `x` {x}), got {len}"),
            ));
        }
    }
    let begins = ctx.opt_ints("begin")?;
    let ends = ctx.opt_ints("end")?;
    let mut shape = Vec::new();
    for i in 0..rank {
        let stride = strides[i];
        if stride == 0 {
            return Err(ctx.value_error("stride", format!("stride of dim {i} is 0")));
        }
        if stride.checked_neg().is_none() {
            return Err(ctx.value_error("stride", format!("stride {stride} is out of range")));
        }
        let begin = if begin_mask[i] {
            Some(None)
        } else {
            begins.as_ref().map(|b| Some(b[i]))
        };
        if squeeze_mask[i] {
            if let (Dim::Known(d), Some(Some(b))) = (x.shape[i], begin) {
                if normalize_axis(b, d).is_none() {
                    return Err(ctx.value_error(
                        "begin",
                        format!("index {b} of squeezed dim {i} is out of range for size {d}"),
                    ));
                }
            }
            continue;
        }
        let end = if end_mask[i] {
            Some(None)
        } else {
            ends.as_ref().map(|e| Some(e[i]))
        };
        shape.push(match (x.shape[i], begin, end) {
            (Dim::Known(d), Some(b), Some(e)) => Dim::Known(slice_len(d, b, e, stride)),
            _ => Dim::Unknown,
        });
    }
    Ok(ctx.output(x.dtype, shape))
}

fn slice_by_size_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let x = ctx.tensor("x")?;
    let rank = x.rank();
    vector_len(ctx, "begin", Some(rank))?;
    vector_len(ctx, "size", Some(rank))?;
    let Some(sizes) = ctx.opt_ints("size")? else {
        return Ok(ctx.output(x.dtype, vec![Dim::Unknown; rank]));
    };
    let begins = ctx.opt_ints("begin")?;
    let mut shape = Vec::with_capacity(rank);
    for (i, &size) in sizes.iter().enumerate() {
        let begin = match (x.shape[i], &begins) {
            (Dim::Known(d), Some(b)) => {
                let raw = b[i];
                let start = if raw < 0 {
                    i128::from(raw) + d as i128
                } else {
                    i128::from(raw)
                };
                if !(0..=d as i128).contains(&start) {
                    return Err(ctx.value_error(
                        "begin",
                        format!("begin {raw} of dim {i} is out of range for `x` {x}"),
                    ));
                }
                Some((d, start as usize))
            }
            _ => None,
        };
        shape.push(match size {
            -1 => begin.map_or(Dim::Unknown, |(d, s)| Dim::Known(d - s)),
            s if s < -1 => {
                return Err(ctx.value_error("size", format!("invalid size {s} for dim {i}")))
            }
            s => {
                let s = usize::try_from(s).unwrap_or(usize::MAX);
                if let Some((d, start)) = begin {
                    if start.checked_add(s).is_none_or(|end| end > d) {
                        return Err(ctx.shape_error(format!(
                            "slice of dim {i} from {start} with size {s} runs past `x` {x}"
                        )));
                    }
                }
                Dim::Known(s)
            }
        });
    }
    Ok(ctx.output(x.dtype, shape))
}
