//! `ane-cpu`: CPU compute primitives on slices, used by the simulator (which stores fp16 tensors,
//! computes every op in f32 and rounds each output to fp16) and by the host side of the executor.
//!
//! Data is passed as row-major slices with `&[usize]` shapes, wrapped in checked views
//! ([`TensorRef`]) so that a length/shape mismatch is an error value, not a panic. Results come
//! back as owned [`Tensor`]s. Compute is f32; GEMM and convolution also take and return f16.
//! Hot loops work on whole slices (slice conversions, GEMM through the `gemm` crate), never
//! element by element through `f16::from_f32`.
//!
//! Modules by concern:
//! - [`convert`]: f32 ↔ f16 slice conversion, rounding f32 data to fp16 precision;
//! - [`gemm`]: batched, broadcasting matrix products in f32 and f16;
//! - [`conv`]: N-D convolution and transposed convolution (im2col / col2im + GEMM);
//! - [`pool`]: max and average pooling;
//! - [`reduce`]: reductions over axes, argmax, softmax, log-softmax;
//! - [`norm`]: layer, batch and instance normalization;
//! - [`elementwise`]: broadcasting binary ops, comparisons, unary math (incl. an accurate `erf`);
//! - [`layout`]: permutes, cumulative sums, broadcast index iteration;
//! - [`shape`], [`tensor`]: shape arithmetic and the slice views every op takes.
//!
//! Determinism: parallel work is split into chunks whose boundaries depend only on the data
//! size, never on the thread count, and every output element is computed by one task in a fixed
//! order, so results are bit-identical however many threads run.

pub mod conv;
pub mod convert;
pub mod elementwise;
pub mod error;
pub mod gemm;
pub mod layout;
pub mod norm;
pub mod pool;
pub mod reduce;
pub mod shape;
pub mod tensor;
mod threads;

#[cfg(test)]
mod tests_support;

pub use error::CpuError;
pub use tensor::{Tensor, TensorRef};
