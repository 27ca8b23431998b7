//! Type and shape inference of every op family against hand-computed shapes.

#[path = "../common/mod.rs"]
mod common;

mod conv_pool;
mod elementwise;
mod indexing;
mod layout;
mod linear_norm_reduce;
mod signatures;
