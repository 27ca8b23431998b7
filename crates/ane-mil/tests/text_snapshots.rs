//! Snapshots of printed programs (insta): the canonical layout in both dialects, a conv +
//! layer_norm kernel like mil-ops.md §2.2, a multi-output split, blob consts and every literal
//! form. Each snapshot is also parsed back to the program it came from.

mod text_common;
use text_common as common;

use ane_mil::{
    parse, print, Argument, Binding, BlobRef, DType, Dialect, Dim, Function, Opset, Program,
    TensorData, TensorType, TensorValue, Value,
};
use common::{call, const_op, main_fn, named};
use half::f16;
use std::collections::BTreeMap;

fn fp16(shape: &[usize]) -> TensorType {
    TensorType::new(DType::Fp16, shape.iter().copied())
}

fn blob(shape: &[usize], file: &str, offset: u64) -> Value {
    Value::Blob(BlobRef {
        ty: fp16(shape),
        path: format!("@model_path/weights/{file}"),
        offset,
    })
}

fn var(name: &str) -> Argument {
    Argument::var(name)
}

/// The conv + layer_norm kernel of mil-ops.md §2.2, built in memory.
fn conv_layer_norm(dialect: Dialect) -> Program {
    let x = named("x", fp16(&[1, 64, 1, 32]));
    let body = vec![
        const_op("w", blob(&[64, 64, 1, 1], "weight.bin", 64)),
        const_op("pt", TensorValue::string("valid").into()),
        const_op("st", TensorValue::int32_vec(&[1, 1]).into()),
        const_op("pd", TensorValue::int32_vec(&[0, 0, 0, 0]).into()),
        const_op("dl", TensorValue::int32_vec(&[1, 1]).into()),
        const_op("gr", TensorValue::int32(1).into()),
        call(
            vec![named("c", fp16(&[1, 64, 1, 32]))],
            "conv",
            &[
                ("dilations", var("dl")),
                ("groups", var("gr")),
                ("pad", var("pd")),
                ("pad_type", var("pt")),
                ("strides", var("st")),
                ("weight", var("w")),
                ("x", var("x")),
            ],
        ),
        const_op("eps", TensorValue::fp16(f16::from_bits(0x00A8)).into()),
        const_op("ax", TensorValue::int32_vec(&[1]).into()),
        call(
            vec![named("y", fp16(&[1, 64, 1, 32]))],
            "layer_norm",
            &[
                ("axes", var("ax")),
                ("epsilon", var("eps")),
                ("x", var("c")),
            ],
        ),
    ];
    let mut p = Program::new(dialect);
    p.functions
        .push(main_fn(dialect.opset(), vec![x], body, &["y"]));
    p
}

/// Prints, checks the text parses back to `p`, and returns the text for a snapshot.
fn printed(p: &Program) -> String {
    let text = print(p);
    assert_eq!(parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}")), *p);
    text
}

#[test]
fn conv_layer_norm_ios18() {
    let text = printed(&conv_layer_norm(Dialect::Ios18));
    // Same program as the reference example: the printer reproduces Apple's layout exactly.
    let reference = std::fs::read_to_string(format!(
        "{}/tests/data/mil_ops_ios18_example.mil",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(text, reference);
    insta::assert_snapshot!(text);
}

#[test]
fn conv_layer_norm_ios16() {
    insta::assert_snapshot!(printed(&conv_layer_norm(Dialect::Ios16)));
}

/// A split with two results, each half through an op, joined again by a tuple concat.
fn split_program(dialect: Dialect) -> Program {
    let half_ty = fp16(&[1, 32, 1, 16]);
    let body = vec![
        const_op("ax", TensorValue::int32(1).into()),
        const_op("ns", TensorValue::int32(2).into()),
        call(
            vec![named("a", half_ty.clone()), named("b", half_ty.clone())],
            "split",
            &[
                ("axis", var("ax")),
                ("num_splits", var("ns")),
                ("x", var("x")),
            ],
        ),
        call(
            vec![named("sa", half_ty.clone())],
            "sigmoid",
            &[("x", var("a"))],
        ),
        call(
            vec![named("y", fp16(&[1, 64, 1, 16]))],
            "concat",
            &[
                ("axis", var("ax")),
                (
                    "interleave",
                    Argument::Single(Binding::Value(TensorValue::bool(false).into())),
                ),
                (
                    "values",
                    Argument::Tuple(vec![Binding::Var("sa".into()), Binding::Var("b".into())]),
                ),
            ],
        ),
    ];
    let mut p = Program::new(dialect);
    p.functions.push(main_fn(
        dialect.opset(),
        vec![named("x", fp16(&[1, 64, 1, 16]))],
        body,
        &["y", "a"],
    ));
    p
}

#[test]
fn multi_output_split_ios18() {
    insta::assert_snapshot!(printed(&split_program(Dialect::Ios18)));
}

#[test]
fn multi_output_split_ios16() {
    insta::assert_snapshot!(printed(&split_program(Dialect::Ios16)));
}

/// Blob consts of several dtypes and every literal form: special floats, strings with escapes,
/// empty tensors, rank-3 data, an inline literal binding, a per-op opset, `?` dims, a function
/// attribute, a second function, a dict and an op without results.
fn literals_program(version: &str) -> Program {
    let specials16 = [
        0x0000u16, 0x8000, 0x0001, 0x03FF, 0x3C00, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00, 0x7E00,
    ];
    let body = vec![
        const_op("w16", blob(&[128, 64, 1, 1], "w.bin", 64)),
        const_op(
            "w8",
            Value::Blob(BlobRef {
                ty: TensorType::new(DType::Int8, [64, 64]),
                path: "@model_path/weights/w.bin".into(),
                offset: 16512,
            }),
        ),
        const_op(
            "h",
            TensorValue {
                ty: fp16(&[2, 5]),
                data: TensorData::Fp16(specials16.iter().map(|&b| f16::from_bits(b)).collect()),
            }
            .into(),
        ),
        const_op(
            "f",
            TensorValue {
                ty: TensorType::new(DType::Fp32, [2, 2, 2]),
                data: TensorData::Fp32(vec![
                    0.1,
                    -2.5,
                    1.0e-8,
                    f32::from_bits(1),
                    f32::MAX,
                    f32::MIN_POSITIVE,
                    f32::NEG_INFINITY,
                    f32::NAN,
                ]),
            }
            .into(),
        ),
        const_op(
            "s",
            TensorValue {
                ty: TensorType::new(DType::String, [3]),
                data: TensorData::Str(vec![
                    "quote \" back \\".into(),
                    "tab\tnl\ncr\r".into(),
                    "bell\u{7} é".into(),
                ]),
            }
            .into(),
        ),
        const_op(
            "e",
            TensorValue {
                ty: TensorType::new(DType::Int32, [0]),
                data: TensorData::Int(vec![]),
            }
            .into(),
        ),
        const_op(
            "u",
            TensorValue {
                ty: TensorType::new(DType::Uint64, [2]),
                data: TensorData::UInt64(vec![0, u64::MAX]),
            }
            .into(),
        ),
        const_op("neg", TensorValue::int32(i32::MIN).into()),
        {
            let mut op = call(
                vec![named(
                    "y",
                    TensorType {
                        dtype: DType::Fp16,
                        shape: vec![Dim::Known(1), Dim::Unknown],
                    },
                )],
                "mul",
                &[
                    ("x", var("x")),
                    (
                        "y",
                        Argument::Single(Binding::Value(
                            TensorValue::fp16(f16::from_f32(0.5)).into(),
                        )),
                    ),
                ],
            );
            op.opset = Some(Opset::Ios17);
            op
        },
        {
            let mut op = call(
                vec![named("unused", fp16(&[1]))],
                "write_state",
                &[("input", var("y"))],
            );
            op.outputs.clear();
            op
        },
    ];
    let x = named(
        "x",
        TensorType {
            dtype: DType::Fp16,
            shape: vec![Dim::Known(1), Dim::Unknown],
        },
    );
    let mut main = main_fn(Opset::Ios18, vec![x], body, &["y"]);
    main.attributes.insert(
        "FlexibleShapeInformation".into(),
        ane_mil::program::string_dict(&[("x", "[1, 1...64]")]),
    );
    let helper = Function {
        name: "helper".into(),
        opset: Opset::Ios16,
        params: vec![],
        attributes: BTreeMap::new(),
        body: vec![],
        outputs: vec![],
        pos: Default::default(),
    };
    let mut attributes = BTreeMap::new();
    attributes.insert(
        "buildInfo".into(),
        ane_mil::program::string_dict(&[("coremlc-version", "3505.4.1")]),
    );
    attributes.insert(
        "counts".into(),
        Value::Dict {
            key_type: TensorType::scalar(DType::Int32).into(),
            value_type: TensorType::scalar(DType::Bool).into(),
            entries: vec![(TensorValue::int32(-1), TensorValue::bool(true))],
        },
    );
    Program {
        version: version.into(),
        attributes,
        functions: vec![main, helper],
    }
}

#[test]
fn literals_and_blobs_ios18() {
    insta::assert_snapshot!(printed(&literals_program("1.3")));
}

#[test]
fn literals_and_blobs_ios16() {
    insta::assert_snapshot!(printed(&literals_program("1.0")));
}
