//! Elementwise operations: numpy-broadcasting binary arithmetic and comparisons
//! ([`binary`]), unary math and activations ([`unary`]), and the error function behind exact
//! GELU ([`erf`]).

pub mod binary;
pub mod erf;
pub mod unary;

pub use binary::{
    binary_f32, binary_i32, broadcast_map, compare_f32, compare_i32, BinaryOp, CompareOp,
};
pub use erf::{erf_f32, erf_f64};
pub use unary::{unary_f32, unary_f32_in_place, GeluMode, UnaryOp};
