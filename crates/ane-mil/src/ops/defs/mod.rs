//! The op tables, one file per op family: each family lists its signatures (every opset
//! revision) and implements their shape rules.

mod activation;
mod attention;
mod binary;
mod combine;
mod conv;
pub mod domains;
mod gather;
mod layout;
mod linear;
mod misc;
mod norm;
mod pool;
mod quant;
mod reduce;
mod unary;
mod window;

pub use activation::GELU_MODES;
pub use binary::{ARITHMETIC, COMPARISONS};
pub use combine::{MAX_SPLITS, PAD_MODES};
pub use gather::SCATTER_MODES;
pub use layout::slice_len;
pub use unary::cast_targets;

use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::signature::OpSignature;
use crate::types::TensorType;

/// The shape rule of every op whose output has `x`'s type.
pub(crate) fn same_as_x(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    Ok(vec![ctx.tensor("x")?.clone()])
}

/// Every signature revision of every op.
pub(crate) fn all() -> Vec<OpSignature> {
    [
        misc::signatures(),
        conv::signatures(),
        linear::signatures(),
        binary::signatures(),
        activation::signatures(),
        unary::signatures(),
        norm::signatures(),
        reduce::signatures(),
        layout::signatures(),
        combine::signatures(),
        pool::signatures(),
        gather::signatures(),
        attention::signatures(),
        quant::signatures(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
