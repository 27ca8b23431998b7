//! Broadcasting binary arithmetic and scalar arithmetic: MIL `add`/`sub`/`mul`/`real_div` (numpy
//! broadcasting, as the IR) and scalar constants in the kernel's float dtype.

use super::NodeArgs;
use crate::lower::context::LowerCx;
use crate::lower::error::LowerError;
use crate::op::{BinaryOp, Op};
use ane_mil::builder::Var;

pub(super) fn lower(cx: &mut LowerCx, n: &NodeArgs) -> Result<Var, LowerError> {
    let y = match n.op {
        Op::Binary(kind) => {
            let (a, b) = (n.arg(0), n.arg(1));
            let r = match kind {
                BinaryOp::Add => cx.f.add(a, b),
                BinaryOp::Sub => cx.f.sub(a, b),
                BinaryOp::Mul => cx.f.mul(a, b),
                BinaryOp::Div => cx.f.real_div(a, b),
            };
            cx.ok(r)?
        }
        Op::ScalarMul(factor) => {
            let c = cx.scalar(*factor as f64)?;
            let r = cx.f.mul(n.arg(0), &c);
            cx.ok(r)?
        }
        Op::ScalarAdd(addend) => {
            let c = cx.scalar(*addend as f64)?;
            let r = cx.f.add(n.arg(0), &c);
            cx.ok(r)?
        }
        _ => unreachable!("elementwise::lower called for {}", n.op.name()),
    };
    cx.fit(&y, n.out)
}
