//! matmul, linear, the normalizations and the reductions.

use crate::common::*;
use ane_mil::{DType, Opset};

fn mm(x: &[i64], y: &[i64], tx: bool, ty_: bool) -> Result<Vec<i64>, String> {
    infer1(
        "matmul",
        vec![
            ("x", rt(h(x))),
            ("y", rt(h(y))),
            ("transpose_x", boolean(tx)),
            ("transpose_y", boolean(ty_)),
        ],
    )
    .map(|t| dims(&t))
    .map_err(|e| e.to_string())
}

#[test]
fn matmul_numpy_rules() {
    assert_eq!(
        mm(&[10, 4, 3], &[5, 10, 3, 2], false, false).unwrap(),
        vec![5, 10, 4, 2]
    );
    assert_eq!(mm(&[3], &[3], false, false).unwrap(), Vec::<i64>::new());
    assert_eq!(mm(&[3], &[3, 4], false, false).unwrap(), vec![4]);
    assert_eq!(mm(&[2, 3], &[3], false, false).unwrap(), vec![2]);
    assert_eq!(mm(&[2, 3], &[4, 3], false, true).unwrap(), vec![2, 4]);
    assert_eq!(mm(&[3, 2], &[3, 4], true, false).unwrap(), vec![2, 4]);
    assert_eq!(
        mm(&[2, 1, 3, 4, 5], &[3, 5, 7], false, false).unwrap(),
        vec![2, 1, 3, 4, 7]
    );
    assert_eq!(
        mm(&[1, 4, 5], &[2, 3, 5, 6], false, false).unwrap(),
        vec![2, 3, 4, 6]
    );
    assert_eq!(
        mm(&[-1, 4, 5], &[5, -1], false, false).unwrap(),
        vec![-1, 4, -1]
    );
}

#[test]
fn matmul_errors() {
    assert_mentions(
        &mm(&[2, 3], &[4, 5], false, false).unwrap_err(),
        &["inner dims differ", "[2, 3]", "[4, 5]"],
    );
    assert_mentions(
        &mm(&[3], &[3, 4], true, false).unwrap_err(),
        &["transpose_x", "rank-1"],
    );
    assert_mentions(
        &mm(&[2, 2, 3], &[3, 3, 4], false, false).unwrap_err(),
        &["batch dims", "[2]", "[3]"],
    );
}

#[test]
fn matmul_mixed_dtypes_need_exactly_one_const_from_ios17() {
    let w = || opaque(ty(DType::Fp32, &[3, 4]));
    assert_mentions(
        &err_in(
            "matmul",
            Opset::Ios16,
            vec![("x", rt(h(&[2, 3]))), ("y", w())],
        ),
        &["`x` (fp16)", "`y` (fp32)"],
    );
    let t = infer_in(
        "matmul",
        Opset::Ios17,
        vec![("x", rt(h(&[2, 3]))), ("y", w())],
    )
    .unwrap();
    assert_eq!(
        t,
        h(&[2, 4]),
        "the output takes the non-const operand's dtype"
    );
    let e = err_in(
        "matmul",
        Opset::Ios17,
        vec![("x", rt(h(&[2, 3]))), ("y", rt(ty(DType::Fp32, &[3, 4])))],
    );
    assert_mentions(&e, &["exactly one of them is a const"]);
}

#[test]
fn linear_shapes() {
    let t = infer1(
        "linear",
        vec![("x", rt(h(&[2, 5, 8]))), ("weight", opaque(h(&[16, 8])))],
    )
    .unwrap();
    assert_eq!(t, h(&[2, 5, 16]));
    let e = err1(
        "linear",
        vec![("x", rt(h(&[2, 7]))), ("weight", opaque(h(&[16, 8])))],
    );
    assert_mentions(&e, &["last dim of `x`", "[16, 8]"]);
    let e = err1(
        "linear",
        vec![("x", rt(h(&[2, 8]))), ("weight", rt(h(&[16, 8])))],
    );
    assert_mentions(&e, &["`weight` must be a compile-time constant"]);
    let e = err1(
        "linear",
        vec![
            ("x", rt(h(&[2, 8]))),
            ("weight", opaque(h(&[16, 8]))),
            ("bias", opaque(h(&[8]))),
        ],
    );
    assert_mentions(&e, &["`bias` tensor<fp16, [8]>", "D_out = 16"]);
}

#[test]
fn layer_norm_axes_and_affine_shapes() {
    let base = |axes: &[i32], gamma: &[i64]| {
        vec![
            ("x", rt(h(&[2, 5, 8]))),
            ("axes", ints(axes)),
            ("gamma", opaque(h(gamma))),
            ("beta", opaque(h(gamma))),
        ]
    };
    assert_eq!(
        dims(&infer1("layer_norm", base(&[-1], &[8])).unwrap()),
        vec![2, 5, 8]
    );
    assert_eq!(
        dims(&infer1("layer_norm", base(&[2, 1], &[5, 8])).unwrap()),
        vec![2, 5, 8]
    );
    assert_mentions(
        &err1("layer_norm", base(&[-1], &[5])),
        &["`gamma` tensor<fp16, [5]>", "shape [8]"],
    );
    assert_eq!(
        shape_of("layer_norm", vec![("x", rt(h(&[3, 4])))]),
        vec![3, 4]
    );
}

#[test]
fn norm_param_domains_split_in_ios17() {
    let list = || {
        vec![
            ("x", rt(h(&[1, 4, 2, 2]))),
            ("mean", opaque(ty(DType::Fp32, &[4]))),
            ("variance", opaque(ty(DType::Fp32, &[4]))),
            ("epsilon", f32s(1e-5)),
        ]
    };
    assert!(infer_in("batch_norm", Opset::Ios16, list()).is_err());
    assert_eq!(
        infer_in("batch_norm", Opset::Ios17, list()).unwrap(),
        h(&[1, 4, 2, 2])
    );
    // Within U, epsilon must match gamma/mean (a reported ANE compiler rule).
    let mut bad = list();
    bad[3] = ("epsilon", f16s(1e-5));
    assert_mentions(
        &err_in("batch_norm", Opset::Ios17, bad),
        &["`mean` (fp32)", "`epsilon` (fp16)", "domain U"],
    );
}

#[test]
fn batch_and_instance_norm_shapes() {
    let e = err1(
        "batch_norm",
        vec![
            ("x", rt(h(&[4, 3]))),
            ("mean", opaque(h(&[3]))),
            ("variance", opaque(h(&[3]))),
        ],
    );
    assert_mentions(&e, &["rank 3 to 5"]);
    let e = err1(
        "batch_norm",
        vec![
            ("x", rt(h(&[1, 4, 3]))),
            ("mean", opaque(h(&[3]))),
            ("variance", opaque(h(&[4]))),
        ],
    );
    assert_mentions(&e, &["`mean` tensor<fp16, [3]>", "shape [4]"]);
    assert_eq!(
        shape_of(
            "instance_norm",
            vec![("x", rt(h(&[2, 3, 5, 5]))), ("gamma", opaque(h(&[3])))]
        ),
        vec![2, 3, 5, 5]
    );
    assert_mentions(
        &err1("instance_norm", vec![("x", rt(h(&[1, 2, 3, 4, 5])))]),
        &["rank 3 to 4"],
    );
}

#[test]
fn reductions_keep_dims_and_negative_axes() {
    let red = |op: &str, axes: Option<&[i32]>, keep: bool| {
        let mut list = vec![("x", rt(h(&[2, 3, 4]))), ("keep_dims", boolean(keep))];
        if let Some(a) = axes {
            list.push(("axes", ints(a)));
        }
        shape_of(op, list)
    };
    for op in [
        "reduce_sum",
        "reduce_mean",
        "reduce_max",
        "reduce_min",
        "reduce_l2_norm",
    ] {
        assert_eq!(red(op, Some(&[1]), false), vec![2, 4], "{op}");
        assert_eq!(red(op, Some(&[1]), true), vec![2, 1, 4], "{op}");
        assert_eq!(red(op, Some(&[-1, 0]), false), vec![3], "{op}");
        assert!(
            red(op, None, false).is_empty(),
            "{op}: default axes reduce everything"
        );
        assert_eq!(red(op, None, true), vec![1, 1, 1], "{op}");
    }
    let int_sum = infer1(
        "reduce_sum",
        vec![("x", rt(ty(DType::Int32, &[4]))), ("axes", ints(&[0]))],
    )
    .unwrap();
    assert_eq!(int_sum.dtype, DType::Int32);
    assert_mentions(
        &err1(
            "reduce_sum",
            vec![("x", rt(h(&[2, 3]))), ("axes", ints(&[1, -1]))],
        ),
        &["axis -1 is repeated"],
    );
    assert_mentions(
        &err1(
            "reduce_mean",
            vec![("x", rt(h(&[2, 3]))), ("axes", ints(&[2]))],
        ),
        &["axis 2 is out of range for rank 2"],
    );
}

#[test]
fn argmax_output_dtype() {
    let t = infer1("reduce_argmax", vec![("x", rt(h(&[2, 3, 4])))]).unwrap();
    assert_eq!(t, ty(DType::Int32, &[2, 3]));
    let t = infer1(
        "reduce_argmax",
        vec![
            ("x", rt(h(&[2, 3, 4]))),
            ("axis", int(1)),
            ("keep_dims", boolean(true)),
        ],
    )
    .unwrap();
    assert_eq!(t, ty(DType::Int32, &[2, 1, 4]));
    let list = || vec![("x", rt(h(&[5]))), ("output_dtype", string("uint16"))];
    assert_eq!(
        infer_in("reduce_argmax", Opset::Ios17, list()).unwrap(),
        ty(DType::Uint16, &[])
    );
    assert_mentions(
        &err_in("reduce_argmax", Opset::Ios16, list()),
        &["unknown argument `output_dtype`"],
    );
    assert_mentions(
        &err1("reduce_argmax", vec![("x", rt(h(&[])))]),
        &["rank ≥ 1"],
    );
}
