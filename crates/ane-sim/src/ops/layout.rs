//! Shape and layout ops: `reshape`, `squeeze` and `expand_dims` (free aliases of their input's
//! buffer), `transpose`, `slice_by_index` (numpy slicing with masks, negative indices and
//! strides) and `slice_by_size` (whose `begin` may be a run-time tensor: it is range-checked when
//! the op runs).

use crate::buffers::{Buffers, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::copy_map::{row_major_tables, CopyMap};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::copy::{push_copy, Part};
use crate::prepare::op_cx::{OpCx, TensorIn, TensorOut};
use crate::storage::{with_elem, Elem};
use ane_cpu::shape::row_major_strides;

/// The layout op types handled here.
pub(crate) const OPS: &[&str] = &[
    "reshape",
    "squeeze",
    "expand_dims",
    "transpose",
    "slice_by_index",
    "slice_by_size",
];

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    match cx.op_type.as_str() {
        "reshape" => {
            if !cx.is_const("shape") {
                return Err(cx.unsupported(
                    "a run-time `shape` is not supported (its value decides the output shape)",
                ));
            }
            cx.alias_output(0, &x)
        }
        "squeeze" | "expand_dims" => cx.alias_output(0, &x),
        "transpose" => transpose(cx, &x),
        "slice_by_index" => slice_by_index(cx, &x),
        "slice_by_size" => slice_by_size(cx, &x),
        other => Err(cx.internal(format!("`{other}` is not a layout op"))),
    }
}

fn single_copy(
    cx: &mut OpCx<'_>,
    x: &TensorIn,
    out: &TensorOut,
    map: Option<CopyMap>,
) -> Result<(), SimError> {
    let map = map.ok_or_else(|| cx.internal("malformed copy tables"))?;
    let part = Part {
        src: x.lid,
        src_len: x.len(),
        out: out.lid,
        out_len: out.len(),
        map,
    };
    push_copy(cx, x.kind, None, vec![part])
}

fn transpose(cx: &mut OpCx<'_>, x: &TensorIn) -> Result<(), SimError> {
    let rank = x.shape.len();
    let perm = cx.ints("perm")?;
    let perm: Vec<usize> = perm
        .iter()
        .map(|&p| ane_mil::ops::shape::normalize_axis(p, rank))
        .collect::<Option<_>>()
        .ok_or_else(|| cx.internal("perm out of range"))?;
    let out = cx.output(0)?;
    let strides = row_major_strides(&x.shape);
    let src = perm
        .iter()
        .map(|&p| (0..x.shape[p]).map(|i| i * strides[p]).collect())
        .collect();
    let map = CopyMap::to_dense(out.shape.clone(), src, 0);
    single_copy(cx, x, &out, map)
}

/// Start of a numpy slice over a dim of size `d` (see `ane_mil::ops::defs::slice_len`).
fn slice_start(d: usize, begin: Option<i64>, stride: i64) -> i128 {
    let d = d as i128;
    let resolve = |v: i64| {
        if v < 0 {
            i128::from(v) + d
        } else {
            i128::from(v)
        }
    };
    if stride > 0 {
        begin.map_or(0, |b| resolve(b).clamp(0, d))
    } else {
        begin.map_or(d - 1, |b| resolve(b).clamp(-1, d - 1))
    }
}

fn slice_by_index(cx: &mut OpCx<'_>, x: &TensorIn) -> Result<(), SimError> {
    let rank = x.shape.len();
    let begin = cx.ints("begin")?;
    let end = cx.ints("end")?;
    let stride = cx.ints("stride")?;
    let begin_mask = cx.bools("begin_mask")?;
    let end_mask = cx.bools("end_mask")?;
    let squeeze_mask = cx.bools("squeeze_mask")?;
    if [
        begin.len(),
        end.len(),
        stride.len(),
        begin_mask.len(),
        end_mask.len(),
        squeeze_mask.len(),
    ]
    .iter()
    .any(|&n| n != rank)
    {
        return Err(cx.internal("slice vectors do not match the rank"));
    }
    let out = cx.output(0)?;
    let strides = row_major_strides(&x.shape);
    let mut base = 0usize;
    let mut src = Vec::new();
    for k in 0..rank {
        let d = x.shape[k];
        if squeeze_mask[k] {
            let i = ane_mil::ops::shape::normalize_axis(begin[k], d).ok_or_else(|| {
                cx.unsupported(format!(
                    "squeezed index {} is out of range for dim {k} of size {d}",
                    begin[k]
                ))
            })?;
            base += i * strides[k];
            continue;
        }
        let b = (!begin_mask[k]).then_some(begin[k]);
        let e = (!end_mask[k]).then_some(end[k]);
        let len = ane_mil::ops::defs::slice_len(d, b, e, stride[k]);
        let start = slice_start(d, b, stride[k]);
        let table = (0..len)
            .map(|i| {
                let at = start + i as i128 * i128::from(stride[k]);
                usize::try_from(at).map(|a| a * strides[k])
            })
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| cx.internal("slice index below zero"))?;
        src.push(table);
    }
    let map = CopyMap::to_dense(out.shape.clone(), src, base);
    single_copy(cx, x, &out, map)
}

fn slice_by_size(cx: &mut OpCx<'_>, x: &TensorIn) -> Result<(), SimError> {
    let rank = x.shape.len();
    let sizes = cx.ints("size")?;
    let out = cx.output(0)?;
    if sizes.len() != rank || out.shape.len() != rank {
        return Err(cx.internal("size does not match the rank"));
    }
    let strides = row_major_strides(&x.shape);
    if cx.is_const("begin") {
        let begin = cx.ints("begin")?;
        let mut src = Vec::new();
        for k in 0..rank {
            let d = x.shape[k] as i64;
            let start = if begin[k] < 0 { begin[k] + d } else { begin[k] };
            let start = usize::try_from(start).map_err(|_| cx.internal("begin below zero"))?;
            src.push(
                (0..out.shape[k])
                    .map(|i| (start + i) * strides[k])
                    .collect(),
            );
        }
        let map = CopyMap::to_dense(out.shape.clone(), src, 0);
        return single_copy(cx, x, &out, map);
    }
    // A run-time begin: the copy is planned from offset 0 and shifted when the op runs.
    let begin = cx.input("begin")?;
    let src = out
        .shape
        .iter()
        .zip(&strides)
        .map(|(&n, &s)| (0..n).map(|i| i * s).collect())
        .collect();
    let map = CopyMap::new(out.shape.clone(), src, 0, row_major_tables(&out.shape), 0)
        .ok_or_else(|| cx.internal("malformed copy tables"))?;
    if !map.fits(x.len().max(1), out.len().max(1)) {
        return Err(cx.internal("slice larger than its input"));
    }
    let dims = (0..rank)
        .map(|k| DynamicDim {
            size: x.shape[k],
            len: out.shape[k],
            stride: strides[k],
            to_end: sizes[k] == -1,
        })
        .collect();
    with_elem!(x.kind, T => {
        cx.push(
            DynamicSlice::<T> { begin: begin.lid, x: x.lid, out: out.lid, dims, map, _t: std::marker::PhantomData },
            ScratchNeed::default(),
        );
    });
    Ok(())
}

#[derive(Debug, Clone, Copy)]
struct DynamicDim {
    size: usize,
    len: usize,
    stride: usize,
    /// `size = -1`: the slice must end at the end of the dim.
    to_end: bool,
}

/// `slice_by_size` with a run-time `begin`.
#[derive(Debug)]
struct DynamicSlice<T> {
    begin: Lid,
    x: Lid,
    out: Lid,
    dims: Vec<DynamicDim>,
    map: CopyMap,
    _t: std::marker::PhantomData<T>,
}

impl<T: Elem + std::fmt::Debug> Kernel for DynamicSlice<T> {
    fn run(&self, bufs: &mut Buffers, _: &mut RunCx<'_>) -> Result<(), KernelError> {
        let begin = bufs.get::<i32>(self.begin)?;
        let mut shift = 0usize;
        for (k, (dim, &b)) in self.dims.iter().zip(begin).enumerate() {
            let start = if b < 0 {
                i64::from(b) + dim.size as i64
            } else {
                i64::from(b)
            };
            let end = start + dim.len as i64;
            let fits =
                start >= 0 && end <= dim.size as i64 && (!dim.to_end || end == dim.size as i64);
            if !fits {
                return Err(KernelError::Data(format!(
                    "begin {b} of dim {k} (size {}) does not leave room for a slice of {}",
                    dim.size, dim.len
                )));
            }
            shift += start as usize * dim.stride;
        }
        bufs.with_typed_output::<T, _>(self.out, |bufs, out| {
            self.map.run_shifted(bufs.get::<T>(self.x)?, out, shift);
            Ok(())
        })
    }
}
