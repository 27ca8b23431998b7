//! Ops that join, split, repeat, pad or mask tensors: `concat` (with `interleave`), `split`,
//! `tile`, `pad` (`constant`, `reflect` without repeating the edge, `replicate`) and
//! `band_part`. All move elements in their storage type.

use crate::buffers::{Buffers, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::copy_map::{row_major_tables, CopyMap};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::copy::{push_copy, Fill, Part};
use crate::prepare::op_cx::OpCx;
use crate::storage::{with_elem, Elem};
use ane_cpu::shape::row_major_strides;
use ane_mil::ops::shape::normalize_axis;

/// The op types handled here.
pub(crate) const OPS: &[&str] = &["concat", "split", "tile", "pad", "band_part"];

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    match cx.op_type.as_str() {
        "concat" => concat(cx),
        "split" => split(cx),
        "tile" => tile(cx),
        "pad" => pad(cx),
        "band_part" => band_part(cx),
        other => Err(cx.internal(format!("`{other}` is not handled here"))),
    }
}

fn axis(cx: &OpCx<'_>, rank: usize) -> Result<usize, SimError> {
    let a = cx.int("axis")?;
    normalize_axis(a, rank).ok_or_else(|| cx.internal(format!("axis {a} out of range")))
}

fn concat(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let values = cx.tuple_inputs("values")?;
    let first = values
        .first()
        .ok_or_else(|| cx.internal("no values"))?
        .clone();
    let rank = first.shape.len();
    let axis = axis(cx, rank)?;
    let interleave = cx.bool("interleave")?;
    let out = cx.output(0)?;
    let out_strides = row_major_strides(&out.shape);
    let count = values.len();
    let mut offset = 0;
    let mut parts = Vec::new();
    for (j, v) in values.iter().enumerate() {
        let mut dst = row_major_tables(&v.shape);
        for k in 0..rank {
            if k == axis {
                dst[k] = (0..v.shape[k])
                    .map(|i| {
                        let at = if interleave {
                            i * count + j
                        } else {
                            offset + i
                        };
                        at * out_strides[k]
                    })
                    .collect();
            } else {
                dst[k] = (0..v.shape[k]).map(|i| i * out_strides[k]).collect();
            }
        }
        offset += v.shape[axis];
        let map = CopyMap::new(v.shape.clone(), row_major_tables(&v.shape), 0, dst, 0)
            .ok_or_else(|| cx.internal("malformed copy tables"))?;
        parts.push(Part {
            src: v.lid,
            src_len: v.len(),
            out: out.lid,
            out_len: out.len(),
            map,
        });
    }
    push_copy(cx, first.kind, None, parts)
}

fn split(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let axis = axis(cx, x.shape.len())?;
    let strides = row_major_strides(&x.shape);
    let mut offset = 0;
    let mut parts = Vec::new();
    for i in 0..cx.output_count() {
        let out = cx.output(i)?;
        let mut src: Vec<Vec<usize>> = out
            .shape
            .iter()
            .zip(&strides)
            .map(|(&n, &s)| (0..n).map(|i| i * s).collect())
            .collect();
        src[axis] = (0..out.shape[axis])
            .map(|i| (offset + i) * strides[axis])
            .collect();
        offset += out.shape[axis];
        let map = CopyMap::to_dense(out.shape.clone(), src, 0)
            .ok_or_else(|| cx.internal("malformed copy tables"))?;
        parts.push(Part {
            src: x.lid,
            src_len: x.len(),
            out: out.lid,
            out_len: out.len(),
            map,
        });
    }
    push_copy(cx, x.kind, None, parts)
}

fn tile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    if !cx.is_const("reps") {
        return Err(
            cx.unsupported("a run-time `reps` is not supported (it decides the output shape)")
        );
    }
    let out = cx.output(0)?;
    let strides = row_major_strides(&x.shape);
    let src = out
        .shape
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            (0..n)
                .map(|i| (i % x.shape[k].max(1)) * strides[k])
                .collect()
        })
        .collect();
    let map = CopyMap::to_dense(out.shape.clone(), src, 0)
        .ok_or_else(|| cx.internal("malformed copy tables"))?;
    let part = Part {
        src: x.lid,
        src_len: x.len(),
        out: out.lid,
        out_len: out.len(),
        map,
    };
    push_copy(cx, x.kind, None, vec![part])
}

fn pad(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    if !cx.is_const("pad") {
        return Err(
            cx.unsupported("a run-time `pad` is not supported (it decides the output shape)")
        );
    }
    let pads = cx.ints("pad")?;
    let mode = cx.string("mode")?;
    let rank = x.shape.len();
    let padded = pads.len() / 2;
    let first = rank
        .checked_sub(padded)
        .ok_or_else(|| cx.internal("more pads than dims"))?;
    let before = |k: usize| -> usize {
        if k < first {
            0
        } else {
            pads[2 * (k - first)] as usize
        }
    };
    let out = cx.output(0)?;
    let in_strides = row_major_strides(&x.shape);
    let out_strides = row_major_strides(&out.shape);
    let part = |map: Option<CopyMap>| -> Result<Part, SimError> {
        Ok(Part {
            src: x.lid,
            src_len: x.len(),
            out: out.lid,
            out_len: out.len(),
            map: map.ok_or_else(|| cx.internal("malformed copy tables"))?,
        })
    };
    if mode == "constant" {
        // Fill with the constant, then copy the input into the interior.
        let value = cx.float("constant_val")?;
        let dst = (0..rank)
            .map(|k| {
                (0..x.shape[k])
                    .map(|i| (before(k) + i) * out_strides[k])
                    .collect()
            })
            .collect();
        let map = CopyMap::new(x.shape.clone(), row_major_tables(&x.shape), 0, dst, 0);
        let fill = Fill {
            out: out.lid,
            value: f64::from(value),
        };
        let p = part(map)?;
        return push_copy(cx, x.kind, Some(fill), vec![p]);
    }
    let reflect = match mode.as_str() {
        "reflect" => true,
        "replicate" => false,
        other => return Err(cx.unsupported(format!("unknown pad mode \"{other}\""))),
    };
    let mut src = Vec::with_capacity(rank);
    for (k, (&dim, &stride)) in x.shape.iter().zip(&in_strides).enumerate() {
        let d = dim as i64;
        let table = (0..out.shape[k])
            .map(|i| {
                let j = i as i64 - before(k) as i64;
                let j = if reflect {
                    // Mirror without repeating the edge: −1 → 1, d → d − 2.
                    if j < 0 {
                        -j
                    } else if j >= d {
                        2 * (d - 1) - j
                    } else {
                        j
                    }
                } else {
                    j.clamp(0, d - 1)
                };
                usize::try_from(j).map(|j| j * stride)
            })
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| cx.internal("pad reaches outside the input"))?;
        src.push(table);
    }
    let p = part(CopyMap::to_dense(out.shape.clone(), src, 0))?;
    push_copy(cx, x.kind, None, vec![p])
}

fn band_part(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let (lower, upper) = (cx.int("lower")?, cx.int("upper")?);
    let out = cx.output(0)?;
    let rank = x.shape.len();
    let (m, n) = (x.shape[rank - 2], x.shape[rank - 1]);
    with_elem!(x.kind, T => {
        cx.push(
            BandPart::<T> { x: x.lid, out: out.lid, m, n, lower, upper, _t: std::marker::PhantomData },
            ScratchNeed::default(),
        );
    });
    Ok(())
}

/// `band_part`: keeps `(i, j)` of each trailing `[m, n]` matrix when
/// `(lower < 0 or i − j ≤ lower) and (upper < 0 or j − i ≤ upper)`, else writes zero.
#[derive(Debug)]
struct BandPart<T> {
    x: Lid,
    out: Lid,
    m: usize,
    n: usize,
    lower: i64,
    upper: i64,
    _t: std::marker::PhantomData<T>,
}

impl<T: Elem + std::fmt::Debug> Kernel for BandPart<T> {
    fn run(&self, bufs: &mut Buffers, _: &mut RunCx<'_>) -> Result<(), KernelError> {
        bufs.with_typed_output::<T, _>(self.out, |bufs, out| {
            let x = bufs.get::<T>(self.x)?;
            let plane = self.m * self.n;
            if plane == 0 {
                return Ok(());
            }
            for (o, v) in out.chunks_mut(plane).zip(x.chunks(plane)) {
                for i in 0..self.m {
                    for j in 0..self.n {
                        let d = i as i64 - j as i64;
                        let keep = (self.lower < 0 || d <= self.lower)
                            && (self.upper < 0 || -d <= self.upper);
                        o[i * self.n + j] = if keep {
                            v[i * self.n + j]
                        } else {
                            T::default()
                        };
                    }
                }
            }
            Ok(())
        })
    }
}
