//! Broadcasting binary ops: arithmetic (`add`, `sub`, `mul`, `real_div`, `pow`, `maximum`,
//! `minimum`) and comparisons (`equal` … `less_equal`), on float and int32 tensors.
//!
//! Floats are computed in f32 and rounded once (for fp16 operands, f32 `+ − × ÷` are exact
//! enough that the rounded result is the correctly rounded fp16 result). `pow` follows C's
//! `powf`; `maximum`/`minimum` propagate NaN (numpy). Int32: `add`/`sub`/`mul`/`pow` wrap
//! (two's complement); `real_div` truncates the true quotient toward zero; a zero divisor (and
//! `0 ** negative`) is a run-time error; `pow` with a negative exponent gives the truncated real
//! result (1 for base 1, ±1 for base −1, 0 otherwise).

use crate::buffers::{Buffers, FloatView, FloatViewMut, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::broadcast::{BroadcastPlan, Segment};
use crate::exec::float_io::{load_block, BLOCK};
use crate::exec::parallel::for_chunks;
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::prepare::op_cx::OpCx;
use crate::storage::Kind;
use ane_cpu::elementwise::CompareOp;
use half::slice::HalfFloatSliceExt;

/// The binary op types handled here.
pub(crate) const OPS: &[&str] = &[
    "add",
    "sub",
    "mul",
    "real_div",
    "pow",
    "maximum",
    "minimum",
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Max,
    Min,
}

fn arith(op: &str) -> Option<Arith> {
    Some(match op {
        "add" => Arith::Add,
        "sub" => Arith::Sub,
        "mul" => Arith::Mul,
        "real_div" => Arith::Div,
        "pow" => Arith::Pow,
        "maximum" => Arith::Max,
        "minimum" => Arith::Min,
        _ => return None,
    })
}

fn compare(op: &str) -> Option<CompareOp> {
    Some(match op {
        "equal" => CompareOp::Equal,
        "not_equal" => CompareOp::NotEqual,
        "greater" => CompareOp::Greater,
        "greater_equal" => CompareOp::GreaterEqual,
        "less" => CompareOp::Less,
        "less_equal" => CompareOp::LessEqual,
        _ => return None,
    })
}

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    let y = cx.input("y")?;
    let out = cx.output(0)?;
    let plan = BroadcastPlan::new(&out.shape, [&x.shape, &y.shape]);
    if x.kind != y.kind {
        return Err(cx.internal("operands are stored differently"));
    }
    let op = if let Some(a) = arith(&cx.op_type) {
        Op::Arith(a)
    } else if let Some(c) = compare(&cx.op_type) {
        Op::Compare(c)
    } else {
        return Err(cx.internal("not a binary op"));
    };
    let float = x.kind.is_float();
    if !float && x.kind != Kind::I32 {
        return Err(cx.unsupported(format!("{} operands are not supported", x.dtype)));
    }
    cx.push(
        Binary {
            op,
            float,
            plan,
            x: x.lid,
            y: y.lid,
            out: out.lid,
        },
        ScratchNeed::default(),
    );
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Arith(Arith),
    Compare(CompareOp),
}

#[derive(Debug)]
struct Binary {
    op: Op,
    float: bool,
    plan: BroadcastPlan<2>,
    x: Lid,
    y: Lid,
    out: Lid,
}

/// One operand over a segment: a run of values or one repeated value.
#[derive(Clone, Copy)]
enum Opnd<'a, T> {
    Run(&'a [T]),
    One(T),
}

/// Applies `$e` over two operands into `$out`, with one monomorphized loop per operand form.
macro_rules! zip2 {
    ($a:expr, $b:expr, $out:expr, |$x:ident, $y:ident| $e:expr) => {
        match ($a, $b) {
            (Opnd::Run(a), Opnd::Run(b)) => {
                for ((o, &$x), &$y) in $out.iter_mut().zip(a).zip(b) {
                    *o = $e;
                }
            }
            (Opnd::Run(a), Opnd::One($y)) => {
                for (o, &$x) in $out.iter_mut().zip(a) {
                    *o = $e;
                }
            }
            (Opnd::One($x), Opnd::Run(b)) => {
                for (o, &$y) in $out.iter_mut().zip(b) {
                    *o = $e;
                }
            }
            (Opnd::One($x), Opnd::One($y)) => {
                let v = $e;
                $out.iter_mut().for_each(|o| *o = v);
            }
        }
    };
}

fn float_operand<'a>(
    v: FloatView<'a>,
    at: usize,
    len: usize,
    run: bool,
    block: &'a mut [f32; BLOCK],
) -> Opnd<'a, f32> {
    if run {
        Opnd::Run(load_block(v, at, len, block))
    } else {
        Opnd::One(match v {
            FloatView::F32(s) => s[at],
            FloatView::F16(s) => s[at].to_f32(),
        })
    }
}

fn float_arith(op: Arith, a: Opnd<'_, f32>, b: Opnd<'_, f32>, out: &mut [f32]) {
    match op {
        Arith::Add => zip2!(a, b, out, |x, y| x + y),
        Arith::Sub => zip2!(a, b, out, |x, y| x - y),
        Arith::Mul => zip2!(a, b, out, |x, y| x * y),
        Arith::Div => zip2!(a, b, out, |x, y| x / y),
        Arith::Pow => zip2!(a, b, out, |x, y| x.powf(y)),
        // numpy: NaN if either operand is NaN (`f32::max` would drop it).
        Arith::Max => zip2!(a, b, out, |x, y| if x.is_nan() || y.is_nan() {
            f32::NAN
        } else {
            x.max(y)
        }),
        Arith::Min => zip2!(a, b, out, |x, y| if x.is_nan() || y.is_nan() {
            f32::NAN
        } else {
            x.min(y)
        }),
    }
}

fn compare_into<T: PartialOrd + Copy>(
    op: CompareOp,
    a: Opnd<'_, T>,
    b: Opnd<'_, T>,
    out: &mut [u8],
) {
    match op {
        CompareOp::Equal => zip2!(a, b, out, |x, y| u8::from(x == y)),
        CompareOp::NotEqual => zip2!(a, b, out, |x, y| u8::from(x != y)),
        CompareOp::Greater => zip2!(a, b, out, |x, y| u8::from(x > y)),
        CompareOp::GreaterEqual => zip2!(a, b, out, |x, y| u8::from(x >= y)),
        CompareOp::Less => zip2!(a, b, out, |x, y| u8::from(x < y)),
        CompareOp::LessEqual => zip2!(a, b, out, |x, y| u8::from(x <= y)),
    }
}

fn int_operand(v: &[i32], at: usize, len: usize, run: bool) -> Opnd<'_, i32> {
    if run {
        Opnd::Run(&v[at..at + len])
    } else {
        Opnd::One(v[at])
    }
}

fn int_pow(x: i32, y: i32) -> Option<i32> {
    if y >= 0 {
        return Some(x.wrapping_pow(y as u32));
    }
    match x {
        0 => None,
        1 => Some(1),
        -1 => Some(if y % 2 == 0 { 1 } else { -1 }),
        _ => Some(0),
    }
}

fn int_arith(
    op: Arith,
    a: Opnd<'_, i32>,
    b: Opnd<'_, i32>,
    out: &mut [i32],
) -> Result<(), KernelError> {
    let zero_divisor = || KernelError::Data("integer division by zero".into());
    match op {
        Arith::Add => zip2!(a, b, out, |x, y| x.wrapping_add(y)),
        Arith::Sub => zip2!(a, b, out, |x, y| x.wrapping_sub(y)),
        Arith::Mul => zip2!(a, b, out, |x, y| x.wrapping_mul(y)),
        Arith::Max => zip2!(a, b, out, |x, y| x.max(y)),
        Arith::Min => zip2!(a, b, out, |x, y| x.min(y)),
        Arith::Div => {
            let has_zero = match b {
                Opnd::Run(b) => b.contains(&0),
                Opnd::One(y) => y == 0,
            };
            if has_zero {
                return Err(zero_divisor());
            }
            zip2!(a, b, out, |x, y| x.wrapping_div(y));
        }
        Arith::Pow => {
            let mut failed = false;
            zip2!(a, b, out, |x, y| int_pow(x, y).unwrap_or_else(|| {
                failed = true;
                0
            }));
            if failed {
                return Err(KernelError::Data(
                    "integer 0 raised to a negative power".into(),
                ));
            }
        }
    }
    Ok(())
}

impl Binary {
    fn segments<E>(
        &self,
        start: usize,
        len: usize,
        f: impl FnMut(Segment<2>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.plan.for_each_segment(start, start + len, BLOCK, f)
    }

    fn run_float(&self, bufs: &mut Buffers, parallel: bool) -> Result<(), KernelError> {
        let (rx, ry) = (self.plan.contiguous(0), self.plan.contiguous(1));
        match self.op {
            Op::Arith(op) => bufs.with_float_output(self.out, |bufs, out| {
                let (x, y) = (bufs.float(self.x)?, bufs.float(self.y)?);
                match out {
                    FloatViewMut::F32(out) => for_chunks(out, parallel, |start, chunk| {
                        let (mut bx, mut by) = ([0f32; BLOCK], [0f32; BLOCK]);
                        self.segments(start, chunk.len(), |s| {
                            let a = float_operand(x, s.at[0], s.len, rx, &mut bx);
                            let b = float_operand(y, s.at[1], s.len, ry, &mut by);
                            float_arith(op, a, b, &mut chunk[s.out - start..][..s.len]);
                            Ok(())
                        })
                    }),
                    FloatViewMut::F16(out) => for_chunks(out, parallel, |start, chunk| {
                        let (mut bx, mut by, mut bo) =
                            ([0f32; BLOCK], [0f32; BLOCK], [0f32; BLOCK]);
                        self.segments(start, chunk.len(), |s| {
                            let a = float_operand(x, s.at[0], s.len, rx, &mut bx);
                            let b = float_operand(y, s.at[1], s.len, ry, &mut by);
                            let o = &mut bo[..s.len];
                            float_arith(op, a, b, o);
                            chunk[s.out - start..][..s.len].convert_from_f32_slice(o);
                            Ok(())
                        })
                    }),
                }
            }),
            Op::Compare(op) => bufs.with_typed_output::<u8, _>(self.out, |bufs, out| {
                let (x, y) = (bufs.float(self.x)?, bufs.float(self.y)?);
                for_chunks(out, parallel, |start, chunk| {
                    let (mut bx, mut by) = ([0f32; BLOCK], [0f32; BLOCK]);
                    self.segments(start, chunk.len(), |s| {
                        let a = float_operand(x, s.at[0], s.len, rx, &mut bx);
                        let b = float_operand(y, s.at[1], s.len, ry, &mut by);
                        compare_into(op, a, b, &mut chunk[s.out - start..][..s.len]);
                        Ok(())
                    })
                })
            }),
        }
    }

    fn run_int(&self, bufs: &mut Buffers, parallel: bool) -> Result<(), KernelError> {
        let (rx, ry) = (self.plan.contiguous(0), self.plan.contiguous(1));
        match self.op {
            Op::Arith(op) => bufs.with_typed_output::<i32, _>(self.out, |bufs, out| {
                let (x, y) = (bufs.get::<i32>(self.x)?, bufs.get::<i32>(self.y)?);
                for_chunks(out, parallel, |start, chunk| {
                    self.segments(start, chunk.len(), |s| {
                        let a = int_operand(x, s.at[0], s.len, rx);
                        let b = int_operand(y, s.at[1], s.len, ry);
                        int_arith(op, a, b, &mut chunk[s.out - start..][..s.len])
                    })
                })
            }),
            Op::Compare(op) => bufs.with_typed_output::<u8, _>(self.out, |bufs, out| {
                let (x, y) = (bufs.get::<i32>(self.x)?, bufs.get::<i32>(self.y)?);
                for_chunks(out, parallel, |start, chunk| {
                    self.segments(start, chunk.len(), |s| {
                        let a = int_operand(x, s.at[0], s.len, rx);
                        let b = int_operand(y, s.at[1], s.len, ry);
                        compare_into(op, a, b, &mut chunk[s.out - start..][..s.len]);
                        Ok(())
                    })
                })
            }),
        }
    }
}

impl Kernel for Binary {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        if self.float {
            self.run_float(bufs, cx.parallel)
        } else {
            self.run_int(bufs, cx.parallel)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_pow_edge_cases() {
        assert_eq!(int_pow(3, 4), Some(81));
        assert_eq!(int_pow(2, 31), Some(i32::MIN));
        assert_eq!(int_pow(-1, -3), Some(-1));
        assert_eq!(int_pow(-1, -2), Some(1));
        assert_eq!(int_pow(1, -5), Some(1));
        assert_eq!(int_pow(7, -1), Some(0));
        assert_eq!(int_pow(0, -1), None);
        assert_eq!(int_pow(0, 0), Some(1));
    }
}
