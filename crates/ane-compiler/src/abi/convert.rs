//! Element conversions between host slices and kernel buffer bytes (little-endian, as MIL weight
//! files and IOSurfaces are). Whole slices at a time: `half`'s slice conversions are ~5× faster
//! than converting element by element (machine.md).

use half::f16;
use half::slice::HalfFloatSliceExt;

#[cfg(target_endian = "big")]
compile_error!("kernel buffers are little-endian; the ABI copies host memory into them directly");

/// Elements converted per step when the destination bytes are not aligned for direct casting.
const CHUNK: usize = 256;

/// Writes `src` as fp16 into `dst` (`2·src.len()` bytes).
pub fn f32_to_f16_bytes(src: &[f32], dst: &mut [u8]) {
    if let Ok(out) = bytemuck::try_cast_slice_mut::<u8, f16>(dst) {
        out.convert_from_f32_slice(src);
        return;
    }
    let mut buf = [f16::ZERO; CHUNK];
    for (s, d) in src.chunks(CHUNK).zip(dst.chunks_mut(CHUNK * 2)) {
        buf[..s.len()].convert_from_f32_slice(s);
        d.copy_from_slice(bytemuck::cast_slice(&buf[..s.len()]));
    }
}

/// Writes `src` as fp32 into `dst` (`4·src.len()` bytes).
pub fn f16_to_f32_bytes(src: &[f16], dst: &mut [u8]) {
    if let Ok(out) = bytemuck::try_cast_slice_mut::<u8, f32>(dst) {
        src.convert_to_f32_slice(out);
        return;
    }
    let mut buf = [0f32; CHUNK];
    for (s, d) in src.chunks(CHUNK).zip(dst.chunks_mut(CHUNK * 4)) {
        s.convert_to_f32_slice(&mut buf[..s.len()]);
        d.copy_from_slice(bytemuck::cast_slice(&buf[..s.len()]));
    }
}

/// Reads fp16 bytes into `dst` as f32.
pub fn f16_bytes_to_f32(src: &[u8], dst: &mut [f32]) {
    if let Ok(values) = bytemuck::try_cast_slice::<u8, f16>(src) {
        values.convert_to_f32_slice(dst);
        return;
    }
    let mut buf = [f16::ZERO; CHUNK];
    for (s, d) in src.chunks(CHUNK * 2).zip(dst.chunks_mut(CHUNK)) {
        let n = d.len();
        bytemuck::cast_slice_mut::<f16, u8>(&mut buf[..n]).copy_from_slice(s);
        buf[..n].convert_to_f32_slice(d);
    }
}

/// Reads fp32 bytes into `dst`.
pub fn f32_bytes_to_f32(src: &[u8], dst: &mut [f32]) {
    bytemuck::cast_slice_mut::<f32, u8>(dst).copy_from_slice(src);
}

/// Reads int32 bytes into `dst` as f32.
pub fn i32_bytes_to_f32(src: &[u8], dst: &mut [f32]) {
    for (d, s) in dst.iter_mut().zip(src.chunks_exact(4)) {
        *d = i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip_at_any_alignment() {
        let values: Vec<f32> = (0..1000).map(|i| i as f32 * 0.25 - 100.0).collect();
        for shift in 0..2 {
            let mut storage = vec![0u8; values.len() * 2 + 1];
            let bytes = &mut storage[shift..shift + values.len() * 2];
            f32_to_f16_bytes(&values, bytes);
            let mut back = vec![0f32; values.len()];
            f16_bytes_to_f32(bytes, &mut back);
            assert_eq!(back, values);
        }
        let halves: Vec<f16> = values.iter().map(|&v| f16::from_f32(v)).collect();
        for shift in 0..4 {
            let mut storage = vec![0u8; values.len() * 4 + 3];
            let bytes = &mut storage[shift..shift + values.len() * 4];
            f16_to_f32_bytes(&halves, bytes);
            let mut back = vec![0f32; values.len()];
            f32_bytes_to_f32(bytes, &mut back);
            assert_eq!(back, values);
        }
    }
}
