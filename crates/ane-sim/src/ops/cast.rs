//! `cast` between fp16, fp32, the integer types and bool.
//!
//! - float → float: exact widening, or rounding to nearest even (overflow → ±inf);
//! - float → integer: truncation toward zero, saturating at the target type's range; NaN → 0;
//! - integer → integer: two's-complement wrap into the target type (numpy `astype`);
//! - integer → float: nearest representable value (ints beyond ±65504 become ±inf in fp16);
//! - anything → bool: nonzero (NaN included) is true; bool → number: 0 or 1.

use crate::buffers::{Buffers, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::BLOCK;
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::prepare::op_cx::OpCx;
use crate::storage::{View, ViewMut};
use ane_mil::DType;
use half::slice::HalfFloatSliceExt;

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let out = cx.output(0)?;
    cx.push(
        Cast {
            to: out.dtype,
            x: x.lid,
            out: out.lid,
        },
        ScratchNeed::default(),
    );
    Ok(())
}

/// Truncates toward zero and saturates into integer `to` (NaN → 0), as i32 storage.
fn float_to_int(v: f32, to: DType) -> i32 {
    match to {
        DType::Int16 => i32::from(v as i16),
        DType::Int8 => i32::from(v as i8),
        DType::Uint8 => i32::from(v as u8),
        DType::Uint16 => i32::from(v as u16),
        _ => v as i32,
    }
}

/// Wraps an integer into integer type `to`.
fn wrap_int(v: i32, to: DType) -> i32 {
    match to {
        DType::Int16 => i32::from(v as i16),
        DType::Int8 => i32::from(v as i8),
        DType::Uint8 => i32::from(v as u8),
        DType::Uint16 => i32::from(v as u16),
        _ => v,
    }
}

#[derive(Debug)]
struct Cast {
    to: DType,
    x: Lid,
    out: Lid,
}

/// Widens `x[offset..offset + len]` of a numeric view into `block`.
fn widen_block(x: View<'_>, offset: usize, block: &mut [f32]) {
    let len = block.len();
    match x {
        View::F16(v) => v[offset..offset + len].convert_to_f32_slice(block),
        View::F32(v) => block.copy_from_slice(&v[offset..offset + len]),
        View::I32(v) => block
            .iter_mut()
            .zip(&v[offset..offset + len])
            .for_each(|(b, &i)| *b = i as f32),
        View::Bool(v) => block
            .iter_mut()
            .zip(&v[offset..offset + len])
            .for_each(|(b, &i)| *b = f32::from(i)),
    }
}

impl Kernel for Cast {
    fn run(&self, bufs: &mut Buffers, _: &mut RunCx<'_>) -> Result<(), KernelError> {
        let to = self.to;
        bufs.with_output(self.out, |bufs, out| {
            let x = bufs.view(self.x)?;
            if x.len() != out.len() {
                return Err(KernelError::Internal("cast length mismatch".into()));
            }
            match (x, out) {
                // Integer and bool sources convert exactly without going through f32.
                (View::I32(v), ViewMut::I32(o)) => {
                    o.iter_mut().zip(v).for_each(|(o, &i)| *o = wrap_int(i, to))
                }
                (View::I32(v), ViewMut::Bool(o)) => o
                    .iter_mut()
                    .zip(v)
                    .for_each(|(o, &i)| *o = u8::from(i != 0)),
                (View::Bool(v), ViewMut::I32(o)) => {
                    o.iter_mut().zip(v).for_each(|(o, &b)| *o = i32::from(b))
                }
                (View::Bool(v), ViewMut::Bool(o)) => o.copy_from_slice(v),
                (View::F16(v), ViewMut::F16(o)) => o.copy_from_slice(v),
                (View::F32(v), ViewMut::F32(o)) => o.copy_from_slice(v),
                (x, out) => {
                    let mut block = [0f32; BLOCK];
                    let n = x.len();
                    let mut out = out;
                    for start in (0..n).step_by(BLOCK) {
                        let b = &mut block[..BLOCK.min(n - start)];
                        widen_block(x, start, b);
                        match &mut out {
                            ViewMut::F16(o) => o[start..start + b.len()].convert_from_f32_slice(b),
                            ViewMut::F32(o) => o[start..start + b.len()].copy_from_slice(b),
                            ViewMut::I32(o) => o[start..start + b.len()]
                                .iter_mut()
                                .zip(b.iter())
                                .for_each(|(o, &v)| *o = float_to_int(v, to)),
                            ViewMut::Bool(o) => o[start..start + b.len()]
                                .iter_mut()
                                .zip(b.iter())
                                .for_each(|(o, &v)| *o = u8::from(v != 0.0)),
                        }
                    }
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_to_int_truncates_and_saturates() {
        assert_eq!(float_to_int(-1.7, DType::Int32), -1);
        assert_eq!(float_to_int(2.9, DType::Int32), 2);
        assert_eq!(float_to_int(f32::NAN, DType::Int32), 0);
        assert_eq!(float_to_int(1e10, DType::Int32), i32::MAX);
        assert_eq!(float_to_int(-300.0, DType::Int8), -128);
        assert_eq!(float_to_int(-3.0, DType::Uint8), 0);
        assert_eq!(float_to_int(70000.0, DType::Uint16), 65535);
        assert_eq!(wrap_int(300, DType::Uint8), 44);
        assert_eq!(wrap_int(-1, DType::Uint16), 65535);
        assert_eq!(wrap_int(200, DType::Int8), -56);
    }
}
