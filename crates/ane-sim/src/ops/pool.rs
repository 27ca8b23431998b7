//! `max_pool` and `avg_pool` over 1–3 spatial dims, with every pad type and ceil mode (output
//! sizes come from shape inference, coremltools' rule).
//!
//! A window covers input positions `[o·s − pad_before, o·s − pad_before + k)`. Padded positions
//! never win a max (a window with no real element gives −inf). `avg_pool` sums in f64 and
//! divides by the number of real elements (`exclude_padding_from_average`) or by the window size
//! clipped to the padded input (the default; positions a ceil-mode window hangs past the padding
//! never count). A window with no real element averages to 0.

use crate::buffers::{Buffers, FloatView, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::window::{custom_pads, pad_type, per_dim, window_pads};
use crate::prepare::op_cx::OpCx;
use crate::storage::Kind;
use rayon::prelude::*;

/// The op types handled here.
pub(crate) const OPS: &[&str] = &["max_pool", "avg_pool"];

/// One output position's window along one dim.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    /// Window length inside the padded input (the include-padding divisor's factor).
    padded: usize,
}

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let spatial = x.shape.len() - 2;
    let kernel = per_dim(cx, "kernel_sizes", spatial)?;
    let strides = per_dim(cx, "strides", spatial)?;
    let pt = pad_type(cx)?;
    let custom = custom_pads(cx, pt, spatial)?;
    let in_sp = x.shape[2..].to_vec();
    let pads = window_pads(pt, &custom, &in_sp, &kernel, &strides);
    let max = cx.op_type == "max_pool";
    let exclude = !max && cx.bool("exclude_padding_from_average")?;
    let out = cx.output(0)?;
    let out_sp = out.shape[2..].to_vec();
    let spans = (0..spatial)
        .map(|d| {
            (0..out_sp[d])
                .map(|o| {
                    let w0 = (o * strides[d]) as isize - pads[d].0 as isize;
                    let w1 = w0 + kernel[d] as isize;
                    let limit = in_sp[d] as isize;
                    let start = w0.clamp(0, limit) as usize;
                    let end = (w1.clamp(0, limit) as usize).max(start);
                    let padded_end = w1.min(limit + pads[d].1 as isize);
                    Span {
                        start,
                        end,
                        padded: (padded_end - w0).max(0) as usize,
                    }
                })
                .collect()
        })
        .collect();
    let planes = x.shape[0] * x.shape[1];
    let in_strides = ane_cpu::shape::row_major_strides(&in_sp);
    let scratch =
        usize::from(x.kind == Kind::F16) * x.len() + usize::from(out.kind == Kind::F16) * out.len();
    cx.push(
        Pool {
            max,
            exclude,
            planes,
            in_strides,
            in_sp,
            out_sp,
            spans,
            x: x.lid,
            out: out.lid,
        },
        ScratchNeed::f32(scratch),
    );
    Ok(())
}

#[derive(Debug)]
struct Pool {
    max: bool,
    exclude: bool,
    planes: usize,
    in_strides: Vec<usize>,
    in_sp: Vec<usize>,
    out_sp: Vec<usize>,
    spans: Vec<Vec<Span>>,
    x: Lid,
    out: Lid,
}

impl Pool {
    /// Pools one `[*D]` plane into one `[*D_out]` plane.
    fn plane(&self, x: &[f32], out: &mut [f32]) {
        let s = self.in_sp.len();
        let in_strides = &self.in_strides;
        let mut o = [0usize; 3];
        for slot in out.iter_mut() {
            let win: [Span; 3] = std::array::from_fn(|d| {
                if d < s {
                    self.spans[d][o[d]]
                } else {
                    Span {
                        start: 0,
                        end: 1,
                        padded: 1,
                    }
                }
            });
            let real: usize = win[..s].iter().map(|w| w.end - w.start).product();
            // Walk the window: all dims but the last by index, the last as a contiguous run.
            let (mut best, mut sum) = (f32::NEG_INFINITY, 0f64);
            if real > 0 {
                let last = s - 1;
                let mut i = [0usize; 3];
                for d in 0..last {
                    i[d] = win[d].start;
                }
                loop {
                    let base: usize = (0..last).map(|d| i[d] * in_strides[d]).sum();
                    let run = &x[base + win[last].start..base + win[last].end];
                    if self.max {
                        for &v in run {
                            if !best.is_nan() && (v.is_nan() || v > best) {
                                best = v;
                            }
                        }
                    } else {
                        sum += run.iter().map(|&v| f64::from(v)).sum::<f64>();
                    }
                    let mut d = last;
                    let more = loop {
                        if d == 0 {
                            break false;
                        }
                        d -= 1;
                        i[d] += 1;
                        if i[d] < win[d].end {
                            break true;
                        }
                        i[d] = win[d].start;
                    };
                    if !more {
                        break;
                    }
                }
            }
            *slot = if self.max {
                best
            } else {
                let count = if self.exclude {
                    real
                } else {
                    win[..s].iter().map(|w| w.padded).product()
                };
                if real == 0 || count == 0 {
                    0.0
                } else {
                    (sum / count as f64) as f32
                }
            };
            for d in (0..s).rev() {
                o[d] += 1;
                if o[d] < self.out_sp[d] {
                    break;
                }
                o[d] = 0;
            }
        }
    }
}

impl Kernel for Pool {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let parallel = cx.parallel;
        let scratch = &mut cx.scratch.f32;
        let in_plane: usize = self.in_sp.iter().product();
        let out_plane: usize = self.out_sp.iter().product();
        bufs.with_float_output(self.out, |bufs, out| {
            let xv = bufs.float(self.x)?;
            let n = match xv {
                FloatView::F16(v) => v.len(),
                FloatView::F32(_) => 0,
            };
            let (xs, rest) = scratch.split_at_mut(n);
            let x = widen(xv, xs)?;
            compute_into(out, rest, |o| {
                if out_plane == 0 || self.planes == 0 {
                    return Ok(());
                }
                let plane = |(p, o): (usize, &mut [f32])| {
                    self.plane(&x[p * in_plane..(p + 1) * in_plane], o)
                };
                if parallel && o.len() >= 1 << 14 {
                    o.par_chunks_mut(out_plane).enumerate().for_each(plane);
                } else {
                    o.chunks_mut(out_plane).enumerate().for_each(plane);
                }
                Ok(())
            })
        })
    }
}
