//! f32 ↔ f16 conversion of whole slices (vectorized by `half`, F16C on x86), split across
//! threads for large slices, and rounding f32 data to fp16 precision in place.

use crate::error::CpuError;
use crate::threads::{ELEMENTWISE_CHUNK, PARALLEL_MIN_ELEMENTS};
use half::{f16, slice::HalfFloatSliceExt};
use rayon::prelude::*;

/// Converts `src` into `dst` (same length), rounding to nearest even; values beyond the fp16
/// range become ±inf and tiny ones subnormals or ±0, like any IEEE conversion.
pub fn f32_to_f16(src: &[f32], dst: &mut [f16]) -> Result<(), CpuError> {
    check_lengths("f32_to_f16", src.len(), dst.len())?;
    if src.len() < PARALLEL_MIN_ELEMENTS {
        dst.convert_from_f32_slice(src);
    } else {
        dst.par_chunks_mut(ELEMENTWISE_CHUNK)
            .zip(src.par_chunks(ELEMENTWISE_CHUNK))
            .for_each(|(d, s)| d.convert_from_f32_slice(s));
    }
    Ok(())
}

/// Converts `src` into `dst` (same length); exact.
pub fn f16_to_f32(src: &[f16], dst: &mut [f32]) -> Result<(), CpuError> {
    check_lengths("f16_to_f32", src.len(), dst.len())?;
    if src.len() < PARALLEL_MIN_ELEMENTS {
        src.convert_to_f32_slice(dst);
    } else {
        dst.par_chunks_mut(ELEMENTWISE_CHUNK)
            .zip(src.par_chunks(ELEMENTWISE_CHUNK))
            .for_each(|(d, s)| s.convert_to_f32_slice(d));
    }
    Ok(())
}

/// `src` converted to a new f16 vector.
pub fn f32_to_f16_vec(src: &[f32]) -> Vec<f16> {
    // zeroed_vec allocates with calloc: large buffers come as fresh zero pages, no memset.
    let mut dst: Vec<f16> = bytemuck::zeroed_vec(src.len());
    // Lengths match by construction.
    let _ = f32_to_f16(src, &mut dst);
    dst
}

/// `src` converted to a new f32 vector.
pub fn f16_to_f32_vec(src: &[f16]) -> Vec<f32> {
    let mut dst = vec![0f32; src.len()];
    let _ = f16_to_f32(src, &mut dst);
    dst
}

/// Rounds every element to the nearest fp16 value, kept as f32 (`x = f16(x) as f32`): what an
/// op's output looks like after fp16 storage. Done in stack-sized blocks of slice conversions.
pub fn round_to_f16(data: &mut [f32]) {
    if data.len() < PARALLEL_MIN_ELEMENTS {
        round_block(data);
    } else {
        data.par_chunks_mut(ELEMENTWISE_CHUNK).for_each(round_block);
    }
}

fn round_block(data: &mut [f32]) {
    const BLOCK: usize = 512;
    let mut tmp = [f16::ZERO; BLOCK];
    for chunk in data.chunks_mut(BLOCK) {
        let t = &mut tmp[..chunk.len()];
        t.convert_from_f32_slice(chunk);
        t.convert_to_f32_slice(chunk);
    }
}

/// Element types a tensor can be stored in, as seen by kernels that compute in f32: f32 itself
/// (borrowed as is) or f16 (widened and narrowed in blocks with slice conversions).
pub(crate) trait Storage: Copy + Send + Sync + 'static {
    /// The data itself when it already is f32.
    fn as_f32(data: &[Self]) -> Option<&[f32]>;
    /// The data itself, mutably, when it already is f32.
    fn as_f32_mut(data: &mut [Self]) -> Option<&mut [f32]>;
    /// Widens `src` into `dst` (same length), on the calling thread.
    fn load(src: &[Self], dst: &mut [f32]);
    /// Narrows `src` into `dst` (same length, round to nearest even), on the calling thread.
    fn store(src: &[f32], dst: &mut [Self]);
    /// `n` zeros, allocated zeroed (fresh pages, no memset).
    fn zeroed_vec(n: usize) -> Vec<Self>;
}

impl Storage for f32 {
    fn as_f32(data: &[f32]) -> Option<&[f32]> {
        Some(data)
    }
    fn as_f32_mut(data: &mut [f32]) -> Option<&mut [f32]> {
        Some(data)
    }
    fn load(src: &[f32], dst: &mut [f32]) {
        dst.copy_from_slice(src);
    }
    fn store(src: &[f32], dst: &mut [f32]) {
        dst.copy_from_slice(src);
    }
    fn zeroed_vec(n: usize) -> Vec<f32> {
        vec![0.0; n]
    }
}

impl Storage for f16 {
    fn as_f32(_: &[f16]) -> Option<&[f32]> {
        None
    }
    fn as_f32_mut(_: &mut [f16]) -> Option<&mut [f32]> {
        None
    }
    fn load(src: &[f16], dst: &mut [f32]) {
        src.convert_to_f32_slice(dst);
    }
    fn store(src: &[f32], dst: &mut [f16]) {
        dst.convert_from_f32_slice(src);
    }
    fn zeroed_vec(n: usize) -> Vec<f16> {
        bytemuck::zeroed_vec(n)
    }
}

fn check_lengths(op: &'static str, src: usize, dst: usize) -> Result<(), CpuError> {
    if src != dst {
        return Err(CpuError::invalid(
            op,
            format!("source has {src} elements but destination has {dst}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as f32) * 0.731).sin() * 70000.0 / (1.0 + (i % 97) as f32))
            .collect()
    }

    #[test]
    fn slice_conversion_matches_per_element_conversion() {
        for n in [0, 1, 7, 513, PARALLEL_MIN_ELEMENTS + 3] {
            let src = sample(n);
            let halves = f32_to_f16_vec(&src);
            for (h, &x) in halves.iter().zip(&src) {
                assert_eq!(h.to_bits(), f16::from_f32(x).to_bits(), "x = {x}");
            }
            let back = f16_to_f32_vec(&halves);
            for (b, h) in back.iter().zip(&halves) {
                assert_eq!(*b, h.to_f32());
            }
            let mut rounded = src.clone();
            round_to_f16(&mut rounded);
            assert_eq!(
                rounded.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                back.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn special_values_round_like_ieee() {
        let mut v = vec![65504.0, 65520.0, 1e-8, -0.0, f32::NAN, 1.0 + 1.0 / 4096.0];
        round_to_f16(&mut v);
        assert_eq!(v[0], 65504.0);
        assert_eq!(v[1], f32::INFINITY);
        assert_eq!(v[2], 0.0);
        assert!(v[3] == 0.0 && v[3].is_sign_negative());
        assert!(v[4].is_nan());
        assert_eq!(v[5], 1.0, "ties round to even");
    }

    #[test]
    fn mismatched_lengths_are_errors() {
        assert!(f32_to_f16(&[1.0], &mut []).is_err());
        assert!(f16_to_f32(&[], &mut [0.0]).is_err());
    }
}
