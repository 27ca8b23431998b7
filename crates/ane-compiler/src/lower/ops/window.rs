//! Sliding-window machinery shared by convolution and pooling: padding, extracting the strided
//! input view of each kernel tap (im2col without a gather), and the adjoint — scattering per-tap
//! values back onto the input grid (zero-interleave for the stride, pad to the tap's offset, sum).
//!
//! Everything is MIL the ANE runs: `pad`, `slice_by_size`/`slice_by_index`, `reshape`, `add`.

use crate::lower::context::{to_i32, LowerCx};
use crate::lower::error::LowerError;
use ane_mil::builder::{PadMode, SliceByIndex, Var};

/// The index space of a 2-D window op on `[N, C, H, W]`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Batch.
    pub n: usize,
    /// Channels.
    pub c: usize,
    /// Input `[H, W]`.
    pub hw: [usize; 2],
    /// Kernel `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Padding on both sides `[ph, pw]`.
    pub padding: [usize; 2],
    /// Output `[OH, OW]`.
    pub out: [usize; 2],
}

impl Window {
    /// Kernel taps in row-major window order (top-left first).
    pub fn taps(&self) -> impl Iterator<Item = (usize, usize)> {
        let [kh, kw] = self.kernel;
        (0..kh).flat_map(move |a| (0..kw).map(move |b| (a, b)))
    }

    /// The padded input size.
    pub fn padded(&self) -> [usize; 2] {
        [
            self.hw[0] + 2 * self.padding[0],
            self.hw[1] + 2 * self.padding[1],
        ]
    }

    /// Extent of the input rows/columns one tap touches: `(out − 1)·stride + 1`.
    fn span(&self, axis: usize) -> usize {
        (self.out[axis] - 1) * self.stride[axis] + 1
    }
}

/// `x` `[N, C, H, W]` padded on both sides of H and W with `value`.
pub fn pad_input(cx: &mut LowerCx, x: &Var, w: &Window, value: f64) -> Result<Var, LowerError> {
    let [ph, pw] = w.padding;
    if ph == 0 && pw == 0 {
        return Ok(x.clone());
    }
    let pads = to_i32(&[ph, ph, pw, pw])?;
    let r = cx.f.pad(x, &pads, PadMode::Constant, value);
    cx.ok(r)
}

/// The input view of tap `(a, b)` of the padded input: `[N, C, OH, OW]` with element `(i, j)`
/// = `padded[.., i·sh + a, j·sw + b]`.
pub fn tap_view(
    cx: &mut LowerCx,
    padded: &Var,
    w: &Window,
    (a, b): (usize, usize),
) -> Result<Var, LowerError> {
    let [oh, ow] = w.out;
    if w.stride == [1, 1] {
        return cx.slice(padded, &[0, 0, a, b], &[w.n, w.c, oh, ow]);
    }
    let spec = SliceByIndex {
        begin: to_i32(&[0, 0, a, b])?,
        end: to_i32(&[w.n, w.c, a + w.span(0), b + w.span(1)])?,
        stride: Some(to_i32(&[1, 1, w.stride[0], w.stride[1]])?),
        ..SliceByIndex::default()
    };
    let r = cx.f.slice_by_index(padded, &spec);
    cx.ok(r)
}

/// The adjoint of [`tap_view`] summed over taps: `values[t]` (`[N, C, OH, OW]`, one per tap in
/// [`Window::taps`] order) added onto a zero input grid at the positions tap `t` reads, then the
/// padding cropped off. Returns `[N, C, H, W]`.
pub fn scatter_taps(cx: &mut LowerCx, values: &[Var], w: &Window) -> Result<Var, LowerError> {
    let [hp, wp] = w.padded();
    let (span_h, span_w) = (w.span(0), w.span(1));
    let mut placed = Vec::with_capacity(values.len());
    for (v, (a, b)) in values.iter().zip(w.taps()) {
        let spread = interleave_zeros(cx, v, w)?;
        let pads = to_i32(&[a, hp - a - span_h, b, wp - b - span_w])?;
        let r = cx.f.pad(&spread, &pads, PadMode::Constant, 0.0);
        placed.push(cx.ok(r)?);
    }
    let grid = cx.sum(placed)?;
    cx.slice(
        &grid,
        &[0, 0, w.padding[0], w.padding[1]],
        &[w.n, w.c, w.hw[0], w.hw[1]],
    )
}

/// `[N, C, OH, OW]` → `[N, C, span_h, span_w]` with the values at multiples of the stride and
/// zeros between (rank-5 reshapes keep every axis as small as the inputs').
fn interleave_zeros(cx: &mut LowerCx, v: &Var, w: &Window) -> Result<Var, LowerError> {
    let [oh, ow] = w.out;
    let [sh, sw] = w.stride;
    let (n, c) = (w.n, w.c);
    let mut v = v.clone();
    if sw > 1 {
        let col = cx.reshape(&v, &[n, c, oh, ow, 1])?;
        let wide = cx.pad_axis(&col, 4, 0, sw - 1, 0.0)?;
        let flat = cx.reshape(&wide, &[n, c, oh, ow * sw])?;
        v = cx.slice_axis(&flat, 3, 0, w.span(1))?;
    }
    if sh > 1 {
        let width = if sw > 1 { w.span(1) } else { ow };
        let row = cx.reshape(&v, &[n, c, oh, 1, width])?;
        let tall = cx.pad_axis(&row, 3, 0, sh - 1, 0.0)?;
        let flat = cx.reshape(&tall, &[n, c, oh * sh, width])?;
        v = cx.slice_axis(&flat, 2, 0, w.span(0))?;
    }
    Ok(v)
}
