//! Literal values: inline tensors and scalars, references into weight blob files, dictionaries.

use crate::dtype::DType;
use crate::types::{TensorType, ValueType};
use half::f16;

/// The elements of an inline tensor literal, row-major.
///
/// Equality compares floats by bit pattern (so `-0.0 != 0.0` and subnormals are exact), except
/// that any two NaNs are equal: MIL text has a single spelling for NaN.
#[derive(Debug, Clone)]
pub enum TensorData {
    Fp16(Vec<f16>),
    Fp32(Vec<f32>),
    /// int32, int16, int8, uint8 and uint16 elements (the tensor type says which).
    Int(Vec<i64>),
    /// uint64 elements (BLOBFILE offsets).
    UInt64(Vec<u64>),
    Bool(Vec<bool>),
    Str(Vec<String>),
}

impl TensorData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::Fp16(v) => v.len(),
            TensorData::Fp32(v) => v.len(),
            TensorData::Int(v) => v.len(),
            TensorData::UInt64(v) => v.len(),
            TensorData::Bool(v) => v.len(),
            TensorData::Str(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this storage variant can hold elements of `dtype`.
    pub fn matches_dtype(&self, dtype: DType) -> bool {
        match self {
            TensorData::Fp16(_) => dtype == DType::Fp16,
            TensorData::Fp32(_) => dtype == DType::Fp32,
            TensorData::Int(_) => dtype.is_int() && dtype != DType::Uint64,
            TensorData::UInt64(_) => dtype == DType::Uint64,
            TensorData::Bool(_) => dtype == DType::Bool,
            TensorData::Str(_) => dtype == DType::String,
        }
    }
}

fn same_f16(a: &f16, b: &f16) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn same_f32(a: &f32, b: &f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

impl PartialEq for TensorData {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (TensorData::Fp16(a), TensorData::Fp16(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_f16(x, y))
            }
            (TensorData::Fp32(a), TensorData::Fp32(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_f32(x, y))
            }
            (TensorData::Int(a), TensorData::Int(b)) => a == b,
            (TensorData::UInt64(a), TensorData::UInt64(b)) => a == b,
            (TensorData::Bool(a), TensorData::Bool(b)) => a == b,
            (TensorData::Str(a), TensorData::Str(b)) => a == b,
            _ => false,
        }
    }
}

/// An inline tensor or scalar literal: its type and its elements.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorValue {
    pub ty: TensorType,
    pub data: TensorData,
}

impl TensorValue {
    /// A scalar `fp16` literal.
    pub fn fp16(v: f16) -> Self {
        Self::scalar(DType::Fp16, TensorData::Fp16(vec![v]))
    }
    /// A scalar `fp32` literal.
    pub fn fp32(v: f32) -> Self {
        Self::scalar(DType::Fp32, TensorData::Fp32(vec![v]))
    }
    /// A scalar `int32` literal.
    pub fn int32(v: i32) -> Self {
        Self::scalar(DType::Int32, TensorData::Int(vec![v as i64]))
    }
    /// A scalar `uint64` literal.
    pub fn uint64(v: u64) -> Self {
        Self::scalar(DType::Uint64, TensorData::UInt64(vec![v]))
    }
    /// A scalar `bool` literal.
    pub fn bool(v: bool) -> Self {
        Self::scalar(DType::Bool, TensorData::Bool(vec![v]))
    }
    /// A scalar `string` literal.
    pub fn string(v: impl Into<String>) -> Self {
        Self::scalar(DType::String, TensorData::Str(vec![v.into()]))
    }
    /// A rank-1 `int32` tensor literal, e.g. strides or a permutation.
    pub fn int32_vec(v: &[i32]) -> Self {
        TensorValue {
            ty: TensorType::new(DType::Int32, [v.len()]),
            data: TensorData::Int(v.iter().map(|&x| x as i64).collect()),
        }
    }
    /// A rank-1 `bool` tensor literal (slice masks).
    pub fn bool_vec(v: &[bool]) -> Self {
        TensorValue {
            ty: TensorType::new(DType::Bool, [v.len()]),
            data: TensorData::Bool(v.to_vec()),
        }
    }

    fn scalar(dtype: DType, data: TensorData) -> Self {
        TensorValue {
            ty: TensorType::scalar(dtype),
            data,
        }
    }

    /// The single string of a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.data {
            TensorData::Str(v) if self.ty.is_scalar() => v.first().map(String::as_str),
            _ => None,
        }
    }

    /// The integer elements (int types), widened to i64.
    pub fn as_ints(&self) -> Option<Vec<i64>> {
        match &self.data {
            TensorData::Int(v) => Some(v.clone()),
            TensorData::UInt64(v) => v.iter().map(|&x| i64::try_from(x).ok()).collect(),
            _ => None,
        }
    }

    /// The single element of an integer scalar.
    pub fn as_int(&self) -> Option<i64> {
        if !self.ty.is_scalar() {
            return None;
        }
        self.as_ints().and_then(|v| v.first().copied())
    }

    /// The elements of a bool tensor or scalar.
    pub fn as_bools(&self) -> Option<&[bool]> {
        match &self.data {
            TensorData::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// The single element of a bool scalar.
    pub fn as_bool(&self) -> Option<bool> {
        if !self.ty.is_scalar() {
            return None;
        }
        self.as_bools().and_then(|v| v.first().copied())
    }

    /// Float elements (fp16 or fp32) widened to f32.
    pub fn as_f32s(&self) -> Option<Vec<f32>> {
        match &self.data {
            TensorData::Fp16(v) => Some(v.iter().map(|x| x.to_f32()).collect()),
            TensorData::Fp32(v) => Some(v.clone()),
            _ => None,
        }
    }

    /// The single element of a float scalar, widened to f32.
    pub fn as_f32(&self) -> Option<f32> {
        if !self.ty.is_scalar() {
            return None;
        }
        self.as_f32s().and_then(|v| v.first().copied())
    }
}

/// A reference to a tensor stored in a MIL weight blob file:
/// `tensor<fp16, [64, 64, 1, 1]>(BLOBFILE(path = string("@model_path/weights/w.bin"), offset = uint64(64)))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub ty: TensorType,
    /// The path as written, usually starting with `@model_path/`.
    pub path: String,
    /// Offset of the blob's 64-byte metadata record (not of its payload).
    pub offset: u64,
}

/// Any literal value that can bind an argument or an attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An inline tensor or scalar.
    Tensor(TensorValue),
    /// A tensor stored in a weight blob file.
    Blob(BlobRef),
    /// A dictionary literal, e.g. `dict<string, string>({{"k", "v"}})`.
    Dict {
        key_type: ValueType,
        value_type: ValueType,
        entries: Vec<(TensorValue, TensorValue)>,
    },
}

impl Value {
    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Tensor(t) => ValueType::Tensor(t.ty.clone()),
            Value::Blob(b) => ValueType::Tensor(b.ty.clone()),
            Value::Dict {
                key_type,
                value_type,
                ..
            } => ValueType::Dict(Box::new(key_type.clone()), Box::new(value_type.clone())),
        }
    }

    /// The inline tensor, if this is one.
    pub fn as_tensor(&self) -> Option<&TensorValue> {
        match self {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }
}

impl From<TensorValue> for Value {
    fn from(t: TensorValue) -> Self {
        Value::Tensor(t)
    }
}
