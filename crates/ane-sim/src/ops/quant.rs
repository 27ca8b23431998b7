//! `quantize` (`clip(round_half_even(x / scale) + zero_point)` into int8/uint8; NaN → 0) and
//! `dequantize` (`scale · (x − zero_point)`, rounded once), with scalar or per-axis scales.
//! Both compute in f32. (`constexpr_affine_dequantize` is evaluated when preparing.)

use crate::buffers::{Buffers, FloatView, FloatViewMut, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::prepare::op_cx::OpCx;
use crate::storage::Kind;
use ane_mil::ops::shape::normalize_axis;
use ane_mil::DType;

/// The op types handled here.
pub(crate) const OPS: &[&str] = &["quantize", "dequantize"];

/// Per-element scale and zero point along an axis (or the same everywhere).
#[derive(Debug, Clone)]
struct Affine {
    scale: Vec<f32>,
    zero_point: Vec<f32>,
    /// Size of the dims after the axis, and the axis length (1 for scalar parameters).
    inner: usize,
    dim: usize,
}

impl Affine {
    fn of(cx: &OpCx<'_>, shape: &[usize]) -> Result<Self, SimError> {
        let scale = cx.floats("scale")?;
        let zero_point = if cx.has("zero_point") {
            cx.floats("zero_point")?
        } else {
            vec![0.0]
        };
        let (inner, dim) = if cx.has("axis") && scale.len() > 1 {
            let a = cx.int("axis")?;
            let axis =
                normalize_axis(a, shape.len()).ok_or_else(|| cx.internal("axis out of range"))?;
            (shape[axis + 1..].iter().product(), shape[axis])
        } else {
            (1, 1)
        };
        Ok(Affine {
            scale,
            zero_point,
            inner,
            dim,
        })
    }

    /// Scale and zero point of flat element `i`.
    fn at(&self, i: usize) -> (f32, f32) {
        let a = if self.dim > 1 {
            (i / self.inner.max(1)) % self.dim
        } else {
            0
        };
        let pick = |v: &[f32]| if v.len() > 1 { v[a] } else { v[0] };
        (pick(&self.scale), pick(&self.zero_point))
    }
}

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("input")?;
    let affine = Affine::of(cx, &x.shape)?;
    let out = cx.output(0)?;
    if cx.op_type == "quantize" {
        let range = match out.dtype {
            DType::Int8 => (-128.0, 127.0),
            DType::Uint8 => (0.0, 255.0),
            other => return Err(cx.unsupported(format!("cannot quantize to {other}"))),
        };
        cx.push(
            Quantize {
                affine,
                range,
                x: x.lid,
                out: out.lid,
            },
            ScratchNeed::f32(usize::from(x.kind == Kind::F16) * x.len()),
        );
    } else {
        cx.push(
            Dequantize {
                affine,
                x: x.lid,
                out: out.lid,
            },
            ScratchNeed::f32(usize::from(out.kind == Kind::F16) * out.len()),
        );
    }
    Ok(())
}

#[derive(Debug)]
struct Quantize {
    affine: Affine,
    range: (f32, f32),
    x: Lid,
    out: Lid,
}

impl Kernel for Quantize {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let scratch = &mut cx.scratch.f32;
        bufs.with_typed_output::<i32, _>(self.out, |bufs, out| {
            let xv = bufs.float(self.x)?;
            let n = match xv {
                FloatView::F16(v) => v.len(),
                FloatView::F32(_) => 0,
            };
            let x = widen(xv, &mut scratch[..n])?;
            for (i, (o, &v)) in out.iter_mut().zip(x).enumerate() {
                let (s, z) = self.affine.at(i);
                let q = (v / s).round_ties_even() + z;
                // `as` maps NaN to 0.
                *o = q.clamp(self.range.0, self.range.1) as i32;
            }
            Ok(())
        })
    }
}

#[derive(Debug)]
struct Dequantize {
    affine: Affine,
    x: Lid,
    out: Lid,
}

impl Kernel for Dequantize {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let scratch = &mut cx.scratch.f32;
        bufs.with_float_output(self.out, |bufs, out: FloatViewMut<'_>| {
            let x = bufs.get::<i32>(self.x)?;
            compute_into(out, scratch, |o| {
                for (i, (o, &v)) in o.iter_mut().zip(x).enumerate() {
                    let (s, z) = self.affine.at(i);
                    *o = s * (v as f32 - z);
                }
                Ok(())
            })
        })
    }
}
