//! Op compilers, one file per family: each turns one op (with its arguments resolved by
//! `prepare`) into a kernel over planned buffers. [`compile`] dispatches on the op type — the
//! only place op names are matched, once, when a program is prepared.

mod binary;
mod unary;

use crate::error::SimError;
use crate::prepare::op_cx::OpCx;

/// Compiles the op of `cx` into a kernel (or an alias).
pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let op = cx.op_type.clone();
    let op = op.as_str();
    if unary::OPS.contains(&op) {
        unary::compile(cx)
    } else if binary::OPS.contains(&op) {
        binary::compile(cx)
    } else {
        Err(cx.unsupported(format!("the simulator does not implement `{op}`")))
    }
}

/// Every op type the simulator executes (`const` and `constexpr_affine_dequantize` are
/// evaluated while preparing).
pub fn supported_ops() -> Vec<&'static str> {
    let mut ops: Vec<&'static str> = ["const", "constexpr_affine_dequantize"]
        .into_iter()
        .chain(unary::OPS.iter().copied())
        .chain(binary::OPS.iter().copied())
        .collect();
    ops.sort_unstable();
    ops
}
