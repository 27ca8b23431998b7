//! The im2col expansion behind `conv` and the col2im scatter behind `conv_transpose`, for any
//! number of spatial dims. The last spatial dim is handled as contiguous runs (a copy for
//! stride 1), the others through an odometer; padding positions are written as zeros.

use super::Geometry;

/// For positions `idx` in `0..count` mapped to `idx·stride + offset`, the sub-range whose image
/// lies in `0..limit`.
fn valid_range(count: usize, limit: usize, stride: usize, offset: isize) -> (usize, usize) {
    // First idx with idx·stride + offset ≥ 0.
    let lo = if offset >= 0 {
        0
    } else {
        (offset.unsigned_abs()).div_ceil(stride)
    };
    // First idx with idx·stride + offset ≥ limit.
    let hi = if (limit as isize) <= offset {
        0
    } else {
        ((limit as isize - offset) as usize).div_ceil(stride)
    };
    let hi = hi.min(count);
    (lo.min(hi), hi)
}

/// Odometer over a multi-index with the given extents; returns false after the last index.
fn advance(index: &mut [usize], extents: &[usize]) -> bool {
    for d in (0..index.len()).rev() {
        index[d] += 1;
        if index[d] < extents[d] {
            return true;
        }
        index[d] = 0;
    }
    false
}

/// Copies a short run (an image row) with inline 8-wide moves: rows are often only tens of
/// elements, where a call into the C library's memcpy costs more than the copy.
fn copy_short(dst: &mut [f32], src: &[f32]) {
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d8, s8) in (&mut d).zip(&mut s) {
        let block: [f32; 8] = s8.try_into().unwrap_or([0.0; 8]);
        d8.copy_from_slice(&block);
    }
    for (d1, s1) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *d1 = *s1;
    }
}

/// Zeroes a short run with inline 8-wide stores (see `copy_short`).
fn zero_short(dst: &mut [f32]) {
    let mut d = dst.chunks_exact_mut(8);
    for d8 in &mut d {
        d8.copy_from_slice(&[0.0; 8]);
    }
    for d1 in d.into_remainder() {
        *d1 = 0.0;
    }
}

/// Expands one group of one image `[C_in/g, *D]` into `col [C_in/g · ΠK, ΠD_out]`:
/// `col[(c, k), o] = x[c, o·s + k·dil − pad_before]`, 0 where that falls in the padding.
pub(super) fn im2col(geo: &Geometry, input: &[f32], col: &mut [f32]) {
    if geo.in_sp.len() == 2 {
        return im2col_2d(geo, input, col, 0..geo.out_sp[0]);
    }
    let s = geo.in_sp.len();
    let last = s - 1;
    let in_plane = geo.in_plane();
    let out_plane = geo.out_plane();
    let out_row = geo.out_sp[last];
    let in_row = geo.in_sp[last];
    let outer_out: Vec<usize> = geo.out_sp[..last].to_vec();
    let in_strides = crate::shape::row_major_strides(&geo.in_sp);
    let mut rows = col.chunks_mut(out_plane);
    for c in 0..geo.cin_g {
        let plane = &input[c * in_plane..(c + 1) * in_plane];
        let mut k = vec![0usize; s];
        loop {
            // Row (c, k) of col; rows are produced in (c, k) order.
            let Some(row) = rows.next() else { return };
            let offset =
                |d: usize| k[d] as isize * geo.dilations[d] as isize - geo.pads_before[d] as isize;
            let (lo, hi) = valid_range(out_row, in_row, geo.strides[last], offset(last));
            let outer_ranges: Vec<(usize, usize)> = (0..last)
                .map(|d| valid_range(geo.out_sp[d], geo.in_sp[d], geo.strides[d], offset(d)))
                .collect();
            let mut o = vec![0usize; last];
            for seg in row.chunks_mut(out_row) {
                let inside =
                    (0..last).all(|d| o[d] >= outer_ranges[d].0 && o[d] < outer_ranges[d].1);
                if !inside || lo >= hi {
                    zero_short(seg);
                } else {
                    let base: usize = (0..last)
                        .map(|d| {
                            ((o[d] * geo.strides[d]) as isize + offset(d)) as usize * in_strides[d]
                        })
                        .sum();
                    let first = (lo * geo.strides[last]) as isize + offset(last);
                    let src = &plane[base + first as usize..];
                    zero_short(&mut seg[..lo]);
                    let stride = geo.strides[last];
                    if stride == 1 {
                        copy_short(&mut seg[lo..hi], &src[..hi - lo]);
                    } else {
                        for (dst, val) in seg[lo..hi].iter_mut().zip(src.iter().step_by(stride)) {
                            *dst = *val;
                        }
                    }
                    zero_short(&mut seg[hi..]);
                }
                if !advance(&mut o, &outer_out) {
                    break;
                }
            }
            if !advance(&mut k, &geo.kernel) {
                break;
            }
        }
    }
}

/// [`im2col`] for 2-D images, restricted to output rows `rows` (`col` then holds
/// `rows.len() · out_w` columns), with the bookkeeping hoisted out of the row loop: 2-D rows
/// are short, so per-row overhead dominates the generic version.
pub(super) fn im2col_2d(
    geo: &Geometry,
    input: &[f32],
    col: &mut [f32],
    rows: std::ops::Range<usize>,
) {
    let (h, w) = (geo.in_sp[0], geo.in_sp[1]);
    let (out_h, out_w) = (geo.out_sp[0], geo.out_sp[1]);
    let (stride_y, stride_x) = (geo.strides[0], geo.strides[1]);
    let tile = rows.len() * out_w;
    let mut col_rows = col.chunks_exact_mut(tile);
    for c in 0..geo.cin_g {
        let plane = &input[c * h * w..(c + 1) * h * w];
        for ky in 0..geo.kernel[0] {
            let off_y = (ky * geo.dilations[0]) as isize - geo.pads_before[0] as isize;
            let (y_lo, y_hi) = valid_range(out_h, h, stride_y, off_y);
            // Valid output rows inside this tile, relative to its first row.
            let y_lo = y_lo.clamp(rows.start, rows.end) - rows.start;
            let y_hi = y_hi.clamp(rows.start, rows.end) - rows.start;
            let y_hi = y_hi.max(y_lo);
            for kx in 0..geo.kernel[1] {
                let off_x = (kx * geo.dilations[1]) as isize - geo.pads_before[1] as isize;
                let (x_lo, x_hi) = valid_range(out_w, w, stride_x, off_x);
                let Some(row) = col_rows.next() else { return };
                if x_lo >= x_hi {
                    row.fill(0.0);
                    continue;
                }
                row[..y_lo * out_w].fill(0.0);
                row[y_hi * out_w..].fill(0.0);
                // First input column read, ≥ 0 by construction of x_lo.
                let x_first = ((x_lo * stride_x) as isize + off_x) as usize;
                for oy in y_lo..y_hi {
                    let iy = (((rows.start + oy) * stride_y) as isize + off_y) as usize;
                    let src = &plane[iy * w + x_first..(iy + 1) * w];
                    let seg = &mut row[oy * out_w..(oy + 1) * out_w];
                    zero_short(&mut seg[..x_lo]);
                    if stride_x == 1 {
                        copy_short(&mut seg[x_lo..x_hi], &src[..x_hi - x_lo]);
                    } else {
                        for (d, v) in seg[x_lo..x_hi].iter_mut().zip(src.iter().step_by(stride_x)) {
                            *d = *v;
                        }
                    }
                    zero_short(&mut seg[x_hi..]);
                }
            }
        }
    }
}

/// Scatter-adds `col [C_out/g · ΠK, ΠD_in]` into one group of one output image
/// `[C_out/g, *D_out]`: `out[co, i·s + k·dil − pad_before] += col[(co, k), i]`.
pub(super) fn col2im(geo: &Geometry, col: &[f32], out: &mut [f32]) {
    let s = geo.in_sp.len();
    let last = s - 1;
    let in_plane = geo.in_plane();
    let out_plane = geo.out_plane();
    let in_row = geo.in_sp[last];
    let out_row = geo.out_sp[last];
    let outer_in: Vec<usize> = geo.in_sp[..last].to_vec();
    let out_strides = crate::shape::row_major_strides(&geo.out_sp);
    let mut rows = col.chunks(in_plane);
    for co in 0..geo.cout_g {
        let plane = &mut out[co * out_plane..(co + 1) * out_plane];
        let mut k = vec![0usize; s];
        loop {
            let Some(row) = rows.next() else { return };
            let offset =
                |d: usize| k[d] as isize * geo.dilations[d] as isize - geo.pads_before[d] as isize;
            let (lo, hi) = valid_range(in_row, out_row, geo.strides[last], offset(last));
            let outer_ranges: Vec<(usize, usize)> = (0..last)
                .map(|d| valid_range(geo.in_sp[d], geo.out_sp[d], geo.strides[d], offset(d)))
                .collect();
            let mut i = vec![0usize; last];
            for seg in row.chunks(in_row) {
                let inside =
                    (0..last).all(|d| i[d] >= outer_ranges[d].0 && i[d] < outer_ranges[d].1);
                if inside && lo < hi {
                    let base: usize = (0..last)
                        .map(|d| {
                            ((i[d] * geo.strides[d]) as isize + offset(d)) as usize * out_strides[d]
                        })
                        .sum();
                    let first = ((lo * geo.strides[last]) as isize + offset(last)) as usize;
                    let dst = &mut plane[base + first..];
                    let stride = geo.strides[last];
                    for (d, v) in dst.iter_mut().step_by(stride).zip(&seg[lo..hi]) {
                        *d += *v;
                    }
                }
                if !advance(&mut i, &outer_in) {
                    break;
                }
            }
            if !advance(&mut k, &geo.kernel) {
                break;
            }
        }
    }
}
