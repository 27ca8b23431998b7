//! reshape (iOS15 vs iOS17 zeros), transpose, squeeze, expand_dims, slices, concat, split, tile, pad.

use crate::common::*;
use ane_mil::{DType, Opset};

#[test]
fn reshape_minus_one_and_counts() {
    assert_eq!(
        shape_of(
            "reshape",
            vec![("x", rt(h(&[2, 3, 4]))), ("shape", ints(&[4, -1]))]
        ),
        vec![4, 6]
    );
    assert_mentions(
        &err1(
            "reshape",
            vec![("x", rt(h(&[2, 3, 4]))), ("shape", ints(&[5, 5]))],
        ),
        &["24 elements", "[5, 5] (25 elements)"],
    );
    assert_mentions(
        &err1(
            "reshape",
            vec![("x", rt(h(&[2, 3]))), ("shape", ints(&[-1, -1]))],
        ),
        &["at most one -1"],
    );
    assert_mentions(
        &err1(
            "reshape",
            vec![("x", rt(h(&[2, 3]))), ("shape", ints(&[4, -1]))],
        ),
        &["cannot infer the -1"],
    );
    // Unknown dims: the -1 stays unknown, known dims pass through.
    assert_eq!(
        shape_of(
            "reshape",
            vec![("x", rt(h(&[-1, 4]))), ("shape", ints(&[2, -1, 2]))]
        ),
        vec![2, -1, 2]
    );
    // A runtime shape of known length: rank known, dims unknown.
    assert_eq!(
        shape_of(
            "reshape",
            vec![("x", rt(h(&[6]))), ("shape", rt(ty(DType::Int32, &[3])))]
        ),
        vec![-1, -1, -1]
    );
}

#[test]
fn reshape_zeros_per_opset() {
    let docstring = || vec![("x", rt(h(&[2, 50]))), ("shape", ints(&[1, 0, -1, 0]))];
    assert_mentions(
        &err_in("reshape", Opset::Ios16, docstring()),
        &["a 0 in [1, 0, -1, 0]", "before ios17"],
    );
    assert_eq!(
        dims(&infer_in("reshape", Opset::Ios17, docstring()).unwrap()),
        vec![1, 1, 2, 50]
    );
    // iOS15: 0 copies the dim at the same index.
    let same_rank = || vec![("x", rt(h(&[2, 3, 4]))), ("shape", ints(&[0, 0, -1]))];
    assert_eq!(
        dims(&infer_in("reshape", Opset::Ios15, same_rank()).unwrap()),
        vec![2, 3, 4]
    );
    // iOS17: zeros align to the right: [0, -1] against [2, 3, 4] copies 3 (dim -2), then -1 = 8.
    let right = || vec![("x", rt(h(&[2, 3, 4]))), ("shape", ints(&[0, -1]))];
    assert_eq!(
        dims(&infer_in("reshape", Opset::Ios17, right()).unwrap()),
        vec![3, 8]
    );
    assert!(infer_in("reshape", Opset::Ios15, right()).is_err());
}

#[test]
fn reshape_shape_dtype_per_opset() {
    let int8_shape = || {
        let mut v = ane_mil::TensorValue::int32_vec(&[6]);
        v.ty.dtype = DType::Int8;
        vec![("x", rt(h(&[2, 3]))), ("shape", lit(v))]
    };
    assert_mentions(
        &err_in("reshape", Opset::Ios16, int8_shape()),
        &["`shape` has dtype int8"],
    );
    assert_eq!(
        dims(&infer_in("reshape", Opset::Ios17, int8_shape()).unwrap()),
        vec![6]
    );
}

#[test]
fn transpose_perm() {
    assert_eq!(
        shape_of(
            "transpose",
            vec![("x", rt(h(&[1, 2, 3, 4]))), ("perm", ints(&[0, 2, -1, 1]))]
        ),
        vec![1, 3, 4, 2]
    );
    assert_mentions(
        &err1(
            "transpose",
            vec![("x", rt(h(&[1, 2, 3]))), ("perm", ints(&[0, 0, 1]))],
        ),
        &["axis 0 is repeated"],
    );
    assert_mentions(
        &err1(
            "transpose",
            vec![("x", rt(h(&[1, 2, 3]))), ("perm", ints(&[1, 0]))],
        ),
        &["one entry per dim"],
    );
    assert_mentions(
        &err1(
            "transpose",
            vec![("x", rt(h(&[1, 2]))), ("perm", rt(ty(DType::Int32, &[2])))],
        ),
        &["`perm` must be a compile-time constant"],
    );
}

#[test]
fn squeeze_and_expand_dims() {
    assert_eq!(
        shape_of(
            "squeeze",
            vec![("x", rt(h(&[1, 3, 1, 4]))), ("axes", ints(&[0]))]
        ),
        vec![3, 1, 4]
    );
    assert_eq!(
        shape_of("squeeze", vec![("x", rt(h(&[1, 3, 1, 4])))]),
        vec![3, 4]
    );
    // A listed dim that is not 1 stays (PyTorch behaviour).
    assert_eq!(
        shape_of(
            "squeeze",
            vec![("x", rt(h(&[1, 3, 1, 4]))), ("axes", ints(&[1, -2]))]
        ),
        vec![1, 3, 4]
    );
    assert!(shape_of("squeeze", vec![("x", rt(h(&[1, 1])))]).is_empty());
    assert_eq!(
        shape_of(
            "expand_dims",
            vec![("x", rt(h(&[2, 3]))), ("axes", ints(&[0, -1]))]
        ),
        vec![1, 2, 3, 1]
    );
    assert_eq!(
        shape_of(
            "expand_dims",
            vec![("x", rt(h(&[2, 3]))), ("axes", ints(&[1]))]
        ),
        vec![2, 1, 3]
    );
    assert_eq!(
        shape_of("expand_dims", vec![("x", rt(h(&[]))), ("axes", ints(&[0]))]),
        vec![1]
    );
    assert_mentions(
        &err1(
            "expand_dims",
            vec![("x", rt(h(&[2, 3]))), ("axes", ints(&[3]))],
        ),
        &["axis 3 is out of range for rank 3"],
    );
}

#[test]
fn slice_by_index_masks_and_strides() {
    let slice = |x: &[i64],
                 b: &[i32],
                 e: &[i32],
                 extra: Vec<(&'static str, ane_mil::ops::ResolvedArg<'static>)>| {
        let mut list = vec![("x", rt(h(x))), ("begin", ints(b)), ("end", ints(e))];
        list.extend(extra);
        shape_of("slice_by_index", list)
    };
    assert_eq!(
        slice(&[10, 8], &[2, 0], &[8, 8], vec![("stride", ints(&[2, 1]))]),
        vec![3, 8]
    );
    // x[9:0:-1] has 9 elements; x[::-1] has 10; x[-3::-2] = 7, 5, 3, 1.
    assert_eq!(
        slice(&[10], &[-1], &[0], vec![("stride", ints(&[-1]))]),
        vec![9]
    );
    assert_eq!(
        slice(
            &[10],
            &[0],
            &[0],
            vec![
                ("stride", ints(&[-1])),
                ("begin_mask", bools(&[true])),
                ("end_mask", bools(&[true]))
            ]
        ),
        vec![10]
    );
    assert_eq!(
        slice(
            &[10],
            &[-3],
            &[0],
            vec![("stride", ints(&[-2])), ("end_mask", bools(&[true]))]
        ),
        vec![4]
    );
    // Out-of-range bounds clamp like numpy.
    assert_eq!(slice(&[5], &[-100], &[100], vec![]), vec![5]);
    assert_eq!(slice(&[5], &[4], &[1], vec![]), vec![0]);
    assert_eq!(
        slice(
            &[4, 6],
            &[1, 2],
            &[0, 5],
            vec![("squeeze_mask", bools(&[true, false]))]
        ),
        vec![3]
    );
    assert!(slice(
        &[4, 6],
        &[1, 2],
        &[0, 0],
        vec![("squeeze_mask", bools(&[true, true]))]
    )
    .is_empty());
    // Unknown dims and runtime bounds give unknown sizes.
    assert_eq!(slice(&[-1, 6], &[0, 0], &[2, 3], vec![]), vec![-1, 3]);
    let runtime = vec![
        ("x", rt(h(&[4, 6]))),
        ("begin", rt(ty(DType::Int32, &[2]))),
        ("end", ints(&[2, 3])),
    ];
    assert_eq!(shape_of("slice_by_index", runtime), vec![-1, -1]);
}

#[test]
fn slice_by_index_errors() {
    let e = err1(
        "slice_by_index",
        vec![
            ("x", rt(h(&[4]))),
            ("begin", ints(&[0])),
            ("end", ints(&[2])),
            ("stride", ints(&[0])),
        ],
    );
    assert_mentions(&e, &["stride of dim 0 is 0"]);
    let e = err1(
        "slice_by_index",
        vec![
            ("x", rt(h(&[4, 2]))),
            ("begin", ints(&[0])),
            ("end", ints(&[2])),
        ],
    );
    assert_mentions(&e, &["`begin` tensor<int32, [1]>", "one value per dim"]);
    let e = err1(
        "slice_by_index",
        vec![
            ("x", rt(h(&[4]))),
            ("begin", ints(&[7])),
            ("end", ints(&[8])),
            ("squeeze_mask", bools(&[true])),
        ],
    );
    assert_mentions(&e, &["index 7 of squeezed dim 0"]);
}

#[test]
fn slice_by_size_with_minus_one() {
    assert_eq!(
        shape_of(
            "slice_by_size",
            vec![
                ("x", rt(h(&[4, 6]))),
                ("begin", ints(&[1, 2])),
                ("size", ints(&[2, -1]))
            ]
        ),
        vec![2, 4]
    );
    assert_eq!(
        shape_of(
            "slice_by_size",
            vec![
                ("x", rt(h(&[4, 6]))),
                ("begin", ints(&[-1, 0])),
                ("size", ints(&[1, -1]))
            ]
        ),
        vec![1, 6]
    );
    let runtime_begin = vec![
        ("x", rt(h(&[4, 6]))),
        ("begin", rt(ty(DType::Int32, &[2]))),
        ("size", ints(&[2, -1])),
    ];
    assert_eq!(shape_of("slice_by_size", runtime_begin), vec![2, -1]);
    let e = err1(
        "slice_by_size",
        vec![
            ("x", rt(h(&[4, 6]))),
            ("begin", ints(&[3, 0])),
            ("size", ints(&[2, 6])),
        ],
    );
    assert_mentions(&e, &["dim 0 from 3 with size 2 runs past"]);
}

#[test]
fn concat_and_interleave() {
    let cat = |shapes: &[&[i64]], axis: i32, interleave: bool| {
        let values = shapes.iter().map(|s| rt(h(s))).collect();
        let inputs = args(vec![
            ("axis", int(axis)),
            ("interleave", boolean(interleave)),
        ])
        .with_tuple("values", values);
        ane_mil::ops::infer("concat", Opset::Ios18, &inputs).map(|mut v| dims(&v.remove(0)))
    };
    assert_eq!(cat(&[&[2, 3], &[2, 5]], 1, false).unwrap(), vec![2, 8]);
    assert_eq!(
        cat(&[&[2, 3], &[2, 5], &[2, 1]], -1, false).unwrap(),
        vec![2, 9]
    );
    assert_eq!(cat(&[&[2, 3], &[2, 3]], 1, true).unwrap(), vec![2, 6]);
    assert_eq!(cat(&[&[2, -1], &[-1, 3]], 1, false).unwrap(), vec![2, -1]);
    let e = cat(&[&[2, 3], &[2, 5]], 1, true).unwrap_err().to_string();
    assert_mentions(
        &e,
        &["`values[1]` tensor<fp16, [2, 5]>", "interleave = true"],
    );
    let e = cat(&[&[2, 3], &[3, 3]], 1, false).unwrap_err().to_string();
    assert_mentions(&e, &["all dims but the axis must match"]);
    let mixed = args(vec![("axis", int(0))])
        .with_tuple("values", vec![rt(h(&[2])), rt(ty(DType::Fp32, &[2]))]);
    let e = ane_mil::ops::infer("concat", Opset::Ios18, &mixed)
        .unwrap_err()
        .to_string();
    assert_mentions(&e, &["`values[0]` (fp16)", "`values[1]` (fp32)"]);
    let single = args(vec![("axis", int(0)), ("values", rt(h(&[2])))]);
    let e = ane_mil::ops::infer("concat", Opset::Ios18, &single)
        .unwrap_err()
        .to_string();
    assert_mentions(&e, &["`values` must be a tuple"]);
}

#[test]
fn split_counts_and_sizes() {
    let split = |x: &[i64], extra: Vec<(&'static str, ane_mil::ops::ResolvedArg<'static>)>| {
        let mut list = vec![("x", rt(h(x))), ("axis", int(0))];
        list.extend(extra);
        ane_mil::ops::infer("split", Opset::Ios18, &args(list))
            .map(|v| v.iter().map(dims).collect::<Vec<_>>())
    };
    assert_eq!(
        split(&[6, 4], vec![("num_splits", int(3))]).unwrap(),
        vec![vec![2, 4]; 3]
    );
    assert_eq!(
        split(&[6, 4], vec![("split_sizes", ints(&[1, 5]))]).unwrap(),
        vec![vec![1, 4], vec![5, 4]]
    );
    assert_eq!(
        split(&[-1, 4], vec![("num_splits", int(2))]).unwrap(),
        vec![vec![-1, 4]; 2]
    );
    assert_mentions(
        &split(&[6, 4], vec![("split_sizes", ints(&[1, 4]))])
            .unwrap_err()
            .to_string(),
        &["must sum to dim 0", "(6)"],
    );
    assert_mentions(
        &split(&[7, 4], vec![("num_splits", int(2))])
            .unwrap_err()
            .to_string(),
        &["(7) does not divide"],
    );
    assert_mentions(
        &split(&[6, 4], vec![]).unwrap_err().to_string(),
        &["one of `num_splits` or `split_sizes`"],
    );
}

#[test]
fn tile_and_pad() {
    assert_eq!(
        shape_of("tile", vec![("x", rt(h(&[2, 3]))), ("reps", ints(&[2, 1]))]),
        vec![4, 3]
    );
    assert_eq!(
        shape_of(
            "tile",
            vec![("x", rt(h(&[2, 3]))), ("reps", rt(ty(DType::Int32, &[2])))]
        ),
        vec![-1, -1]
    );
    assert_mentions(
        &err1("tile", vec![("x", rt(h(&[2, 3]))), ("reps", ints(&[2]))]),
        &["one entry per dim"],
    );
    assert_mentions(
        &err1("tile", vec![("x", rt(h(&[2, 3]))), ("reps", ints(&[2, 0]))]),
        &["positive"],
    );
    assert_eq!(
        shape_of(
            "pad",
            vec![("x", rt(h(&[1, 3, 4, 4]))), ("pad", ints(&[1, 1, 2, 0]))]
        ),
        vec![1, 3, 6, 6]
    );
    assert_eq!(
        shape_of(
            "pad",
            vec![("x", rt(h(&[2, 4]))), ("pad", rt(ty(DType::Int32, &[4])))]
        ),
        vec![-1, -1]
    );
    assert_mentions(
        &err1(
            "pad",
            vec![
                ("x", rt(h(&[1, 3, 4, 4]))),
                ("pad", rt(ty(DType::Int32, &[2]))),
            ],
        ),
        &["runtime `pad`", "every dim"],
    );
    assert_mentions(
        &err1(
            "pad",
            vec![
                ("x", rt(h(&[2, 4]))),
                ("pad", ints(&[4, 0])),
                ("mode", string("reflect")),
            ],
        ),
        &["reflect padding (4, 0)", "exceeds 3"],
    );
    assert_mentions(
        &err1(
            "pad",
            vec![("x", rt(h(&[2, 4]))), ("pad", ints(&[1, 1, 1]))],
        ),
        &["(before, after) pair"],
    );
    assert_mentions(
        &err1(
            "pad",
            vec![
                ("x", rt(h(&[2, 4]))),
                ("pad", ints(&[1, 1])),
                ("constant_val", f32s(0.0)),
            ],
        ),
        &["`x` (fp16)", "`constant_val` (fp32)"],
    );
}
