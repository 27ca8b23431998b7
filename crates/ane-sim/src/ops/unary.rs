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
use ane_cpu::elementwise::{erf_f64, GeluMode, UnaryOp};

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

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Applies `op` to every value, with the op matched once per block so that each loop is a
/// plain, inlined (and where possible vectorized) kernel. The formulas are `ane_cpu`'s
/// `UnaryOp` semantics: NaN stays NaN through `relu` and `clip`; epsilons are added first.
fn apply_in_place(op: UnaryOp, v: &mut [f32]) {
    let each = |f: &dyn Fn(f32) -> f32, v: &mut [f32]| v.iter_mut().for_each(|x| *x = f(*x));
    match op {
        UnaryOp::Relu => v
            .iter_mut()
            .for_each(|x| *x = if *x < 0.0 { 0.0 } else { *x }),
        UnaryOp::Abs => v.iter_mut().for_each(|x| *x = x.abs()),
        UnaryOp::Square => v.iter_mut().for_each(|x| *x *= *x),
        UnaryOp::Sqrt => v.iter_mut().for_each(|x| *x = x.sqrt()),
        UnaryOp::Exp => v.iter_mut().for_each(|x| *x = x.exp()),
        UnaryOp::Tanh => v.iter_mut().for_each(|x| *x = x.tanh()),
        UnaryOp::Sigmoid => v.iter_mut().for_each(|x| *x = sigmoid(*x)),
        UnaryOp::Silu => v.iter_mut().for_each(|x| *x *= sigmoid(*x)),
        UnaryOp::Log { epsilon } => v.iter_mut().for_each(|x| *x = (*x + epsilon).ln()),
        UnaryOp::Rsqrt { epsilon } => v.iter_mut().for_each(|x| *x = 1.0 / (*x + epsilon).sqrt()),
        UnaryOp::Inverse { epsilon } => v.iter_mut().for_each(|x| *x = 1.0 / (*x + epsilon)),
        UnaryOp::Clip { min, max } => v.iter_mut().for_each(|x| {
            if !x.is_nan() {
                *x = x.max(min).min(max);
            }
        }),
        UnaryOp::Gelu(GeluMode::Exact) => v.iter_mut().for_each(|x| {
            let xd = f64::from(*x);
            *x = (0.5 * xd * (1.0 + erf_f64(xd * std::f64::consts::FRAC_1_SQRT_2))) as f32;
        }),
        UnaryOp::Gelu(GeluMode::TanhApproximation) => v.iter_mut().for_each(|x| {
            const SQRT_2_OVER_PI: f32 = 0.797_884_6;
            let t = (SQRT_2_OVER_PI * (*x + 0.044715 * *x * *x * *x)).tanh();
            *x = 0.5 * *x * (1.0 + t);
        }),
        UnaryOp::Gelu(GeluMode::SigmoidApproximation) => {
            v.iter_mut().for_each(|x| *x *= sigmoid(1.702 * *x))
        }
        other => each(&|x| other.apply(x), v),
    }
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
                    apply_in_place(op, chunk);
                    Ok(())
                })
            }
            (FloatView::F16(x), FloatViewMut::F16(out)) => {
                for_chunks(out, cx.parallel, |start, chunk| {
                    map_f16_blocks(&x[start..start + chunk.len()], chunk, |block| {
                        apply_in_place(op, block)
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
