//! Op compilers, one file per family: each turns one op (with its arguments resolved by
//! `prepare`) into a kernel over planned buffers. [`compile`] dispatches on the op type — the
//! only place op names are matched, once, when a program is prepared.

mod attention;
mod binary;
mod cast;
mod combine;
mod conv;
mod conv_transpose;
mod copy;
mod cumsum;
mod gather;
mod layout;
mod matmul;
mod norm;
mod pool;
mod quant;
mod reduce;
mod scatter;
mod select;
mod softmax;
mod unary;
mod window;

use crate::error::SimError;
use crate::prepare::op_cx::OpCx;

type Compiler = fn(&mut OpCx<'_>) -> Result<(), SimError>;

/// Every op family: the op types it handles and its compiler.
fn families() -> [(&'static [&'static str], Compiler); 18] {
    [
        (unary::OPS, unary::compile),
        (binary::OPS, binary::compile),
        (&["select"], select::compile),
        (&["cast"], cast::compile),
        (layout::OPS, layout::compile),
        (combine::OPS, combine::compile),
        (reduce::OPS, reduce::compile),
        (&["softmax"], softmax::compile),
        (norm::OPS, norm::compile),
        (matmul::OPS, matmul::compile),
        (&["conv"], conv::compile),
        (&["conv_transpose"], conv_transpose::compile),
        (pool::OPS, pool::compile),
        (gather::OPS, gather::compile),
        (&["scatter_along_axis"], scatter::compile),
        (&["cumsum"], cumsum::compile),
        (&["scaled_dot_product_attention"], attention::compile),
        (quant::OPS, quant::compile),
    ]
}

/// Compiles the op of `cx` into a kernel (or an alias).
pub(crate) fn compile(cx: &mut OpCx<'_>) -> Result<(), SimError> {
    let op = cx.op_type.clone();
    match families()
        .iter()
        .find(|(ops, _)| ops.contains(&op.as_str()))
    {
        Some((_, compile)) => compile(cx),
        None => Err(cx.unsupported(format!("the simulator does not implement `{op}`"))),
    }
}

/// Every op type the simulator executes (`const` and `constexpr_affine_dequantize` are
/// evaluated while preparing), sorted.
pub fn supported_ops() -> Vec<&'static str> {
    let mut ops: Vec<&'static str> = ["const", "constexpr_affine_dequantize"]
        .into_iter()
        .chain(families().iter().flat_map(|(ops, _)| ops.iter().copied()))
        .collect();
    ops.sort_unstable();
    ops
}
