//! Element types of graph values: `f32` for float data (activations, parameters, gradients) and
//! `i32` for indices (token ids, class labels, the dropout seed).

use std::fmt;

/// The element type of a graph value.
///
/// The IR is deliberately narrower than MIL: the device computes in fp16, but the graph describes the
/// model at the precision the user thinks in; lowering decides where casts go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit float values.
    F32,
    /// 32-bit signed integers (ids, labels, seeds).
    I32,
}

impl DType {
    /// The short name used when printing graphs (`f32`, `i32`).
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::I32 => "i32",
        }
    }

    /// The MIL element type of the same width (`fp32`, `int32`).
    pub fn to_mil(self) -> ane_mil::DType {
        match self {
            DType::F32 => ane_mil::DType::Fp32,
            DType::I32 => ane_mil::DType::Int32,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
