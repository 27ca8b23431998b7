//! Shared helpers for the text tests: small program-building helpers and proptest strategies that
//! generate arbitrary well-formed programs (every dtype, ranks 0–5, `?` dims, special floats,
//! strings needing escapes, tuples, multi-output ops, blobs, dicts, per-op opsets, several
//! functions).
#![allow(dead_code)]

use ane_mil::{
    Argument, Binding, BlobRef, DType, Dim, Function, NamedType, Operation, Opset, Program,
    TensorData, TensorType, TensorValue, Value, ValueType,
};
use half::f16;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::BTreeMap;

// ---- building programs by hand ----

/// A named tensor type.
pub fn named(name: &str, ty: TensorType) -> NamedType {
    NamedType::tensor(name, ty)
}

/// `[name = string(NAME)]`.
pub fn name_attr(name: &str) -> BTreeMap<String, Value> {
    BTreeMap::from([("name".to_string(), TensorValue::string(name).into())])
}

/// `T name = const()[name = string("name"), val = value];`
pub fn const_op(name: &str, value: Value) -> Operation {
    let mut attributes = name_attr(name);
    let ty = value.value_type();
    attributes.insert("val".into(), value);
    Operation {
        op_type: "const".into(),
        opset: None,
        outputs: vec![NamedType {
            name: name.into(),
            ty,
            pos: Default::default(),
        }],
        inputs: BTreeMap::new(),
        attributes,
        pos: Default::default(),
    }
}

/// `outs = op(args)[name = string(first output)];`
pub fn call(outs: Vec<NamedType>, op_type: &str, args: &[(&str, Argument)]) -> Operation {
    let attributes = name_attr(&outs[0].name);
    Operation {
        op_type: op_type.into(),
        opset: None,
        outputs: outs,
        inputs: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        attributes,
        pos: Default::default(),
    }
}

/// A function `main` at `opset`.
pub fn main_fn(
    opset: Opset,
    params: Vec<NamedType>,
    body: Vec<Operation>,
    outputs: &[&str],
) -> Function {
    Function {
        name: "main".into(),
        opset,
        params,
        attributes: BTreeMap::new(),
        body,
        outputs: outputs.iter().map(|s| s.to_string()).collect(),
        pos: Default::default(),
    }
}

// ---- strategies ----

/// Identifiers `[A-Za-z_][A-Za-z0-9_@]*`.
pub fn ident() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_@]{0,6}"
}

/// Op names: real ones and made-up ones (never a type keyword, so zero-output ops print
/// unambiguously).
pub fn op_type() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "const",
            "conv",
            "split",
            "concat",
            "layer_norm",
            "write_state"
        ])
        .prop_map(String::from),
        "op_[a-z0-9_@]{0,5}",
    ]
}

pub fn dtype() -> impl Strategy<Value = DType> {
    select(DType::ALL.to_vec())
}

pub fn opset() -> impl Strategy<Value = Opset> {
    select(Opset::ALL.to_vec())
}

/// fp16 values: any bit pattern, weighted towards zeros, subnormals, extremes, inf and NaN.
pub fn f16_value() -> impl Strategy<Value = f16> {
    prop_oneof![
        any::<u16>().prop_map(f16::from_bits),
        select(vec![
            0x0000u16, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0xFBFF, 0x7C00,
            0xFC00, 0x7E00, 0x7C01, 0xFFFF,
        ])
        .prop_map(f16::from_bits),
    ]
}

/// fp32 values: any bit pattern, weighted like [`f16_value`].
pub fn f32_value() -> impl Strategy<Value = f32> {
    prop_oneof![
        any::<u32>().prop_map(f32::from_bits),
        select(vec![
            0.0f32,
            -0.0,
            f32::from_bits(1),
            -f32::from_bits(1),
            f32::MIN_POSITIVE,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::from_bits(0x7F80_0001),
            1.0e-8,
        ]),
    ]
}

/// Strings with quotes, backslashes, control characters and non-ASCII text.
pub fn string_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,8}",
        vec(any::<char>(), 0..6).prop_map(String::from_iter),
        select(vec![
            "",
            "\"",
            "\\",
            "\n\t\r",
            "\u{0}\u{1F}\u{7F}",
            "@model_path/weights/w.bin"
        ])
        .prop_map(String::from),
    ]
}

/// `n` elements valid for `dtype`.
pub fn tensor_data(dtype: DType, n: usize) -> BoxedStrategy<TensorData> {
    match dtype {
        DType::Fp16 => vec(f16_value(), n).prop_map(TensorData::Fp16).boxed(),
        DType::Fp32 => vec(f32_value(), n).prop_map(TensorData::Fp32).boxed(),
        DType::Int32 => ints(any::<i32>().prop_map(i64::from), n),
        DType::Int16 => ints(any::<i16>().prop_map(i64::from), n),
        DType::Int8 => ints(any::<i8>().prop_map(i64::from), n),
        DType::Uint8 => ints(any::<u8>().prop_map(i64::from), n),
        DType::Uint16 => ints(any::<u16>().prop_map(i64::from), n),
        DType::Uint64 => vec(any::<u64>(), n).prop_map(TensorData::UInt64).boxed(),
        DType::Bool => vec(any::<bool>(), n).prop_map(TensorData::Bool).boxed(),
        DType::String => vec(string_value(), n).prop_map(TensorData::Str).boxed(),
    }
}

fn ints(element: impl Strategy<Value = i64> + 'static, n: usize) -> BoxedStrategy<TensorData> {
    vec(element, n).prop_map(TensorData::Int).boxed()
}

/// A tensor type with known or unknown dims, rank 0–5 (for parameters, results, blobs).
pub fn tensor_type() -> impl Strategy<Value = TensorType> {
    let dim = prop_oneof![4 => (0usize..70000).prop_map(Dim::Known), 1 => Just(Dim::Unknown)];
    (dtype(), vec(dim, 0..=5)).prop_map(|(dtype, shape)| TensorType { dtype, shape })
}

/// Any value type: tensors and scalars, dicts of scalars, tuples (nested a little).
pub fn value_type() -> impl Strategy<Value = ValueType> {
    let leaf = tensor_type().prop_map(ValueType::Tensor);
    leaf.prop_recursive(2, 6, 3, |inner| {
        prop_oneof![
            (scalar_type(), scalar_type())
                .prop_map(|(k, v)| ValueType::Dict(Box::new(k), Box::new(v))),
            vec(inner, 0..3).prop_map(ValueType::Tuple),
        ]
    })
}

fn scalar_type() -> impl Strategy<Value = ValueType> {
    dtype().prop_map(|d| ValueType::Tensor(TensorType::scalar(d)))
}

/// An inline literal: rank 0–5 with at most a few dozen elements.
pub fn tensor_value() -> impl Strategy<Value = TensorValue> {
    let dim = prop_oneof![1 => Just(0usize), 6 => 1usize..4];
    (dtype(), vec(dim, 0..=5)).prop_flat_map(|(dtype, dims)| {
        let n: usize = dims.iter().product();
        tensor_data(dtype, n).prop_map(move |data| TensorValue {
            ty: TensorType::new(dtype, dims.clone()),
            data,
        })
    })
}

fn scalar_value(dtype: DType) -> impl Strategy<Value = TensorValue> {
    tensor_data(dtype, 1).prop_map(move |data| TensorValue {
        ty: TensorType::scalar(dtype),
        data,
    })
}

pub fn blob() -> impl Strategy<Value = BlobRef> {
    (tensor_type(), string_value(), any::<u64>()).prop_map(|(ty, path, offset)| BlobRef {
        ty,
        path,
        offset,
    })
}

pub fn dict() -> impl Strategy<Value = Value> {
    (dtype(), dtype()).prop_flat_map(|(k, v)| {
        vec((scalar_value(k), scalar_value(v)), 0..4).prop_map(move |entries| Value::Dict {
            key_type: ValueType::Tensor(TensorType::scalar(k)),
            value_type: ValueType::Tensor(TensorType::scalar(v)),
            entries,
        })
    })
}

pub fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => tensor_value().prop_map(Value::Tensor),
        2 => blob().prop_map(Value::Blob),
        1 => dict(),
    ]
}

pub fn binding() -> impl Strategy<Value = Binding> {
    prop_oneof![
        ident().prop_map(Binding::Var),
        value().prop_map(Binding::Value)
    ]
}

pub fn argument() -> impl Strategy<Value = Argument> {
    prop_oneof![
        3 => binding().prop_map(Argument::Single),
        1 => vec(binding(), 0..4).prop_map(Argument::Tuple),
    ]
}

pub fn named_type() -> impl Strategy<Value = NamedType> {
    (ident(), value_type()).prop_map(|(name, ty)| NamedType {
        name,
        ty,
        pos: Default::default(),
    })
}

pub fn operation() -> impl Strategy<Value = Operation> {
    (
        op_type(),
        proptest::option::weighted(0.2, opset()),
        vec(named_type(), 0..4),
        btree_map(ident(), argument(), 0..4),
        btree_map(ident(), value(), 0..3),
    )
        .prop_map(|(op_type, opset, outputs, inputs, attributes)| Operation {
            op_type,
            opset,
            outputs,
            inputs,
            attributes,
            pos: Default::default(),
        })
}

pub fn function() -> impl Strategy<Value = Function> {
    (
        ident(),
        opset(),
        vec(named_type(), 0..4),
        btree_map(ident(), value(), 0..2),
        vec(operation(), 0..6),
        vec(ident(), 0..3),
    )
        .prop_map(
            |(name, opset, params, attributes, body, outputs)| Function {
                name,
                opset,
                params,
                attributes,
                body,
                outputs,
                pos: Default::default(),
            },
        )
}

/// A whole program in the 1.0 or the 1.3 dialect.
pub fn program() -> impl Strategy<Value = Program> {
    (
        select(vec!["1.0", "1.3"]),
        btree_map(ident(), value(), 0..3),
        vec(function(), 0..3),
    )
        .prop_map(|(version, attributes, functions)| Program {
            version: version.to_string(),
            attributes,
            functions,
        })
}
