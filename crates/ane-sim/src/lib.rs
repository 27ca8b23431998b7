//! `ane-sim`: executes a parsed, validated MIL program the way the ANE would (fp16 storage,
//! f32 compute per op). It is the executable specification of every op ane-trainer emits: all
//! the ops of `ane_mil::ops` ([`supported_ops`]), with the semantics of mil-ops.md §1.
//!
//! ```
//! use ane_mil::{parse, WeightFiles};
//! use ane_sim::{SimOptions, Simulator};
//!
//! let program = parse(r#"program(1.3)
//! {
//!     func main<ios18>(tensor<fp16, [4]> x) {
//!         tensor<fp16, [4]> y = sigmoid(x = x)[name = string("y")];
//!     } -> (y);
//! }
//! "#)?;
//! let mut prepared = Simulator::prepare(&program, &WeightFiles::new(), SimOptions::default())?;
//! prepared.set_input_f32("x", &[0.0, 1.0, -1.0, 100.0])?;
//! prepared.run()?;
//! let y = prepared.output_f32("y")?;
//! assert_eq!(y[0], 0.5);
//! assert_eq!(y[3], 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Preparing and running
//!
//! [`Simulator::prepare`] validates the program (`ane_mil::validate`) and its `BLOBFILE`
//! references (`ane_mil::blob::check_refs`), picks the function (`main` by default), fills the
//! optional arguments a parsed program left out from the op signatures' defaults, decodes every
//! constant once (inline literals, weight blobs, `constexpr_affine_dequantize`), infers every
//! shape, and compiles each op into a kernel whose shapes, strides and parameters are resolved.
//! Tensors map to buffers planned by liveness (intermediates share storage; reshapes are free
//! aliases). [`PreparedProgram::run`] then only computes: no parsing, no string matching and,
//! once the buffers exist (see *Memory* below), no allocation (the one exception is inside the
//! `gemm` crate, which allocates a packing buffer per matrix product). Inputs and outputs are the
//! raw little-endian bytes of their declared dtype ([`PreparedProgram::write_input`],
//! [`PreparedProgram::read_output`]), with typed
//! conveniences for tests and tools. Anything the simulator cannot run — unknown dims, a
//! run-time value that decides a shape (`reshape`'s `shape`, `tile`'s `reps`, `pad`'s `pad`,
//! `one_hot`'s size), `string`/`uint64` tensors — is a [`SimError::Unsupported`] when preparing;
//! bad data when running (an index out of range, an integer division by zero) is a
//! [`SimError::Run`] naming the op. Nothing panics on user input.
//!
//! # Memory
//!
//! Shapes come from programs, so sizes are computed with checked arithmetic and every buffer is
//! reserved fallibly. `prepare` refuses a declared tensor larger than the available memory
//! ([`SimOptions::memory_limit`]) without allocating it; the buffers themselves are allocated on
//! the first input write, output read or run (or by [`PreparedProgram::allocate`]), after the
//! caller has had the chance to check its inputs against [`PreparedProgram::inputs`], and a
//! total above the limit is a [`SimError::TooLarge`] naming the sizes.
//!
//! # Numerics
//!
//! - **Storage.** `fp16` tensors are stored as f16, `fp32` as f32 (exact references by
//!   default; with [`SimOptions::fp32_like_ane`] they are stored and computed as fp16, as the ANE
//!   does, with inputs rounded when written and outputs widened when read). Integer tensors of
//!   every width are held as i32 within their type's range; bools as bytes.
//! - **One rounding per op.** Every op computes in f32 from its (exact) f32 view of the inputs
//!   and rounds its result to the output's storage once: round to nearest even, overflow to
//!   ±inf, subnormals kept, NaN propagated. Wider where it matters: sums (reductions, mean and
//!   variance of the norms, softmax denominators, `cumsum`, `avg_pool`) accumulate in f64; matrix
//!   products (`matmul`, `linear`, `conv`, `conv_transpose`, attention) accumulate in f32 through
//!   the f32 GEMM; `gelu` `EXACT` evaluates erf in f64. Composite ops (`layer_norm`, `softmax`,
//!   `scaled_dot_product_attention`, `gelu`, `silu`, …) round once, at the end. For fp16
//!   operands, `+ − × ÷` and `sqrt` computed in f32 and rounded once are correctly rounded.
//! - **Defaults** of omitted arguments take the dtype of `x` (coremltools): `log`'s 1e-45 and
//!   `rsqrt`'s 1e-12 are exactly 0 in an fp16 program, `inverse`'s 1e-4 is fp16 `0x068E`.
//!
//! # Choices where MIL is silent
//!
//! | case | behaviour |
//! |---|---|
//! | `reduce_argmax` ties / NaN | first index of the maximum; NaN counts as the maximum (numpy) |
//! | `maximum`, `minimum`, `reduce_max/min`, `max_pool`, `relu`, `clip` with NaN | NaN propagates |
//! | `cast` float → int | truncate toward zero, saturate at the type's range, NaN → 0 |
//! | `cast` int → int / any → bool / bool → number | wrap (two's complement) / nonzero (NaN too) is true / 0 or 1 |
//! | int32 `add`, `sub`, `mul`, `pow`, `abs`, `square`, `cumsum`, `reduce_sum` | wrap (two's complement) |
//! | int32 `real_div` | true quotient truncated toward zero; a zero divisor is a run-time error |
//! | int32 `pow` with a negative exponent | truncated real result (1, ±1 for −1, else 0); `0 ** −n` is an error |
//! | int32 `reduce_mean` / `reduce_l2_norm` | truncated toward zero (0 over an empty axis) / f64 result truncated |
//! | float `pow` | C `powf`: `pow(x, 0) = 1`, `pow(1, y) = 1`, negative base with a non-integer exponent → NaN, `pow(±0, y < 0) = +inf` (−inf for −0 and odd y) |
//! | `log`, `sqrt`, `rsqrt`, `inverse` at 0 or below (epsilon 0) | IEEE: `log(0) = −inf`, `log(x < 0) = NaN`, `sqrt(x < 0) = NaN`, `rsqrt(0) = +inf`, `inverse(0) = +inf` (the epsilon is added first, so −0 behaves as +0) |
//! | reductions over an empty axis | 0 for sums and norms, NaN for the float mean, −inf for max, +inf for min; argmax is an error |
//! | `softmax` of a row that is all −inf; attention row masked everywhere | NaN (the formula's −inf − −inf) |
//! | attention with no keys (`S = 0`) | 0 (an empty weighted sum) |
//! | `gather`, `gather_along_axis`, `scatter_along_axis` index out of range | run-time error naming the index, whatever `validate_indices` says; negative indices count from the end before iOS17 and are out of range from iOS17 |
//! | `one_hot` index outside `[0, depth)` | a row of `off_value` (TensorFlow) |
//! | `scatter_along_axis` repeated indices | applied in row-major order of `indices`: the last `update` wins, other modes accumulate |
//! | `quantize` | round half to even, then clamp; NaN → 0 |
//! | `max_pool` / `avg_pool` window with no real element | −inf / 0 |
//! | `conv_transpose` `same` | output `D·s`, `floor(P / 2)` removed before for `P = (D − 1)·s + E − D·s` |
//!
//! # Threads and determinism
//!
//! Work is split in chunks whose bounds depend only on the data size, and every output element
//! is computed by one task in a fixed order, so results are bit-identical for every thread count
//! ([`SimOptions::threads`]); the same inputs always give the same bytes.

#![warn(missing_docs)]

mod buffers;
mod error;
mod exec;
mod io;
mod kernel;
mod memory;
mod ops;
mod options;
mod prepare;
mod prepared;
mod storage;

pub use error::SimError;
pub use io::TensorDesc;
pub use memory::{available_memory, format_bytes};
pub use ops::supported_ops;
pub use options::SimOptions;
pub use prepare::Simulator;
pub use prepared::PreparedProgram;
