//! Helpers shared by the integration tests: compact type and argument constructors.
#![allow(dead_code)]

use ane_mil::ops::{self, Constness, InferError, ResolvedArg, ResolvedInputs};
use ane_mil::{DType, Dim, Opset, TensorType, TensorValue};
use std::borrow::Cow;

/// A tensor type; `-1` dims are unknown (`?`).
pub fn ty(dtype: DType, dims: &[i64]) -> TensorType {
    TensorType {
        dtype,
        shape: dims
            .iter()
            .map(|&d| {
                if d < 0 {
                    Dim::Unknown
                } else {
                    Dim::Known(d as usize)
                }
            })
            .collect(),
    }
}

/// An fp16 tensor type.
pub fn h(dims: &[i64]) -> TensorType {
    ty(DType::Fp16, dims)
}

/// A runtime argument.
pub fn rt(t: TensorType) -> ResolvedArg<'static> {
    ResolvedArg::runtime(t)
}

/// A constant argument with a known value.
pub fn lit(v: TensorValue) -> ResolvedArg<'static> {
    ResolvedArg::known(Cow::Owned(v))
}

/// A constant argument whose value is not readable (blob).
pub fn opaque(t: TensorType) -> ResolvedArg<'static> {
    ResolvedArg::opaque_const(t, Constness::Const)
}

pub fn ints(v: &[i32]) -> ResolvedArg<'static> {
    lit(TensorValue::int32_vec(v))
}

pub fn int(v: i32) -> ResolvedArg<'static> {
    lit(TensorValue::int32(v))
}

pub fn boolean(v: bool) -> ResolvedArg<'static> {
    lit(TensorValue::bool(v))
}

pub fn bools(v: &[bool]) -> ResolvedArg<'static> {
    lit(TensorValue::bool_vec(v))
}

pub fn string(v: &str) -> ResolvedArg<'static> {
    lit(TensorValue::string(v))
}

pub fn f16s(v: f32) -> ResolvedArg<'static> {
    lit(TensorValue::fp16(half::f16::from_f32(v)))
}

pub fn f32s(v: f32) -> ResolvedArg<'static> {
    lit(TensorValue::fp32(v))
}

/// Arguments from `(name, arg)` pairs.
pub fn args(list: Vec<(&str, ResolvedArg<'static>)>) -> ResolvedInputs<'static> {
    list.into_iter()
        .fold(ResolvedInputs::new(), |acc, (n, a)| acc.with(n, a))
}

/// Infers one output in `opset`.
pub fn infer_in(
    op: &str,
    opset: Opset,
    list: Vec<(&str, ResolvedArg<'static>)>,
) -> Result<TensorType, InferError> {
    let mut out = ops::infer(op, opset, &args(list))?;
    assert_eq!(out.len(), 1, "{op} should have one output");
    Ok(out.remove(0))
}

/// Infers one output in ios18.
pub fn infer1(op: &str, list: Vec<(&str, ResolvedArg<'static>)>) -> Result<TensorType, InferError> {
    infer_in(op, Opset::Ios18, list)
}

/// Infers one output in ios18 and returns its shape with `-1` for unknown dims.
pub fn shape_of(op: &str, list: Vec<(&str, ResolvedArg<'static>)>) -> Vec<i64> {
    dims(&infer1(op, list).unwrap_or_else(|e| panic!("{op}: {e}")))
}

/// The dims of a type, `-1` for unknown.
pub fn dims(t: &TensorType) -> Vec<i64> {
    t.shape
        .iter()
        .map(|d| d.known().map_or(-1, |n| n as i64))
        .collect()
}

/// The error message of a failing ios18 inference.
pub fn err1(op: &str, list: Vec<(&str, ResolvedArg<'static>)>) -> String {
    match infer1(op, list) {
        Ok(t) => panic!("{op} should fail, inferred {t}"),
        Err(e) => e.to_string(),
    }
}

/// The error of a failing inference in `opset`.
pub fn err_in(op: &str, opset: Opset, list: Vec<(&str, ResolvedArg<'static>)>) -> String {
    match infer_in(op, opset, list) {
        Ok(t) => panic!("{op} should fail in {opset}, inferred {t}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts that `haystack` contains every needle.
#[track_caller]
pub fn assert_mentions(haystack: &str, needles: &[&str]) {
    for n in needles {
        assert!(haystack.contains(n), "expected `{n}` in: {haystack}");
    }
}
