//! Moving float data between storage and f32 compute: whole tensors ([`widen`], [`narrow`])
//! and stack-sized blocks ([`BLOCK`]), always through slice conversions (F16C-vectorized by
//! `half`), never element by element. Narrowing to fp16 rounds to nearest even, overflows to
//! ±inf and keeps subnormals.

use crate::buffers::{FloatView, FloatViewMut};
use crate::error::KernelError;
use ane_cpu::convert::{f16_to_f32, f32_to_f16};
use half::slice::HalfFloatSliceExt;

/// Elements per stack block in elementwise kernels.
pub(crate) const BLOCK: usize = 512;

fn conversion(e: ane_cpu::CpuError) -> KernelError {
    KernelError::Internal(e.to_string())
}

/// `src` as f32: borrowed when stored as f32, else converted into the front of `tmp`.
pub(crate) fn widen<'a>(src: FloatView<'a>, tmp: &'a mut [f32]) -> Result<&'a [f32], KernelError> {
    match src {
        FloatView::F32(v) => Ok(v),
        FloatView::F16(v) => {
            let available = tmp.len();
            let dst = tmp.get_mut(..v.len()).ok_or_else(|| {
                KernelError::Internal(format!(
                    "scratch of {available} is too small for {}",
                    v.len()
                ))
            })?;
            f16_to_f32(v, dst).map_err(conversion)?;
            Ok(dst)
        }
    }
}

/// Lets `compute` fill a float output in f32: directly into f32 storage, or into the front of
/// `tmp` followed by one rounding into f16 storage.
pub(crate) fn compute_into(
    out: FloatViewMut<'_>,
    tmp: &mut [f32],
    compute: impl FnOnce(&mut [f32]) -> Result<(), KernelError>,
) -> Result<(), KernelError> {
    match out {
        FloatViewMut::F32(d) => compute(d),
        FloatViewMut::F16(d) => {
            let wide = tmp
                .get_mut(..d.len())
                .ok_or_else(|| KernelError::Internal("compute_into: scratch too small".into()))?;
            compute(wide)?;
            f32_to_f16(wide, d).map_err(conversion)
        }
    }
}

/// Converts `src[offset..offset + len]` into `block` (a stack buffer of at least `len`) when f16,
/// or borrows it when f32.
pub(crate) fn load_block<'a>(
    src: FloatView<'a>,
    offset: usize,
    len: usize,
    block: &'a mut [f32; BLOCK],
) -> &'a [f32] {
    match src {
        FloatView::F32(v) => &v[offset..offset + len],
        FloatView::F16(v) => {
            let dst = &mut block[..len];
            v[offset..offset + len].convert_to_f32_slice(dst);
            dst
        }
    }
}

/// `out[i] = f(x[i])` over f16 storage in stack blocks: widen a block, let `f` transform it in
/// place, round it once into `out`.
pub(crate) fn map_f16_blocks(x: &[half::f16], out: &mut [half::f16], f: impl Fn(&mut [f32])) {
    let mut block = [0f32; BLOCK];
    for (src, dst) in x.chunks(BLOCK).zip(out.chunks_mut(BLOCK)) {
        let wide = &mut block[..src.len()];
        src.convert_to_f32_slice(wide);
        f(wide);
        dst.convert_from_f32_slice(wide);
    }
}
