//! `ane-cpu`: CPU compute primitives on slices, used by the simulator and the host side of the
//! executor. Hot loops work on whole slices (conversions, GEMM through `gemm`), never element by
//! element through `f16::from_f32`.
