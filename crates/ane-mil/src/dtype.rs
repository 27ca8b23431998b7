//! Element types of MIL values (`fp16`, `int32`, …) and their text names.

use std::fmt;

/// An element type as spelled in MIL text.
///
/// Covers what ane-trainer reads and writes: the float types the ANE computes in, the integer types
/// used for shapes, indices and quantized data, `bool` and `string`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    Fp16,
    Fp32,
    Int32,
    Int16,
    Int8,
    Uint8,
    Uint16,
    Uint64,
    Bool,
    String,
}

impl DType {
    /// Every dtype, in a fixed order (useful for property tests and tables).
    pub const ALL: [DType; 10] = [
        DType::Fp16,
        DType::Fp32,
        DType::Int32,
        DType::Int16,
        DType::Int8,
        DType::Uint8,
        DType::Uint16,
        DType::Uint64,
        DType::Bool,
        DType::String,
    ];

    /// The name used in MIL text (`fp16`, `int32`, …).
    pub fn name(self) -> &'static str {
        match self {
            DType::Fp16 => "fp16",
            DType::Fp32 => "fp32",
            DType::Int32 => "int32",
            DType::Int16 => "int16",
            DType::Int8 => "int8",
            DType::Uint8 => "uint8",
            DType::Uint16 => "uint16",
            DType::Uint64 => "uint64",
            DType::Bool => "bool",
            DType::String => "string",
        }
    }

    /// Parses a MIL text dtype name; `None` for names ane-trainer does not support.
    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == name)
    }

    /// True for `fp16` and `fp32`.
    pub fn is_float(self) -> bool {
        matches!(self, DType::Fp16 | DType::Fp32)
    }

    /// True for the integer types (signed and unsigned).
    pub fn is_int(self) -> bool {
        matches!(
            self,
            DType::Int32
                | DType::Int16
                | DType::Int8
                | DType::Uint8
                | DType::Uint16
                | DType::Uint64
        )
    }

    /// Bytes per element in a dense buffer or weight blob; `None` for `string`.
    pub fn size_in_bytes(self) -> Option<usize> {
        match self {
            DType::Fp16 | DType::Int16 | DType::Uint16 => Some(2),
            DType::Fp32 | DType::Int32 => Some(4),
            DType::Int8 | DType::Uint8 | DType::Bool => Some(1),
            DType::Uint64 => Some(8),
            DType::String => None,
        }
    }

    /// The inclusive value range of an integer dtype, as i128 so every type fits.
    pub fn int_range(self) -> Option<(i128, i128)> {
        match self {
            DType::Int32 => Some((i32::MIN as i128, i32::MAX as i128)),
            DType::Int16 => Some((i16::MIN as i128, i16::MAX as i128)),
            DType::Int8 => Some((i8::MIN as i128, i8::MAX as i128)),
            DType::Uint8 => Some((0, u8::MAX as i128)),
            DType::Uint16 => Some((0, u16::MAX as i128)),
            DType::Uint64 => Some((0, u64::MAX as i128)),
            _ => None,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
