//! The dtype sets and domain shorthands the op tables use (coremltools' `type_domains`).

use crate::dtype::DType::{self, *};
use crate::ops::signature::DTypeDomain;

/// `{fp16, fp32}`.
pub const FLOAT: &[DType] = &[Fp16, Fp32];
/// `{fp16, fp32, int32}`.
pub const FLOAT_INT: &[DType] = &[Fp16, Fp32, Int32];
/// `{fp16, fp32, int32, bool}`: the iOS15 data types of layout ops.
pub const FLOAT_INT_BOOL: &[DType] = &[Fp16, Fp32, Int32, Bool];
/// The iOS17 widening of layout ops: adds the small integer types.
pub const WIDE: &[DType] = &[Fp16, Fp32, Int8, Uint8, Int16, Uint16, Int32, Bool];
/// iOS17 index types of `reshape`'s shape and the slice bounds.
pub const SMALL_SIGNED: &[DType] = &[Int8, Int16, Int32];
/// `{int32}`.
pub const INT32: &[DType] = &[Int32];
/// `{bool}`.
pub const BOOL: &[DType] = &[Bool];
/// `{string}`.
pub const STRING: &[DType] = &[DType::String];
/// iOS16 gather index types.
pub const GATHER_INDICES_IOS16: &[DType] = &[Int32, Uint16, Int16];
/// iOS17 gather index types.
pub const GATHER_INDICES_IOS17: &[DType] = &[Int32, Int16, Uint16, Int8, Uint8];
/// iOS17 gather data types.
pub const GATHER_DATA_IOS17: &[DType] = &[Fp16, Fp32, Int32, Int16, Uint16, Int8, Uint8];
/// 8-bit quantized types.
pub const QUANTIZED: &[DType] = &[Uint8, Int8];
/// Every dtype but `string` (`identity`).
pub const NON_STRING: &[DType] = &[Fp16, Fp32, Int32, Int16, Int8, Uint8, Uint16, Uint64, Bool];
/// Every dtype (`const`'s value).
pub const ANY: &[DType] = &DType::ALL;

/// A fixed `int32` argument.
pub const I32: DTypeDomain = DTypeDomain::any_of(INT32);
/// A fixed `bool` argument.
pub const B: DTypeDomain = DTypeDomain::any_of(BOOL);
/// A fixed `string` argument.
pub const S: DTypeDomain = DTypeDomain::any_of(STRING);

/// Domain letter `T` over `allowed`.
pub const fn t(allowed: &'static [DType]) -> DTypeDomain {
    DTypeDomain::shared("T", allowed)
}

/// Domain letter `U` over `allowed`.
pub const fn u(allowed: &'static [DType]) -> DTypeDomain {
    DTypeDomain::shared("U", allowed)
}
