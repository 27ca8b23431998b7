//! conv, conv_transpose and pooling output sizes for every pad type, stride, dilation and mode.

use crate::common::*;
use ane_mil::ops::ResolvedArg;
use ane_mil::{DType, Opset};

fn conv(
    x: &[i64],
    w: &[i64],
    extra: Vec<(&'static str, ResolvedArg<'static>)>,
) -> Vec<(&'static str, ResolvedArg<'static>)> {
    let mut list = vec![("x", rt(h(x))), ("weight", opaque(h(w)))];
    list.extend(extra);
    list
}

#[test]
fn conv_valid_with_strides_and_dilations() {
    assert_eq!(
        shape_of("conv", conv(&[1, 3, 32, 32], &[8, 3, 3, 3], vec![])),
        vec![1, 8, 30, 30]
    );
    assert_eq!(
        shape_of(
            "conv",
            conv(
                &[1, 3, 32, 32],
                &[8, 3, 3, 3],
                vec![("strides", ints(&[2, 2]))]
            )
        ),
        vec![1, 8, 15, 15]
    );
    assert_eq!(
        shape_of(
            "conv",
            conv(
                &[1, 3, 32, 32],
                &[8, 3, 3, 3],
                vec![("dilations", ints(&[2, 1]))]
            )
        ),
        vec![1, 8, 28, 30]
    );
}

#[test]
fn conv_same_and_same_lower_give_ceil() {
    for pt in ["same", "same_lower"] {
        let s = shape_of(
            "conv",
            conv(
                &[1, 3, 31, 31],
                &[8, 3, 3, 3],
                vec![("pad_type", string(pt)), ("strides", ints(&[2, 2]))],
            ),
        );
        assert_eq!(s, vec![1, 8, 16, 16], "{pt}");
    }
    let list = conv(
        &[1, 3, 31, 31],
        &[8, 3, 3, 3],
        vec![("pad_type", string("same_lower"))],
    );
    assert_mentions(
        &err_in("conv", Opset::Ios15, list),
        &["`same_lower` is not available in ios15"],
    );
}

#[test]
fn conv_custom_padding() {
    let s = shape_of(
        "conv",
        conv(
            &[1, 3, 32, 32],
            &[8, 3, 3, 3],
            vec![("pad_type", string("custom")), ("pad", ints(&[1, 2, 0, 1]))],
        ),
    );
    assert_eq!(s, vec![1, 8, 33, 31]);
    // pad is ignored unless pad_type is custom.
    let s = shape_of(
        "conv",
        conv(
            &[1, 3, 32, 32],
            &[8, 3, 3, 3],
            vec![("pad_type", string("valid")), ("pad", ints(&[5, 5, 5, 5]))],
        ),
    );
    assert_eq!(s, vec![1, 8, 30, 30]);
    let e = err1(
        "conv",
        conv(
            &[1, 3, 32, 32],
            &[8, 3, 3, 3],
            vec![("pad_type", string("custom")), ("pad", ints(&[1, 1]))],
        ),
    );
    assert_mentions(&e, &["`pad`", "expected 4 values"]);
}

#[test]
fn conv_one_and_three_spatial_dims() {
    assert_eq!(
        shape_of("conv", conv(&[1, 4, 10], &[2, 4, 3], vec![])),
        vec![1, 2, 8]
    );
    let s = shape_of(
        "conv",
        conv(
            &[1, 2, 4, 5, 6],
            &[3, 2, 2, 2, 2],
            vec![("strides", ints(&[1, 2, 3]))],
        ),
    );
    assert_eq!(s, vec![1, 3, 3, 2, 2]);
    assert_mentions(
        &err1("conv", conv(&[4, 10], &[2, 4], vec![])),
        &["rank 3 to 5", "[4, 10]"],
    );
}

#[test]
fn conv_groups() {
    assert_eq!(
        shape_of(
            "conv",
            conv(&[1, 3, 8, 8], &[6, 1, 3, 3], vec![("groups", int(3))])
        ),
        vec![1, 6, 6, 6]
    );
    assert_mentions(
        &err1(
            "conv",
            conv(&[1, 3, 8, 8], &[6, 1, 3, 3], vec![("groups", int(2))]),
        ),
        &["C_in = 3", "not divisible by groups = 2"],
    );
    assert_mentions(
        &err1(
            "conv",
            conv(&[1, 3, 8, 8], &[6, 3, 3, 3], vec![("groups", int(3))]),
        ),
        &["C_in/groups = 3/3 = 1", "[6, 3, 3, 3]"],
    );
}

#[test]
fn conv_unknown_dims_propagate() {
    let s = shape_of(
        "conv",
        conv(
            &[-1, 3, -1, 32],
            &[8, 3, 3, 3],
            vec![("strides", ints(&[2, 2]))],
        ),
    );
    assert_eq!(s, vec![-1, 8, -1, 15]);
    let s = shape_of(
        "conv",
        conv(
            &[1, 3, -1, 32],
            &[8, 3, 3, 3],
            vec![("pad_type", string("same"))],
        ),
    );
    assert_eq!(s, vec![1, 8, -1, 32]);
}

#[test]
fn conv_errors() {
    assert_mentions(
        &err1("conv", conv(&[1, 3, 2, 2], &[8, 3, 3, 3], vec![])),
        &["kernel extent 3 is larger than the padded input 2"],
    );
    let dynamic = vec![
        ("x", rt(h(&[1, 3, 8, 8]))),
        ("weight", rt(h(&[8, 3, 3, 3]))),
        ("dilations", ints(&[2, 2])),
    ];
    assert_mentions(&err1("conv", dynamic), &["runtime weight", "dilations"]);
    assert_mentions(
        &err1(
            "conv",
            conv(
                &[1, 3, 8, 8],
                &[8, 3, 3, 3],
                vec![("bias", opaque(h(&[4])))],
            ),
        ),
        &["`bias` tensor<fp16, [4]>", "C_out = 8"],
    );
    assert_mentions(
        &err1(
            "conv",
            conv(
                &[1, 3, 8, 8],
                &[8, 3, 3, 3],
                vec![("pad_type", string("full"))],
            ),
        ),
        &["unknown pad_type \"full\""],
    );
    assert_mentions(
        &err1(
            "conv",
            conv(
                &[1, 3, 8, 8],
                &[8, 3, 3, 3],
                vec![("strides", ints(&[0, 1]))],
            ),
        ),
        &["`strides`", "positive"],
    );
}

#[test]
fn conv_weight_domain_splits_in_ios17() {
    let list = || {
        vec![
            ("x", rt(h(&[1, 3, 8, 8]))),
            ("weight", opaque(ty(DType::Fp32, &[8, 3, 1, 1]))),
        ]
    };
    assert_mentions(
        &err_in("conv", Opset::Ios16, list()),
        &["`x` (fp16)", "`weight` (fp32)"],
    );
    let t = infer_in("conv", Opset::Ios17, list()).unwrap();
    assert_eq!(t, h(&[1, 8, 8, 8]), "output takes x's dtype");
    // iOS15/16 conv needs a const bias; iOS17 does not.
    let bias = || {
        vec![
            ("x", rt(h(&[1, 3, 8, 8]))),
            ("weight", rt(h(&[8, 3, 1, 1]))),
            ("bias", rt(h(&[8]))),
        ]
    };
    assert_mentions(
        &err_in("conv", Opset::Ios16, bias()),
        &["`bias` must be a compile-time constant"],
    );
    assert!(infer_in("conv", Opset::Ios17, bias()).is_ok());
}

fn deconv(
    extra: Vec<(&'static str, ResolvedArg<'static>)>,
) -> Vec<(&'static str, ResolvedArg<'static>)> {
    let mut list = vec![
        ("x", rt(h(&[1, 4, 5, 5]))),
        ("weight", opaque(h(&[4, 2, 3, 3]))),
        ("strides", ints(&[2, 2])),
    ];
    list.extend(extra);
    list
}

#[test]
fn conv_transpose_sizes_per_pad_type() {
    assert_eq!(
        shape_of("conv_transpose", deconv(vec![])),
        vec![1, 2, 11, 11]
    );
    assert_eq!(
        shape_of("conv_transpose", deconv(vec![("pad_type", string("same"))])),
        vec![1, 2, 10, 10]
    );
    assert_eq!(
        shape_of(
            "conv_transpose",
            deconv(vec![
                ("pad_type", string("custom")),
                ("pad", ints(&[1, 1, 1, 1]))
            ])
        ),
        vec![1, 2, 9, 9]
    );
    assert_eq!(
        shape_of(
            "conv_transpose",
            deconv(vec![("output_shape", ints(&[1, 2, 12, 12]))])
        ),
        vec![1, 2, 12, 12]
    );
    assert_eq!(
        shape_of("conv_transpose", deconv(vec![("groups", int(2))])),
        vec![1, 4, 11, 11]
    );
    assert_eq!(
        shape_of("conv_transpose", deconv(vec![("dilations", ints(&[2, 1]))])),
        vec![1, 2, 13, 11]
    );
}

#[test]
fn conv_transpose_errors() {
    assert_mentions(
        &err1(
            "conv_transpose",
            deconv(vec![("output_shape", ints(&[1, 3, 12, 12]))]),
        ),
        &["C_out = 2"],
    );
    assert_mentions(
        &err1(
            "conv_transpose",
            deconv(vec![("pad_type", string("same_lower"))]),
        ),
        &["not supported"],
    );
    let wrong = vec![
        ("x", rt(h(&[1, 3, 5, 5]))),
        ("weight", opaque(h(&[4, 2, 3, 3]))),
    ];
    assert_mentions(
        &err1("conv_transpose", wrong),
        &["dim 0 of `weight`", "C_in"],
    );
    let runtime = || {
        vec![
            ("x", rt(h(&[1, 4, 5, 5]))),
            ("weight", rt(h(&[4, 2, 3, 3]))),
        ]
    };
    assert_mentions(
        &err_in("conv_transpose", Opset::Ios16, runtime()),
        &["`weight` must be a compile-time constant"],
    );
    assert_eq!(
        dims(&infer_in("conv_transpose", Opset::Ios17, runtime()).unwrap()),
        vec![1, 2, 7, 7]
    );
}

fn pool(
    x: &[i64],
    k: &[i32],
    s: &[i32],
    pad_type: &str,
    extra: Vec<(&'static str, ResolvedArg<'static>)>,
) -> Vec<(&'static str, ResolvedArg<'static>)> {
    let mut list = vec![
        ("x", rt(h(x))),
        ("kernel_sizes", ints(k)),
        ("strides", ints(s)),
        ("pad_type", string(pad_type)),
    ];
    list.extend(extra);
    list
}

#[test]
fn pooling_floor_and_ceil() {
    assert_eq!(
        shape_of(
            "max_pool",
            pool(&[1, 1, 7, 7], &[3, 3], &[2, 2], "valid", vec![])
        ),
        vec![1, 1, 3, 3]
    );
    assert_eq!(
        shape_of("avg_pool", pool(&[1, 1, 6], &[3], &[2], "valid", vec![])),
        vec![1, 1, 2]
    );
    assert_eq!(
        shape_of(
            "avg_pool",
            pool(
                &[1, 1, 6],
                &[3],
                &[2],
                "valid",
                vec![("ceil_mode", boolean(true))]
            )
        ),
        vec![1, 1, 3]
    );
}

#[test]
fn pooling_ceil_decrement_rule() {
    let custom = |d: i64, k: i32, ceil: bool| {
        pool(
            &[1, 1, d],
            &[k],
            &[2],
            "custom",
            vec![("pad", ints(&[1, 1])), ("ceil_mode", boolean(ceil))],
        )
    };
    // D=5, k=2, s=2, pad 1+1: ceil gives 4, but the 4th window would start at 6 ≥ D + pad_before.
    assert_eq!(shape_of("max_pool", custom(5, 2, true)), vec![1, 1, 3]);
    assert_eq!(shape_of("max_pool", custom(5, 2, false)), vec![1, 1, 3]);
    // D=6, k=3, s=2, pad 1+1: the 4th window starts at 6 < 7, so it stays.
    assert_eq!(shape_of("max_pool", custom(6, 3, true)), vec![1, 1, 4]);
    assert_eq!(shape_of("max_pool", custom(6, 3, false)), vec![1, 1, 3]);
}

#[test]
fn pooling_same_and_restrictions() {
    assert_eq!(
        shape_of(
            "avg_pool",
            pool(&[1, 2, 7, 7], &[3, 3], &[2, 2], "same", vec![])
        ),
        vec![1, 2, 4, 4]
    );
    let lower = || pool(&[1, 2, 7, 7], &[2, 2], &[1, 1], "same_lower", vec![]);
    assert_eq!(
        dims(&infer_in("max_pool", Opset::Ios16, lower()).unwrap()),
        vec![1, 2, 7, 7]
    );
    assert_mentions(&err_in("max_pool", Opset::Ios15, lower()), &["same_lower"]);
    let ceil = vec![("ceil_mode", boolean(true))];
    assert_mentions(
        &err1(
            "max_pool",
            pool(&[1, 1, 7, 7], &[3, 3], &[2, 2], "same", ceil.clone()),
        ),
        &["ceil mode", "same"],
    );
    assert_mentions(
        &err1(
            "max_pool",
            pool(&[1, 1, 4, 4, 4], &[2, 2, 2], &[1, 1, 1], "valid", ceil),
        ),
        &["only 1-D and 2-D"],
    );
    let asym = vec![("pad", ints(&[0, 1])), ("ceil_mode", boolean(true))];
    assert_mentions(
        &err1("max_pool", pool(&[1, 1, 7], &[3], &[2], "custom", asym)),
        &["symmetric"],
    );
    assert_mentions(
        &err1(
            "max_pool",
            pool(&[1, 1, 7, 7], &[3], &[2, 2], "valid", vec![]),
        ),
        &["`kernel_sizes`", "expected 2 values"],
    );
    let missing = vec![("x", rt(h(&[1, 1, 7, 7]))), ("kernel_sizes", ints(&[3, 3]))];
    assert_mentions(
        &err1("max_pool", missing),
        &["missing required argument `pad_type`"],
    );
    assert_eq!(
        shape_of(
            "max_pool",
            pool(&[1, 1, -1, 9], &[3, 3], &[3, 3], "valid", vec![])
        ),
        vec![1, 1, -1, 3]
    );
}
