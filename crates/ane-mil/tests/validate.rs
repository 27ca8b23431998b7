//! Every validation error kind, each triggered by a small hand-built bad program.

mod common;

use ane_mil::program::{Argument, Binding, Function, NamedType, Operation, Program};
use ane_mil::validate::{validate, ValidationErrorKind as Kind, ValidationErrors};
use ane_mil::{
    BlobRef, DType, Dialect, Opset, SourcePos, TensorType, TensorValue, Value, ValueType,
};
use common::{assert_mentions, h, ty};
use std::collections::BTreeMap;

/// An op with one output named `out`, `name = string(out)`, and `inputs` bound to names.
fn op(op_type: &str, out: &str, out_ty: TensorType, inputs: &[(&str, &str)]) -> Operation {
    let mut attributes = BTreeMap::new();
    attributes.insert("name".to_string(), TensorValue::string(out).into());
    Operation {
        op_type: op_type.to_string(),
        opset: None,
        outputs: vec![NamedType::tensor(out, out_ty)],
        inputs: inputs
            .iter()
            .map(|(k, v)| (k.to_string(), Argument::var(*v)))
            .collect(),
        attributes,
        pos: SourcePos::default(),
    }
}

/// `const` named `out` with value `val`.
fn konst(out: &str, val: impl Into<Value>) -> Operation {
    let val = val.into();
    let ty = val.value_type().as_tensor().cloned().unwrap();
    let mut o = op("const", out, ty, &[]);
    o.attributes.insert("val".to_string(), val);
    o
}

fn function(
    opset: Opset,
    params: &[(&str, TensorType)],
    body: Vec<Operation>,
    outputs: &[&str],
) -> Function {
    Function {
        name: "main".to_string(),
        opset,
        params: params
            .iter()
            .map(|(n, t)| NamedType::tensor(*n, t.clone()))
            .collect(),
        attributes: BTreeMap::new(),
        body,
        outputs: outputs.iter().map(|s| s.to_string()).collect(),
        pos: SourcePos::at(2, 5),
    }
}

fn program(f: Function) -> Program {
    let mut p = Program::new(Dialect::Ios18);
    p.functions.push(f);
    p
}

fn errors_of(f: Function) -> ValidationErrors {
    validate(&program(f)).expect_err("the program should not validate")
}

/// Asserts exactly one error of `kind` whose message mentions every needle.
#[track_caller]
fn expect_one(f: Function, kind: Kind, needles: &[&str]) {
    let errors = errors_of(f);
    assert_eq!(
        errors.errors().len(),
        1,
        "expected one error, got:\n{errors}"
    );
    assert_eq!(errors.errors()[0].kind, kind, "{errors}");
    assert_mentions(&errors.to_string(), needles);
}

fn relu_fn(out_ty: TensorType) -> Function {
    function(
        Opset::Ios18,
        &[("x", h(&[2, 3]))],
        vec![op("relu", "y", out_ty, &[("x", "x")])],
        &["y"],
    )
}

#[test]
fn a_correct_program_validates() {
    let body = vec![
        konst(
            "w",
            Value::Blob(BlobRef {
                ty: h(&[8, 3, 1, 1]),
                path: "@model_path/weights/w.bin".into(),
                offset: 64,
            }),
        ),
        konst("st", TensorValue::int32_vec(&[1, 1])),
        konst("pt", TensorValue::string("valid")),
        konst("pd", TensorValue::int32_vec(&[0, 0, 0, 0])),
        konst("g", TensorValue::int32(1)),
        op(
            "conv",
            "c",
            h(&[1, 8, 4, 4]),
            &[
                ("x", "x"),
                ("weight", "w"),
                ("strides", "st"),
                ("pad_type", "pt"),
                ("pad", "pd"),
                ("dilations", "st"),
                ("groups", "g"),
            ],
        ),
        op("relu", "y", h(&[1, 8, 4, 4]), &[("x", "c")]),
    ];
    let f = function(Opset::Ios18, &[("x", h(&[1, 3, 4, 4]))], body, &["y"]);
    validate(&program(f)).unwrap();
}

#[test]
fn unknown_op() {
    let f = function(
        Opset::Ios18,
        &[("x", h(&[2]))],
        vec![op("frobnicate", "y", h(&[2]), &[("x", "x")])],
        &["y"],
    );
    expect_one(f, Kind::UnknownOp, &["unknown op `frobnicate`"]);
}

#[test]
fn unknown_op_still_reports_undefined_names() {
    let f = function(
        Opset::Ios18,
        &[],
        vec![op("frobnicate", "y", h(&[2]), &[("x", "nope")])],
        &["y"],
    );
    let errors = errors_of(f);
    assert!(
        errors.has(Kind::UnknownOp) && errors.has(Kind::UndefinedIdentifier),
        "{errors}"
    );
}

#[test]
fn missing_required_argument() {
    let f = function(
        Opset::Ios18,
        &[("x", h(&[2]))],
        vec![op("add", "y", h(&[2]), &[("x", "x")])],
        &["y"],
    );
    expect_one(
        f,
        Kind::MissingArgument,
        &["\"y\" (add)", "missing required argument `y`"],
    );
}

#[test]
fn unknown_argument_and_attribute() {
    let f = function(
        Opset::Ios18,
        &[("x", h(&[2]))],
        vec![op("relu", "y", h(&[2]), &[("x", "x"), ("alpha", "x")])],
        &["y"],
    );
    expect_one(f, Kind::UnknownArgument, &["unknown argument `alpha`"]);
    let mut f = relu_fn(h(&[2, 3]));
    f.body[0]
        .attributes
        .insert("color".into(), TensorValue::string("red").into());
    expect_one(f, Kind::UnknownArgument, &["unknown attribute `color`"]);
}

#[test]
fn dtype_mismatch_of_shared_letter() {
    let f = function(
        Opset::Ios18,
        &[("a", h(&[2])), ("b", ty(DType::Fp32, &[2]))],
        vec![op("mul", "y", h(&[2]), &[("x", "a"), ("y", "b")])],
        &["y"],
    );
    expect_one(
        f,
        Kind::DTypeMismatch,
        &["`x` (fp16)", "`y` (fp32)", "domain T"],
    );
    let f = function(
        Opset::Ios18,
        &[("x", ty(DType::Int32, &[2]))],
        vec![op("relu", "y", ty(DType::Int32, &[2]), &[("x", "x")])],
        &["y"],
    );
    expect_one(f, Kind::DTypeMismatch, &["`x` has dtype int32"]);
}

#[test]
fn shape_mismatch() {
    let f = function(
        Opset::Ios18,
        &[("a", h(&[2, 3])), ("b", h(&[4]))],
        vec![op("add", "y", h(&[2, 3]), &[("x", "a"), ("y", "b")])],
        &["y"],
    );
    expect_one(
        f,
        Kind::ShapeMismatch,
        &["cannot broadcast `x` tensor<fp16, [2, 3]> with `y` tensor<fp16, [4]>"],
    );
}

#[test]
fn non_const_where_const_is_required() {
    let f = function(
        Opset::Ios18,
        &[("x", h(&[2, 3])), ("p", ty(DType::Int32, &[2]))],
        vec![op(
            "transpose",
            "y",
            h(&[3, 2]),
            &[("x", "x"), ("perm", "p")],
        )],
        &["y"],
    );
    expect_one(
        f,
        Kind::NotConst,
        &["`perm` must be a compile-time constant"],
    );
}

#[test]
fn inline_literals_and_constexpr_outputs_count_as_const() {
    let mut t = op("transpose", "y", h(&[3, 2]), &[("x", "x")]);
    t.inputs.insert(
        "perm".into(),
        Argument::Single(Binding::Value(TensorValue::int32_vec(&[1, 0]).into())),
    );
    validate(&program(function(
        Opset::Ios18,
        &[("x", h(&[2, 3]))],
        vec![t],
        &["y"],
    )))
    .unwrap();

    // constexpr_affine_dequantize in attribute form feeding linear's must-be-const weight.
    let mut deq = op("constexpr_affine_dequantize", "w", h(&[4, 3]), &[]);
    let int8 = |dims: &[i64], v: Vec<i64>| TensorValue {
        ty: ty(DType::Int8, dims),
        data: ane_mil::TensorData::Int(v),
    };
    deq.attributes
        .insert("quantized_data".into(), int8(&[4, 3], vec![1; 12]).into());
    deq.attributes
        .insert("zero_point".into(), int8(&[], vec![0]).into());
    deq.attributes.insert(
        "scale".into(),
        TensorValue::fp16(half::f16::from_f32(0.5)).into(),
    );
    deq.attributes
        .insert("axis".into(), TensorValue::int32(0).into());
    let lin = op("linear", "y", h(&[2, 4]), &[("x", "x"), ("weight", "w")]);
    validate(&program(function(
        Opset::Ios18,
        &[("x", h(&[2, 3]))],
        vec![deq.clone(), lin.clone()],
        &["y"],
    )))
    .unwrap();
    // The same op with its operands as inputs (the iOS18 form) validates too.
    let mut as_inputs = deq.clone();
    for (k, v) in std::mem::take(&mut as_inputs.attributes) {
        if k == "name" {
            as_inputs.attributes.insert(k, v);
        } else {
            as_inputs
                .inputs
                .insert(k, Argument::Single(Binding::Value(v)));
        }
    }
    validate(&program(function(
        Opset::Ios18,
        &[("x", h(&[2, 3]))],
        vec![as_inputs, lin],
        &["y"],
    )))
    .unwrap();
    // But not in ios15, which has no constexpr ops.
    let f = function(Opset::Ios15, &[("x", h(&[2, 3]))], vec![deq], &["w"]);
    expect_one(
        f,
        Kind::NotInOpset,
        &["constexpr_affine_dequantize", "introduced in ios16"],
    );
}

#[test]
fn undefined_identifier() {
    let f = function(
        Opset::Ios18,
        &[("x", h(&[2]))],
        vec![op("relu", "y", h(&[2]), &[("x", "nope")])],
        &["y"],
    );
    expect_one(
        f,
        Kind::UndefinedIdentifier,
        &["argument `x` uses `nope`, which is not defined"],
    );
    // Use before definition is undefined too.
    let f = function(
        Opset::Ios18,
        &[("x", h(&[2]))],
        vec![
            op("relu", "a", h(&[2]), &[("x", "b")]),
            op("relu", "b", h(&[2]), &[("x", "x")]),
        ],
        &["a"],
    );
    expect_one(f, Kind::UndefinedIdentifier, &["uses `b`"]);
}

#[test]
fn duplicate_identifiers() {
    let f = function(
        Opset::Ios18,
        &[("x", h(&[2]))],
        vec![op("relu", "x", h(&[2]), &[("x", "x")])],
        &["x"],
    );
    expect_one(f, Kind::DuplicateIdentifier, &["`x` is defined twice"]);
    let mut second = op("relu", "y", h(&[2]), &[("x", "x")]);
    second
        .attributes
        .insert("name".into(), TensorValue::string("other").into());
    let f = function(
        Opset::Ios18,
        &[("x", h(&[2]))],
        vec![op("relu", "y", h(&[2]), &[("x", "x")]), second],
        &["y"],
    );
    expect_one(f, Kind::DuplicateIdentifier, &["`y` is defined twice"]);
    let mut renamed = op("relu", "z", h(&[2]), &[("x", "x")]);
    renamed
        .attributes
        .insert("name".into(), TensorValue::string("y").into());
    let f = function(
        Opset::Ios18,
        &[("x", h(&[2]))],
        vec![op("relu", "y", h(&[2]), &[("x", "x")]), renamed],
        &["z"],
    );
    expect_one(
        f,
        Kind::DuplicateIdentifier,
        &["op name \"y\" is used twice"],
    );
}

#[test]
fn function_output_not_defined_and_no_outputs() {
    let f = function(Opset::Ios18, &[("x", h(&[2]))], vec![], &["missing"]);
    expect_one(
        f,
        Kind::UndefinedOutput,
        &["returns `missing`, which is not defined"],
    );
    let f = function(Opset::Ios18, &[("x", h(&[2]))], vec![], &[]);
    expect_one(f, Kind::NoOutputs, &["has no outputs"]);
    let errors = validate(&Program::new(Dialect::Ios18)).unwrap_err();
    assert!(errors.has(Kind::NoFunctions));
}

#[test]
fn declared_output_type_disagrees() {
    expect_one(
        relu_fn(h(&[2, 4])),
        Kind::OutputTypeMismatch,
        &[
            "output `y` is declared tensor<fp16, [2, 4]>",
            "produces tensor<fp16, [2, 3]>",
        ],
    );
    expect_one(
        relu_fn(ty(DType::Fp32, &[2, 3])),
        Kind::OutputTypeMismatch,
        &["tensor<fp32, [2, 3]>"],
    );
    expect_one(
        relu_fn(h(&[2, 3, 1])),
        Kind::OutputTypeMismatch,
        &["[2, 3, 1]"],
    );
    // A declared size may refine an unknown inferred dim.
    let f = function(
        Opset::Ios18,
        &[("x", h(&[-1, 3]))],
        vec![op("relu", "y", h(&[5, 3]), &[("x", "x")])],
        &["y"],
    );
    validate(&program(f)).unwrap();
}

#[test]
fn const_without_val_or_with_wrong_type() {
    let f = function(
        Opset::Ios18,
        &[],
        vec![op("const", "c", h(&[2]), &[])],
        &["c"],
    );
    expect_one(f, Kind::ConstValue, &["`const` without a `val` attribute"]);
    let mut c = konst("c", TensorValue::int32_vec(&[1, 2]));
    c.outputs[0].ty = ValueType::Tensor(ty(DType::Int32, &[3]));
    let f = function(Opset::Ios18, &[], vec![c], &["c"]);
    expect_one(
        f,
        Kind::ConstValue,
        &[
            "`val` has type tensor<int32, [2]>",
            "declared tensor<int32, [3]>",
        ],
    );
    let mut c = konst("c", TensorValue::int32(1));
    c.inputs.insert("val".into(), Argument::var("c"));
    let errors = errors_of(function(Opset::Ios18, &[], vec![c], &["c"]));
    assert_mentions(&errors.to_string(), &["takes its operands as attributes"]);
}

#[test]
fn missing_or_bad_name_attribute() {
    let mut f = relu_fn(h(&[2, 3]));
    f.body[0].attributes.remove("name");
    expect_one(
        f,
        Kind::MissingName,
        &["missing `name = string(\"...\")` attribute"],
    );
    let mut f = relu_fn(h(&[2, 3]));
    f.body[0]
        .attributes
        .insert("name".into(), TensorValue::int32(3).into());
    expect_one(
        f,
        Kind::InvalidValue,
        &["`name` attribute must be a string"],
    );
}

#[test]
fn op_not_available_in_the_opset() {
    let sdpa = || {
        op(
            "scaled_dot_product_attention",
            "y",
            h(&[1, 4, 8]),
            &[("query", "q"), ("key", "q"), ("value", "q")],
        )
    };
    let f = function(Opset::Ios17, &[("q", h(&[1, 4, 8]))], vec![sdpa()], &["y"]);
    expect_one(
        f,
        Kind::NotInOpset,
        &["not available in opset ios17 (introduced in ios18)"],
    );
    // A per-op opset suffix selects the revision.
    let mut op18 = sdpa();
    op18.opset = Some(Opset::Ios18);
    validate(&program(function(
        Opset::Ios17,
        &[("q", h(&[1, 4, 8]))],
        vec![op18],
        &["y"],
    )))
    .unwrap();
    // An opset-specific value rule: same_lower is not in ios15.
    let body = vec![
        konst("k", TensorValue::int32_vec(&[2])),
        konst("s", TensorValue::int32_vec(&[1])),
        konst("pt", TensorValue::string("same_lower")),
        op(
            "max_pool",
            "y",
            h(&[1, 1, 4]),
            &[
                ("x", "x"),
                ("kernel_sizes", "k"),
                ("strides", "s"),
                ("pad_type", "pt"),
            ],
        ),
    ];
    let f = function(Opset::Ios15, &[("x", h(&[1, 1, 4]))], body, &["y"]);
    expect_one(
        f,
        Kind::InvalidValue,
        &["`same_lower` is not available in ios15"],
    );
}

#[test]
fn invalid_identifiers_and_types() {
    let f = function(Opset::Ios18, &[("1x", h(&[2]))], vec![], &["1x"]);
    expect_one(
        f,
        Kind::InvalidIdentifier,
        &["`1x` is not a valid identifier"],
    );
    let f = function(
        Opset::Ios18,
        &[("x", h(&[1, 1, 1, 1, 1, 2]))],
        vec![],
        &["x"],
    );
    expect_one(f, Kind::UnsupportedType, &["rank 6"]);
}

#[test]
fn malformed_literal() {
    let bad = TensorValue {
        ty: ty(DType::Int32, &[3]),
        data: ane_mil::TensorData::Int(vec![1, 0]),
    };
    let mut t = op("transpose", "y", h(&[3, 2]), &[("x", "x")]);
    t.inputs
        .insert("perm".into(), Argument::Single(Binding::Value(bad.into())));
    let f = function(Opset::Ios18, &[("x", h(&[2, 3]))], vec![t], &["y"]);
    expect_one(
        f,
        Kind::MalformedLiteral,
        &["argument `perm`", "holds 2 elements, expected 3"],
    );
}

#[test]
fn split_declares_wrong_output_count() {
    let body = vec![
        konst("ax", TensorValue::int32(0)),
        konst("n", TensorValue::int32(2)),
        op(
            "split",
            "a",
            h(&[2]),
            &[("x", "x"), ("axis", "ax"), ("num_splits", "n")],
        ),
    ];
    let f = function(Opset::Ios18, &[("x", h(&[4]))], body, &["a"]);
    expect_one(f, Kind::OutputCount, &["declares 1 outputs but produces 2"]);
}

#[test]
fn reports_every_error_with_positions() {
    let mut a = op("add", "a", h(&[2]), &[("x", "x")]);
    a.pos = SourcePos::at(3, 9);
    let mut b = op("relu", "b", h(&[2]), &[("x", "nope")]);
    b.pos = SourcePos::at(4, 9);
    let mut c = op("relu", "c", h(&[5]), &[("x", "x")]);
    c.pos = SourcePos::at(5, 9);
    let f = function(Opset::Ios18, &[("x", h(&[2]))], vec![a, b, c], &["c", "zz"]);
    let errors = errors_of(f);
    let text = errors.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].starts_with("3:9: in \"a\" (add): add: missing required argument `y`"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("4:9: in \"b\" (relu): argument `x` uses `nope`"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("5:9: in \"c\" (relu): output `c` is declared"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("2:5: function `main` returns `zz`"),
        "{text}"
    );
}

#[test]
fn positions_default_to_question_marks() {
    let errors = errors_of(relu_fn(h(&[9])));
    assert!(errors.to_string().starts_with("?:?: "), "{errors}");
}

/// The kernel of ane-facts §1.7 (maderix style: every literal bound through a const), built by hand
/// as the parser would produce it, plus the layer_norm tail of mil-ops §2.2.
#[test]
fn the_reference_kernels_validate() {
    let body = vec![
        konst("pv", TensorValue::string("valid")),
        konst("one2", TensorValue::int32_vec(&[1, 1])),
        konst("zero4", TensorValue::int32_vec(&[0, 0, 0, 0])),
        konst("g1", TensorValue::int32(1)),
        konst(
            "wfc",
            Value::Blob(BlobRef {
                ty: h(&[128, 64, 1, 1]),
                path: "@model_path/weights/fc.bin".into(),
                offset: 64,
            }),
        ),
        op(
            "conv",
            "hid",
            h(&[1, 128, 1, 32]),
            &[
                ("dilations", "one2"),
                ("groups", "g1"),
                ("pad", "zero4"),
                ("pad_type", "pv"),
                ("strides", "one2"),
                ("weight", "wfc"),
                ("x", "act"),
            ],
        ),
        op("sigmoid", "gate", h(&[1, 128, 1, 32]), &[("x", "hid")]),
        konst("ax1", TensorValue::int32(1)),
        konst("nointer", TensorValue::bool(false)),
        {
            let mut cat = op(
                "concat",
                "out",
                h(&[1, 256, 1, 32]),
                &[("axis", "ax1"), ("interleave", "nointer")],
            );
            cat.inputs.insert(
                "values".into(),
                Argument::Tuple(vec![
                    Binding::Var("hid".into()),
                    Binding::Var("gate".into()),
                ]),
            );
            cat
        },
        konst("eps", TensorValue::fp16(half::f16::from_bits(0x00A8))),
        konst("ax", TensorValue::int32_vec(&[1])),
        op(
            "layer_norm",
            "y",
            h(&[1, 256, 1, 32]),
            &[("axes", "ax"), ("epsilon", "eps"), ("x", "out")],
        ),
    ];
    let f = function(Opset::Ios18, &[("act", h(&[1, 64, 1, 32]))], body, &["y"]);
    validate(&program(f)).unwrap();
}
