//! Broadcasting binary ops, comparisons, unary math, activations, clip and cast.

use crate::common::*;
use ane_mil::{DType, Opset};

#[test]
fn broadcast_with_size_one_and_missing_dims() {
    let s = shape_of("add", vec![("x", rt(h(&[2, 1, 4]))), ("y", rt(h(&[3, 1])))]);
    assert_eq!(s, vec![2, 3, 4]);
    let s = shape_of("mul", vec![("x", rt(h(&[5]))), ("y", rt(h(&[])))]);
    assert_eq!(s, vec![5]);
    let s = shape_of("sub", vec![("x", rt(h(&[]))), ("y", rt(h(&[])))]);
    assert!(s.is_empty(), "scalar op scalar is a scalar");
}

#[test]
fn broadcast_rank_five() {
    let s = shape_of(
        "maximum",
        vec![("x", rt(h(&[2, 1, 3, 1, 5]))), ("y", rt(h(&[3, 4, 1])))],
    );
    assert_eq!(s, vec![2, 1, 3, 4, 5]);
}

#[test]
fn broadcast_unknown_dims_propagate() {
    // ? against a known size > 1 takes the size; against 1 or ? stays unknown.
    let s = shape_of(
        "add",
        vec![("x", rt(h(&[1, -1, 4]))), ("y", rt(h(&[3, 1, 4])))],
    );
    assert_eq!(s, vec![3, -1, 4]);
    let s = shape_of("add", vec![("x", rt(h(&[-1]))), ("y", rt(h(&[3])))]);
    assert_eq!(s, vec![3]);
    let s = shape_of("add", vec![("x", rt(h(&[-1]))), ("y", rt(h(&[-1])))]);
    assert_eq!(s, vec![-1]);
}

#[test]
fn broadcast_mismatch_names_both_shapes() {
    let e = err1("add", vec![("x", rt(h(&[2, 3]))), ("y", rt(h(&[4])))]);
    assert_mentions(&e, &["add", "`x`", "[2, 3]", "`y`", "[4]"]);
}

#[test]
fn binary_dtypes_share_domain_t() {
    let e = err1(
        "add",
        vec![("x", rt(h(&[2]))), ("y", rt(ty(DType::Fp32, &[2])))],
    );
    assert_mentions(&e, &["`x` (fp16)", "`y` (fp32)", "domain T"]);
    let t = infer1(
        "pow",
        vec![
            ("x", rt(ty(DType::Int32, &[2]))),
            ("y", rt(ty(DType::Int32, &[1]))),
        ],
    )
    .unwrap();
    assert_eq!(t.dtype, DType::Int32);
    let e = err1(
        "add",
        vec![
            ("x", rt(ty(DType::Bool, &[2]))),
            ("y", rt(ty(DType::Bool, &[2]))),
        ],
    );
    assert_mentions(&e, &["`x` has dtype bool", "fp16, fp32, int32"]);
}

#[test]
fn comparisons_produce_bool() {
    for op in [
        "equal",
        "not_equal",
        "greater",
        "greater_equal",
        "less",
        "less_equal",
    ] {
        let t = infer1(op, vec![("x", rt(h(&[4, 1]))), ("y", rt(h(&[3])))]).unwrap();
        assert_eq!((t.dtype, dims(&t)), (DType::Bool, vec![4, 3]), "{op}");
    }
}

#[test]
fn unary_ops_keep_type_and_check_dtypes() {
    for op in [
        "relu", "sigmoid", "silu", "tanh", "exp", "sqrt", "abs", "square", "identity",
    ] {
        let t = infer1(op, vec![("x", rt(h(&[1, 2, 3, 4, 5])))]).unwrap();
        assert_eq!(t, h(&[1, 2, 3, 4, 5]), "{op}");
    }
    assert_eq!(
        infer1("abs", vec![("x", rt(ty(DType::Int32, &[3])))])
            .unwrap()
            .dtype,
        DType::Int32
    );
    let e = err1("relu", vec![("x", rt(ty(DType::Int32, &[3])))]);
    assert_mentions(&e, &["relu", "`x` has dtype int32"]);
    let t = infer1("logical_not", vec![("x", rt(ty(DType::Bool, &[2, -1])))]).unwrap();
    assert_eq!(t, ty(DType::Bool, &[2, -1]));
}

#[test]
fn epsilon_domain_is_x_before_ios17_and_its_own_after() {
    for op in ["log", "rsqrt", "inverse"] {
        let list = || vec![("x", rt(h(&[3]))), ("epsilon", f32s(1e-3))];
        let e = err_in(op, Opset::Ios16, list());
        assert_mentions(&e, &["`x` (fp16)", "`epsilon` (fp32)"]);
        assert_eq!(infer_in(op, Opset::Ios17, list()).unwrap(), h(&[3]));
        // Omitted epsilon: the default fills in.
        assert_eq!(infer1(op, vec![("x", rt(h(&[3])))]).unwrap(), h(&[3]));
    }
}

#[test]
fn epsilon_must_be_const_and_scalar() {
    let e = err1("rsqrt", vec![("x", rt(h(&[3]))), ("epsilon", rt(h(&[])))]);
    assert_mentions(&e, &["`epsilon` must be a compile-time constant"]);
    let e = err1(
        "rsqrt",
        vec![("x", rt(h(&[3]))), ("epsilon", lit(f16_vec(&[0.0, 0.0])))],
    );
    assert_mentions(&e, &["`epsilon` must be a scalar", "tensor<fp16, [2]>"]);
}

fn f16_vec(v: &[f32]) -> ane_mil::TensorValue {
    ane_mil::TensorValue {
        ty: h(&[v.len() as i64]),
        data: ane_mil::TensorData::Fp16(v.iter().map(|&x| half::f16::from_f32(x)).collect()),
    }
}

#[test]
fn clip_checks_alpha_below_beta_from_ios17() {
    let list = || {
        vec![
            ("x", rt(h(&[2]))),
            ("alpha", f16s(1.0)),
            ("beta", f16s(0.5)),
        ]
    };
    assert!(infer_in("clip", Opset::Ios16, list()).is_ok());
    assert_mentions(
        &err_in("clip", Opset::Ios17, list()),
        &["alpha (1) must be smaller than beta (0.5)"],
    );
    let e = err1(
        "clip",
        vec![
            ("x", rt(h(&[2]))),
            ("alpha", f32s(0.0)),
            ("beta", f32s(1.0)),
        ],
    );
    assert_mentions(&e, &["`x` (fp16)", "`alpha` (fp32)"]);
}

#[test]
fn cast_targets_depend_on_opset() {
    let list = |d: &str| vec![("x", rt(h(&[2, 3]))), ("dtype", string(d))];
    assert_eq!(
        infer1("cast", list("int32")).unwrap(),
        ty(DType::Int32, &[2, 3])
    );
    assert_eq!(
        infer_in("cast", Opset::Ios17, list("int8")).unwrap().dtype,
        DType::Int8
    );
    assert_mentions(
        &err_in("cast", Opset::Ios16, list("int8")),
        &["cannot cast to \"int8\" in ios16"],
    );
    assert_mentions(&err1("cast", list("float")), &["\"float\""]);
    let e = err1(
        "cast",
        vec![("x", rt(h(&[2]))), ("dtype", rt(ty(DType::String, &[])))],
    );
    assert_mentions(&e, &["`dtype` must be a compile-time constant"]);
}

#[test]
fn gelu_modes_and_softmax_axis() {
    for mode in ["EXACT", "TANH_APPROXIMATION", "SIGMOID_APPROXIMATION"] {
        assert!(infer1("gelu", vec![("x", rt(h(&[4]))), ("mode", string(mode))]).is_ok());
    }
    assert_mentions(
        &err1("gelu", vec![("x", rt(h(&[4]))), ("mode", string("FAST"))]),
        &["unknown gelu mode \"FAST\""],
    );
    assert_eq!(
        shape_of("softmax", vec![("x", rt(h(&[2, 3, 4]))), ("axis", int(-3))]),
        vec![2, 3, 4]
    );
    assert_eq!(shape_of("softmax", vec![("x", rt(h(&[2, 3])))]), vec![2, 3]);
    assert_mentions(
        &err1("softmax", vec![("x", rt(h(&[2, 3, 4]))), ("axis", int(3))]),
        &["axis 3 is out of range for rank 3"],
    );
}
