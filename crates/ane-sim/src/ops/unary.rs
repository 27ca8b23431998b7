//! Elementwise unary ops: the float activations and math functions (`relu`, `sigmoid`, `silu`,
//! `tanh`, `gelu` in its three modes, `exp`, `log`, `sqrt`, `rsqrt`, `inverse`, `abs`, `square`,
//! `clip`) through `ane_cpu`'s `UnaryOp` (computed in f32, or f64 for `gelu`'s erf, rounded once),
//! `abs`/`square` on int32 (wrapping), `logical_not`, and `identity` (a free alias).

use crate::buffers::{Buffers, FloatView, FloatViewMut, Lid};
use crate::error::{KernelError, SimError};
use crate::exec::float_io::map_f16_blocks;
use crate::exec::parallel::for_chunks;
use crate::kernel::{Kernel, RunCx, ScratchNeed};
use crate::prepare::op_cx::OpCx;
use crate::storage::Kind;
use ane_cpu::elementwise::{unary_f32_in_place, GeluMode, UnaryOp};

/// The unary op types handled here.
pub(crate) const OPS: &[&str] = &[
    "relu",
    "sigmoid",
    "silu",
    "tanh",
    "gelu",
    "exp",
    "log",
    "sqrt",
    "rsqrt",
    "inverse",
    "abs",
    "square",
    "clip",
    "identity",
    "logical_not",
];

pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let x = cx.input("x")?;
    if cx.op_type == "identity" {
        return cx.alias_output(0, &x);
    }
    let out = cx.output(0)?;
    match (cx.op_type.as_str(), x.kind) {
        ("logical_not", _) => cx.push(
            LogicalNot {
                x: x.lid,
                out: out.lid,
            },
            ScratchNeed::default(),
        ),
        (op @ ("abs" | "square"), Kind::I32) => cx.push(
            IntUnary {
                square: op == "square",
                x: x.lid,
                out: out.lid,
            },
            ScratchNeed::default(),
        ),
        _ => {
            let op = float_op(cx)?;
            cx.push(
                FloatUnary {
                    op,
                    x: x.lid,
                    out: out.lid,
                },
                ScratchNeed::default(),
            )
        }
    }
    Ok(())
}

fn float_op(cx: &OpCx<'_>) -> Result<UnaryOp, SimError> {
    Ok(match cx.op_type.as_str() {
        "relu" => UnaryOp::Relu,
        "sigmoid" => UnaryOp::Sigmoid,
        "silu" => UnaryOp::Silu,
        "tanh" => UnaryOp::Tanh,
        "exp" => UnaryOp::Exp,
        "sqrt" => UnaryOp::Sqrt,
        "abs" => UnaryOp::Abs,
        "square" => UnaryOp::Square,
        "gelu" => UnaryOp::Gelu(match cx.string("mode")?.as_str() {
            "EXACT" => GeluMode::Exact,
            "TANH_APPROXIMATION" => GeluMode::TanhApproximation,
            "SIGMOID_APPROXIMATION" => GeluMode::SigmoidApproximation,
            other => return Err(cx.unsupported(format!("unknown gelu mode \"{other}\""))),
        }),
        "log" => UnaryOp::Log {
            epsilon: cx.float("epsilon")?,
        },
        "rsqrt" => UnaryOp::Rsqrt {
            epsilon: cx.float("epsilon")?,
        },
        "inverse" => UnaryOp::Inverse {
            epsilon: cx.float("epsilon")?,
        },
        "clip" => UnaryOp::Clip {
            min: cx.float("alpha")?,
            max: cx.float("beta")?,
        },
        other => return Err(cx.internal(format!("`{other}` is not a unary op"))),
    })
}

#[derive(Debug)]
struct FloatUnary {
    op: UnaryOp,
    x: Lid,
    out: Lid,
}

impl Kernel for FloatUnary {
    fn run(&self, bufs: &mut Buffers, cx: &mut RunCx<'_>) -> Result<(), KernelError> {
        let op = self.op;
        bufs.with_float_output(self.out, |bufs, out| match (bufs.float(self.x)?, out) {
            (FloatView::F32(x), FloatViewMut::F32(out)) => {
                for_chunks(out, cx.parallel, |start, chunk| {
                    chunk.copy_from_slice(&x[start..start + chunk.len()]);
                    unary_f32_in_place(op, chunk);
                    Ok(())
                })
            }
            (FloatView::F16(x), FloatViewMut::F16(out)) => {
                for_chunks(out, cx.parallel, |start, chunk| {
                    map_f16_blocks(&x[start..start + chunk.len()], chunk, |block| {
                        unary_f32_in_place(op, block)
                    });
                    Ok(())
                })
            }
            _ => Err(KernelError::Internal(
                "unary input and output storage differ".into(),
            )),
        })
    }
}

#[derive(Debug)]
struct IntUnary {
    square: bool,
    x: Lid,
    out: Lid,
}

impl Kernel for IntUnary {
    fn run(&self, bufs: &mut Buffers, _: &mut RunCx<'_>) -> Result<(), KernelError> {
        bufs.with_typed_output::<i32, _>(self.out, |bufs, out| {
            let x = bufs.get::<i32>(self.x)?;
            for (o, &v) in out.iter_mut().zip(x) {
                // Two's-complement wrapping, like 32-bit hardware: abs(i32::MIN) = i32::MIN.
                *o = if self.square {
                    v.wrapping_mul(v)
                } else {
                    v.wrapping_abs()
                };
            }
            Ok(())
        })
    }
}

#[derive(Debug)]
struct LogicalNot {
    x: Lid,
    out: Lid,
}

impl Kernel for LogicalNot {
    fn run(&self, bufs: &mut Buffers, _: &mut RunCx<'_>) -> Result<(), KernelError> {
        bufs.with_typed_output::<u8, _>(self.out, |bufs, out| {
            let x = bufs.get::<u8>(self.x)?;
            for (o, &v) in out.iter_mut().zip(x) {
                *o = u8::from(v == 0);
            }
            Ok(())
        })
    }
}
