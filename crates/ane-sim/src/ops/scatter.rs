//! `scatter_along_axis`: the output is `data` with `updates` applied at the positions that
//! `indices` names along `axis` (modes `update`, `add`, `sub`, `mul`, `div`, `max`, `min`).
//! Updates apply one after another in row-major order of `indices`, so with repeated indices
//! the last `update` wins and the other modes accumulate. Float data is updated in f32 and
//! rounded once; int32 arithmetic wraps, `div` truncates toward zero and a zero divisor is a
//! run-time error. Indices follow the opset's rule (see `gather`).

use crate::buffers::{Buffers, FloatView, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::{compute_into, widen};
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::ops::gather::{AlongAxis, IndexRule};
use crate::prepare::op_cx::OpCx;
use crate::storage::{Kind, View};
use ane_cpu::elementwise::BinaryOp;
use ane_mil::ops::shape::normalize_axis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Update,
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
}

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let data = cx.input("data")?;
    let indices = cx.input("indices")?;
    let updates = cx.input("updates")?;
    let a = cx.int("axis")?;
    let axis =
        normalize_axis(a, data.shape.len()).ok_or_else(|| cx.internal("axis out of range"))?;
    let mode = match cx.string("mode")?.as_str() {
        "update" => Mode::Update,
        "add" => Mode::Add,
        "sub" => Mode::Sub,
        "mul" => Mode::Mul,
        "div" => Mode::Div,
        "max" => Mode::Max,
        "min" => Mode::Min,
        other => return Err(cx.unsupported(format!("unknown scatter mode \"{other}\""))),
    };
    let out = cx.output(0)?;
    let along = AlongAxis {
        outer: data.shape[..axis].iter().product(),
        dim: data.shape[axis],
        picks: indices.shape[axis],
        inner: data.shape[axis + 1..].iter().product(),
    };
    let f16 = |k: Kind| usize::from(k == Kind::F16);
    let scratch = f16(updates.kind) * updates.len() + f16(out.kind) * out.len();
    cx.push(
        Scatter {
            mode,
            along,
            rule: IndexRule::of(cx.opset),
            data: data.lid,
            indices: indices.lid,
            updates: updates.lid,
            out: out.lid,
        },
        ScratchNeed::f32(scratch),
    );
    Ok(())
}

#[derive(Debug)]
struct Scatter {
    mode: Mode,
    along: AlongAxis,
    rule: IndexRule,
    data: Lid,
    indices: Lid,
    updates: Lid,
    out: Lid,
}

fn apply_float(mode: Mode, old: f32, u: f32) -> f32 {
    match mode {
        Mode::Update => u,
        Mode::Add => old + u,
        Mode::Sub => old - u,
        Mode::Mul => old * u,
        Mode::Div => old / u,
        Mode::Max => BinaryOp::Max.apply_f32(old, u),
        Mode::Min => BinaryOp::Min.apply_f32(old, u),
    }
}

fn apply_int(mode: Mode, old: i32, u: i32) -> Result<i32, KernelError> {
    Ok(match mode {
        Mode::Update => u,
        Mode::Add => old.wrapping_add(u),
        Mode::Sub => old.wrapping_sub(u),
        Mode::Mul => old.wrapping_mul(u),
        Mode::Div if u == 0 => return Err(KernelError::Data("integer division by zero".into())),
        Mode::Div => old.wrapping_div(u),
        Mode::Max => old.max(u),
        Mode::Min => old.min(u),
    })
}

impl Kernel for Scatter {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let scratch = &mut cx.scratch.f32;
        if let View::I32(_) = bufs.view(self.data)? {
            return bufs.with_typed_output::<i32, _>(self.out, |bufs, out| {
                out.copy_from_slice(bufs.get::<i32>(self.data)?);
                let (idx, upd) = (
                    bufs.get::<i32>(self.indices)?,
                    bufs.get::<i32>(self.updates)?,
                );
                self.along.for_each(self.rule, idx, |at, dst| {
                    out[dst] = apply_int(self.mode, out[dst], upd[at])?;
                    Ok(())
                })
            });
        }
        bufs.with_float_output(self.out, |bufs, out| {
            let uv = bufs.float(self.updates)?;
            let n = match uv {
                FloatView::F16(v) => v.len(),
                FloatView::F32(_) => 0,
            };
            let (us, rest) = scratch.split_at_mut(n);
            let upd = widen(uv, us)?;
            let idx = bufs.get::<i32>(self.indices)?;
            let data = bufs.float(self.data)?;
            compute_into(out, rest, |o| {
                match data {
                    FloatView::F32(d) => o.copy_from_slice(d),
                    FloatView::F16(d) => ane_cpu::convert::f16_to_f32(d, o)
                        .map_err(|e| KernelError::Internal(e.to_string()))?,
                }
                self.along.for_each(self.rule, idx, |at, dst| {
                    o[dst] = apply_float(self.mode, o[dst], upd[at]);
                    Ok(())
                })
            })
        })
    }
}
