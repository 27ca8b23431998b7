//! The builder API: methods on [`Graph`](crate::Graph) that append ops with shape inference and
//! return the new value's id. `nn` layers call these; autodiff uses them to emit backward ops.
//!
//! Every method returns `Result<ValueId, GraphError>`; an error leaves the graph unchanged.
//! Axis arguments are `isize` and may be negative (`-1` = last axis).

mod attention;
mod conv;
mod elementwise;
mod generated;
mod inputs;
mod linalg;
mod loss;
mod movement;
mod norm;
mod sequence;

pub use generated::DROPOUT_RNG_INPUT;
pub use sequence::ROPE_BASE;
