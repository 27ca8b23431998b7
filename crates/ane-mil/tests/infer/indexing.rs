//! gather, gather_along_axis, scatter_along_axis, one_hot, select, band_part, cumsum, SDPA,
//! quantization and const.

use crate::common::*;
use ane_mil::{DType, Opset, TensorData, TensorValue};

fn i32t(dims: &[i64]) -> ane_mil::TensorType {
    ty(DType::Int32, dims)
}

#[test]
fn gather_shapes() {
    let g = |x: &[i64], idx: &[i64], axis: i32| {
        shape_of(
            "gather",
            vec![
                ("x", rt(h(x))),
                ("indices", rt(i32t(idx))),
                ("axis", int(axis)),
            ],
        )
    };
    assert_eq!(g(&[5, 4, 3], &[2, 6], 1), vec![5, 2, 6, 3]);
    assert_eq!(g(&[5, 4, 3], &[2], -1), vec![5, 4, 2]);
    assert_eq!(g(&[5, 4], &[], 0), vec![4]);
    assert!(g(&[5], &[], 0).is_empty(), "rank-0 result is a scalar");
    assert_mentions(
        &err1(
            "gather",
            vec![
                ("x", rt(h(&[5]))),
                ("indices", rt(i32t(&[2]))),
                ("axis", int(1)),
            ],
        ),
        &["axis 1 is out of range"],
    );
}

#[test]
fn gather_revisions() {
    let batch = || {
        vec![
            ("x", rt(h(&[2, 5, 4]))),
            ("indices", rt(i32t(&[2, 3]))),
            ("axis", int(1)),
            ("batch_dims", int(1)),
        ]
    };
    assert_mentions(
        &err_in("gather", Opset::Ios15, batch()),
        &["unknown argument `batch_dims`"],
    );
    assert_eq!(
        dims(&infer_in("gather", Opset::Ios16, batch()).unwrap()),
        vec![2, 3, 4]
    );
    let int16 = || vec![("x", rt(h(&[5]))), ("indices", rt(ty(DType::Int16, &[2])))];
    assert_mentions(
        &err_in("gather", Opset::Ios15, int16()),
        &["`indices` has dtype int16"],
    );
    assert!(infer_in("gather", Opset::Ios16, int16()).is_ok());
    let int8 = || {
        vec![
            ("x", rt(ty(DType::Int8, &[5]))),
            ("indices", rt(ty(DType::Uint8, &[2]))),
            ("validate_indices", boolean(true)),
        ]
    };
    assert!(infer_in("gather", Opset::Ios16, int8()).is_err());
    assert_eq!(
        infer_in("gather", Opset::Ios17, int8()).unwrap(),
        ty(DType::Int8, &[2])
    );
}

#[test]
fn gather_and_scatter_along_axis() {
    let t = infer1(
        "gather_along_axis",
        vec![
            ("x", rt(h(&[3, 4]))),
            ("indices", rt(i32t(&[3, 2]))),
            ("axis", int(1)),
        ],
    )
    .unwrap();
    assert_eq!(t, h(&[3, 2]));
    let e = err1(
        "gather_along_axis",
        vec![
            ("x", rt(h(&[3, 4]))),
            ("indices", rt(i32t(&[2, 2]))),
            ("axis", int(1)),
        ],
    );
    assert_mentions(
        &e,
        &["`indices` tensor<int32, [2, 2]>", "every dim but axis 1"],
    );
    let scatter = |mode: &str| {
        vec![
            ("data", rt(h(&[3, 4]))),
            ("indices", rt(i32t(&[3, 2]))),
            ("updates", rt(h(&[3, 2]))),
            ("axis", int(-1)),
            ("mode", string(mode)),
        ]
    };
    assert_eq!(
        infer1("scatter_along_axis", scatter("max")).unwrap(),
        h(&[3, 4])
    );
    assert_mentions(
        &err1("scatter_along_axis", scatter("avg")),
        &["unknown mode \"avg\""],
    );
    let mut with_validate = scatter("add");
    with_validate.push(("validate_indices", boolean(false)));
    assert_mentions(
        &err_in("scatter_along_axis", Opset::Ios16, with_validate.clone()),
        &["unknown argument `validate_indices`"],
    );
    assert!(infer_in("scatter_along_axis", Opset::Ios17, with_validate).is_ok());
    let mut bad = scatter("add");
    bad[2] = ("updates", rt(h(&[3, 3])));
    assert_mentions(
        &err1("scatter_along_axis", bad),
        &["`updates` tensor<fp16, [3, 3]>", "shape of `indices`"],
    );
}

#[test]
fn one_hot_shapes_and_dtype() {
    let t = infer1(
        "one_hot",
        vec![
            ("indices", rt(i32t(&[2, 3]))),
            ("one_hot_vector_size", int(5)),
        ],
    )
    .unwrap();
    assert_eq!(t, ty(DType::Int32, &[2, 3, 5]));
    let t = infer1(
        "one_hot",
        vec![
            ("indices", rt(i32t(&[2, 3]))),
            ("one_hot_vector_size", int(5)),
            ("axis", int(0)),
            ("on_value", f16s(1.0)),
            ("off_value", f16s(0.0)),
        ],
    )
    .unwrap();
    assert_eq!(t, h(&[5, 2, 3]));
    let runtime = vec![
        ("indices", rt(i32t(&[2]))),
        ("one_hot_vector_size", rt(i32t(&[]))),
    ];
    assert_eq!(shape_of("one_hot", runtime), vec![2, -1]);
    assert_mentions(
        &err1(
            "one_hot",
            vec![
                ("indices", rt(i32t(&[2]))),
                ("one_hot_vector_size", int(4)),
                ("axis", int(2)),
            ],
        ),
        &["axis 2 is out of range"],
    );
    // The default off_value follows a given on_value's dtype.
    let t = infer1(
        "one_hot",
        vec![
            ("indices", rt(i32t(&[2]))),
            ("one_hot_vector_size", int(4)),
            ("on_value", f32s(2.0)),
        ],
    )
    .unwrap();
    assert_eq!(t.dtype, DType::Fp32);
}

#[test]
fn select_band_part_cumsum() {
    let b = |d: &[i64]| rt(ty(DType::Bool, d));
    assert_eq!(
        shape_of(
            "select",
            vec![
                ("cond", b(&[2, 1])),
                ("a", rt(h(&[2, 3]))),
                ("b", rt(h(&[3])))
            ]
        ),
        vec![2, 3]
    );
    let e = err1(
        "select",
        vec![
            ("cond", b(&[4, 2, 3])),
            ("a", rt(h(&[2, 3]))),
            ("b", rt(h(&[3]))),
        ],
    );
    assert_mentions(&e, &["`cond` tensor<bool, [4, 2, 3]>", "[2, 3]"]);
    assert_mentions(
        &err1(
            "select",
            vec![
                ("cond", rt(h(&[2]))),
                ("a", rt(h(&[2]))),
                ("b", rt(h(&[2]))),
            ],
        ),
        &["`cond` has dtype fp16"],
    );
    assert_eq!(
        shape_of(
            "band_part",
            vec![("x", rt(h(&[2, 4, 4]))), ("lower", int(0))]
        ),
        vec![2, 4, 4]
    );
    assert_mentions(&err1("band_part", vec![("x", rt(h(&[4])))]), &["rank ≥ 2"]);
    assert_eq!(
        shape_of("cumsum", vec![("x", rt(h(&[3, 4]))), ("axis", int(-1))]),
        vec![3, 4]
    );
    assert_mentions(
        &err1("cumsum", vec![("x", rt(h(&[3, 4]))), ("axis", int(-2))]),
        &["cumsum accepts -1 or 0..2"],
    );
}

#[test]
fn scaled_dot_product_attention() {
    let sdpa = |mask: Option<ane_mil::TensorType>| {
        let mut list = vec![
            ("query", rt(h(&[2, 4, 8, 16]))),
            ("key", rt(h(&[2, 4, 10, 16]))),
            ("value", rt(h(&[2, 4, 10, 32]))),
        ];
        if let Some(m) = mask {
            list.push(("attn_mask", rt(m)));
        }
        list
    };
    assert_eq!(
        dims(&infer1("scaled_dot_product_attention", sdpa(None)).unwrap()),
        vec![2, 4, 8, 32]
    );
    assert!(infer1(
        "scaled_dot_product_attention",
        sdpa(Some(ty(DType::Bool, &[8, 10])))
    )
    .is_ok());
    assert_mentions(
        &err1(
            "scaled_dot_product_attention",
            sdpa(Some(ty(DType::Bool, &[8, 9]))),
        ),
        &["`attn_mask` tensor<bool, [8, 9]>", "S = 10"],
    );
    let e = err1(
        "scaled_dot_product_attention",
        vec![
            ("query", rt(h(&[2, 8, 16]))),
            ("key", rt(h(&[2, 10, 12]))),
            ("value", rt(h(&[2, 10, 4]))),
        ],
    );
    assert_mentions(&e, &["embedding dims differ"]);
    assert_mentions(
        &err_in("scaled_dot_product_attention", Opset::Ios17, sdpa(None)),
        &["not available in opset ios17 (introduced in ios18)"],
    );
}

fn int8s(dims: &[i64]) -> ane_mil::TensorType {
    ty(DType::Int8, dims)
}

#[test]
fn quantize_and_dequantize() {
    let q = |scale: ane_mil::ops::ResolvedArg<'static>, axis: Option<i32>| {
        let mut list = vec![
            ("input", rt(h(&[4, 8]))),
            ("scale", scale),
            ("output_dtype", string("int8")),
        ];
        list.extend(axis.map(|a| ("axis", int(a))));
        list
    };
    assert_eq!(
        infer1("quantize", q(f16s(0.1), None)).unwrap(),
        int8s(&[4, 8])
    );
    assert_eq!(
        infer1("quantize", q(opaque(h(&[8])), Some(1))).unwrap(),
        int8s(&[4, 8])
    );
    assert_mentions(
        &err1("quantize", q(opaque(h(&[8])), None)),
        &["`axis`", "required"],
    );
    assert_mentions(
        &err1("quantize", q(f16s(0.1), Some(0))),
        &["`axis`", "left out"],
    );
    assert_mentions(&err1("quantize", q(f16s(0.0), None)), &["all zeros"]);
    assert_mentions(
        &err1("quantize", q(opaque(h(&[4])), Some(1))),
        &["`scale` tensor<fp16, [4]>", "axis 1"],
    );
    assert_mentions(
        &err_in("quantize", Opset::Ios16, q(f16s(0.1), None)),
        &["introduced in ios17"],
    );
    let zp = TensorValue {
        ty: ty(DType::Uint8, &[]),
        data: TensorData::Int(vec![3]),
    };
    let mut mismatched = q(f16s(0.1), None);
    mismatched.push(("zero_point", lit(zp)));
    assert_mentions(
        &err1("quantize", mismatched),
        &[
            "`zero_point`",
            "dtype uint8 must equal output_dtype \"int8\"",
        ],
    );
    let t = infer1(
        "dequantize",
        vec![
            ("input", rt(int8s(&[4, 8]))),
            ("scale", opaque(ty(DType::Fp32, &[4]))),
            ("axis", int(0)),
        ],
    )
    .unwrap();
    assert_eq!(t, ty(DType::Fp32, &[4, 8]));
}

#[test]
fn constexpr_affine_dequantize_and_const() {
    let list = || {
        vec![
            ("quantized_data", opaque(int8s(&[16, 8]))),
            (
                "zero_point",
                lit(TensorValue {
                    ty: int8s(&[]),
                    data: TensorData::Int(vec![0]),
                }),
            ),
            ("scale", opaque(h(&[16]))),
            ("axis", int(0)),
        ]
    };
    assert_eq!(
        infer_in("constexpr_affine_dequantize", Opset::Ios16, list()).unwrap(),
        h(&[16, 8])
    );
    assert_mentions(
        &err_in("constexpr_affine_dequantize", Opset::Ios15, list()),
        &["introduced in ios16"],
    );
    let mut bad = list();
    bad[2] = ("scale", opaque(h(&[8])));
    assert_mentions(
        &err1("constexpr_affine_dequantize", bad),
        &["`scale` tensor<fp16, [8]>"],
    );
    let v = TensorValue::int32_vec(&[1, 2, 3]);
    assert_eq!(infer1("const", vec![("val", lit(v))]).unwrap(), i32t(&[3]));
}
