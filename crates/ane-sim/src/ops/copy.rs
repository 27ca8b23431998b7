//! The kernel behind every data-movement op: optional constant fill of the output(s), then one
//! or more [`CopyMap`]s from inputs into outputs, in the storage type (no arithmetic, no
//! rounding).

use crate::buffers::{Buffers, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::copy_map::CopyMap;
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::prepare::op_cx::OpCx;
use crate::storage::{with_elem, Elem, Kind};
use half::f16;

/// One copy: `map` moves elements of `src` into `out`.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub src: Lid,
    pub src_len: usize,
    pub out: Lid,
    pub out_len: usize,
    pub map: CopyMap,
}

/// A value to fill an output with before copying (`pad`'s constant).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fill {
    pub out: Lid,
    pub value: f64,
}

#[derive(Debug)]
struct CopyKernel<T> {
    fill: Option<(Lid, T)>,
    parts: Vec<Part>,
}

/// Converts a fill value to storage type `T`.
pub(crate) trait FromF64: Sized {
    /// The storage value nearest to `v` (bools: nonzero is true).
    fn from_f64(v: f64) -> Self;
}
impl FromF64 for f16 {
    fn from_f64(v: f64) -> Self {
        f16::from_f64(v)
    }
}
impl FromF64 for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}
impl FromF64 for i32 {
    fn from_f64(v: f64) -> Self {
        v as i32
    }
}
impl FromF64 for u8 {
    fn from_f64(v: f64) -> Self {
        u8::from(v != 0.0)
    }
}

impl<T: Elem + std::fmt::Debug> Kernel for CopyKernel<T> {
    fn run(&self, bufs: &mut Buffers, _: &mut RunCx<'_>) -> Result<(), KernelError> {
        if let Some((out, value)) = self.fill {
            bufs.with_typed_output::<T, _>(out, |_, o| {
                o.fill(value);
                Ok(())
            })?;
        }
        for part in &self.parts {
            bufs.with_typed_output::<T, _>(part.out, |bufs, o| {
                part.map.run(bufs.get::<T>(part.src)?, o);
                Ok(())
            })?;
        }
        Ok(())
    }
}

/// Adds a copy kernel of storage `kind` (checking every map's bounds first).
pub(crate) fn push_copy(
    cx: &mut OpCx<'_>,
    kind: Kind,
    fill: Option<Fill>,
    parts: Vec<Part>,
) -> Result<(), SimError> {
    if let Some(bad) = parts.iter().find(|p| !p.map.fits(p.src_len, p.out_len)) {
        return Err(cx.internal(format!(
            "a copy would leave its buffers ({} → {} elements): {:?}",
            bad.src_len,
            bad.out_len,
            bad.map.max_offsets()
        )));
    }
    with_elem!(kind, T => {
        let fill = fill.map(|f| (f.out, <T as FromF64>::from_f64(f.value)));
        cx.push(CopyKernel::<T> { fill, parts }, ScratchNeed::default());
    });
    Ok(())
}

/// The copy that permutes a dense tensor of `shape` (`out.shape[i] = shape[perm[i]]`) into a
/// dense result, and the result's shape.
pub(crate) fn permute_map(shape: &[usize], perm: &[usize]) -> Option<(Vec<usize>, CopyMap)> {
    let strides = ane_cpu::shape::row_major_strides(shape);
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let src = perm
        .iter()
        .map(|&p| (0..shape[p]).map(|i| i * strides[p]).collect())
        .collect();
    let map = CopyMap::to_dense(out_shape.clone(), src, 0)?;
    Some((out_shape, map))
}

/// Adds a kernel permuting tensor `src` (dense, `shape`, storage `kind`) into `dst`.
pub(crate) fn push_permute(
    cx: &mut OpCx<'_>,
    kind: Kind,
    src: Lid,
    dst: Lid,
    shape: &[usize],
    perm: &[usize],
) -> Result<Vec<usize>, SimError> {
    let (out_shape, map) =
        permute_map(shape, perm).ok_or_else(|| cx.internal("bad permutation"))?;
    let len = shape.iter().product();
    push_copy(
        cx,
        kind,
        None,
        vec![Part {
            src,
            src_len: len,
            out: dst,
            out_len: len,
            map,
        }],
    )?;
    Ok(out_shape)
}
