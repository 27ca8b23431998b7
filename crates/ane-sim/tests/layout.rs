//! Data-movement ops: reshape rules per opset, transpose, squeeze / expand_dims, numpy
//! slicing, concat (interleaved too), split, tile, the three pad modes and band_part.

mod common;

use ane_sim::{SimError, SimOptions};
use common::*;

fn iota(n: usize) -> Vec<f32> {
    (0..n).map(|i| i as f32).collect()
}

/// Runs a one-input program on `x = 0, 1, 2, …` and returns (output shape, values).
fn movement(opset: &str, x_ty: &str, n: usize, body: &str, out: &str) -> (Vec<usize>, Vec<f32>) {
    let prog = program(opset, &format!("{x_ty} x"), body, out);
    let mut p = prepare_with(&prog, SimOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    p.set_input_f32("x", &iota(n)).unwrap();
    run(&mut p);
    let shape = p.outputs()[0].ty.known_shape().unwrap();
    (shape, p.output_f32(out).unwrap())
}

#[test]
fn reshape_zeros_follow_the_opset() {
    // iOS15/16: a 0 copies the dim at the same index (len(shape) == rank).
    let (shape, v) = movement(
        "ios16",
        "tensor<fp16, [2, 3, 4]>",
        24,
        "tensor<fp16, [2, 6, 2]> y = reshape(x = x, shape = tensor<int32, [3]>([0, -1, 2]))",
        "y",
    );
    assert_eq!(shape, vec![2, 6, 2]);
    assert_eq!(v, iota(24));
    // iOS17+: zeros are right-aligned against x's shape; unmatched zeros become 1.
    let (shape, v) = movement(
        "ios18",
        "tensor<fp16, [2, 50]>",
        100,
        "tensor<fp16, [1, 1, 2, 50]> y = reshape(x = x, shape = tensor<int32, [4]>([1, 0, -1, 0]))",
        "y",
    );
    assert_eq!(shape, vec![1, 1, 2, 50]);
    assert_eq!(v, iota(100));
    let (shape, _) = movement(
        "ios18",
        "tensor<fp16, [2, 3]>",
        6,
        "tensor<fp16, [3, 2]> y = reshape(x = x, shape = tensor<int32, [2]>([-1, 2]))",
        "y",
    );
    assert_eq!(shape, vec![3, 2]);
}

#[test]
fn reshapes_are_free_aliases() {
    let mut p = prepared(
        "tensor<fp16, [2, 3]> x",
        "tensor<fp16, [6]> a = reshape(x = x, shape = tensor<int32, [1]>([6]))\ntensor<fp16, [1, 6]> b = expand_dims(x = a, axes = tensor<int32, [1]>([0]))\ntensor<fp16, [6]> c = squeeze(x = b, axes = tensor<int32, [1]>([0]))\ntensor<fp16, [6]> d = identity(x = c)\ntensor<fp16, [6]> e = relu(x = d)",
        "e, b",
    );
    assert_eq!(p.kernel_count(), 1);
    p.set_input_f32("x", &[-1.0, 2.0, -3.0, 4.0, -5.0, 6.0])
        .unwrap();
    run(&mut p);
    assert_same(&p.output_f32("e").unwrap(), &[0.0, 2.0, 0.0, 4.0, 0.0, 6.0]);
    assert_same(
        &p.output_f32("b").unwrap(),
        &[-1.0, 2.0, -3.0, 4.0, -5.0, 6.0],
    );
}

#[test]
fn transpose_permutes_dims() {
    let (shape, v) = movement(
        "ios18",
        "tensor<int32, [2, 3, 4]>".replace("int32", "fp32").as_str(),
        24,
        "tensor<fp32, [4, 2, 3]> y = transpose(x = x, perm = tensor<int32, [3]>([-1, 0, 1]))",
        "y",
    );
    assert_eq!(shape, vec![4, 2, 3]);
    let mut expected = Vec::new();
    for k in 0..4 {
        for i in 0..2 {
            for j in 0..3 {
                expected.push((i * 12 + j * 4 + k) as f32);
            }
        }
    }
    assert_eq!(v, expected);
}

#[test]
fn slice_by_index_follows_numpy() {
    // x[1:, ::-2, 2] on [3, 5, 4]: begin_mask on dim 1, squeeze dim 2.
    let (shape, v) = movement(
        "ios18",
        "tensor<fp32, [3, 5, 4]>",
        60,
        r#"tensor<fp32, [2, 3]> y = slice_by_index(x = x, begin = tensor<int32, [3]>([1, 0, 2]), end = tensor<int32, [3]>([3, 0, 3]), stride = tensor<int32, [3]>([1, -2, 1]), begin_mask = tensor<bool, [3]>([false, true, false]), end_mask = tensor<bool, [3]>([false, true, false]), squeeze_mask = tensor<bool, [3]>([false, false, true]))"#,
        "y",
    );
    assert_eq!(shape, vec![2, 3]);
    let expected: Vec<f32> = [1, 2]
        .iter()
        .flat_map(|&i| [4, 2, 0].map(move |j| (i * 20 + j * 4 + 2) as f32))
        .collect();
    assert_eq!(v, expected);
    // Negative begin/end with clamping: x[-100:-1] of 6 elements → 0..5.
    let (_, v) = movement(
        "ios18",
        "tensor<fp32, [6]>",
        6,
        "tensor<fp32, [5]> y = slice_by_index(x = x, begin = tensor<int32, [1]>([-100]), end = tensor<int32, [1]>([-1]))",
        "y",
    );
    assert_eq!(v, iota(5));
}

#[test]
fn slice_by_size_with_constant_and_runtime_begin() {
    let (_, v) = movement(
        "ios18",
        "tensor<fp32, [4, 5]>",
        20,
        "tensor<fp32, [2, 3]> y = slice_by_size(x = x, begin = tensor<int32, [2]>([-3, 2]), size = tensor<int32, [2]>([2, -1]))",
        "y",
    );
    assert_eq!(v, vec![7.0, 8.0, 9.0, 12.0, 13.0, 14.0]);
    let mut p = prepared(
        "tensor<fp32, [4, 5]> x, tensor<int32, [2]> b",
        "tensor<fp32, [2, 2]> y = slice_by_size(x = x, begin = b, size = tensor<int32, [2]>([2, 2]))",
        "y",
    );
    p.set_input_f32("x", &iota(20)).unwrap();
    p.set_input_i32("b", &[1, -2]).unwrap();
    run(&mut p);
    assert_eq!(p.output_f32("y").unwrap(), vec![8.0, 9.0, 13.0, 14.0]);
    p.set_input_i32("b", &[3, 0]).unwrap();
    let err = p.run().unwrap_err();
    assert!(matches!(err, SimError::Run { .. }), "{err}");
    assert!(err.to_string().contains("begin 3 of dim 0"), "{err}");
}

#[test]
fn concat_stacks_or_interleaves() {
    let mut p = prepared(
        "tensor<fp16, [2, 2]> a, tensor<fp16, [2, 1]> b, tensor<fp16, [2, 2]> c",
        "tensor<fp16, [2, 5]> y = concat(values = (a, b, c), axis = int32(-1), interleave = bool(false))\ntensor<fp16, [4, 2]> z = concat(values = (a, c), axis = int32(0), interleave = bool(true))",
        "y, z",
    );
    p.set_input_f32("a", &[1.0, 2.0, 3.0, 4.0]).unwrap();
    p.set_input_f32("b", &[5.0, 6.0]).unwrap();
    p.set_input_f32("c", &[7.0, 8.0, 9.0, 10.0]).unwrap();
    run(&mut p);
    assert_eq!(
        p.output_f32("y").unwrap(),
        vec![1.0, 2.0, 5.0, 7.0, 8.0, 3.0, 4.0, 6.0, 9.0, 10.0]
    );
    // Interleaved rows: a0, c0, a1, c1.
    assert_eq!(
        p.output_f32("z").unwrap(),
        vec![1.0, 2.0, 7.0, 8.0, 3.0, 4.0, 9.0, 10.0]
    );
}

#[test]
fn split_by_count_and_sizes() {
    let mut p = prepared(
        "tensor<int32, [2, 6]> x",
        "tensor<int32, [2, 2]> a, tensor<int32, [2, 2]> b, tensor<int32, [2, 2]> c = split(x = x, axis = int32(1), num_splits = int32(3))\ntensor<int32, [2, 1]> d, tensor<int32, [2, 5]> e = split(x = x, axis = int32(-1), split_sizes = tensor<int32, [2]>([1, 5]))",
        "a, c, d, e",
    );
    p.set_input_i32("x", &(0..12).collect::<Vec<_>>()).unwrap();
    run(&mut p);
    assert_eq!(p.output_i32("a").unwrap(), vec![0, 1, 6, 7]);
    assert_eq!(p.output_i32("c").unwrap(), vec![4, 5, 10, 11]);
    assert_eq!(p.output_i32("d").unwrap(), vec![0, 6]);
    assert_eq!(
        p.output_i32("e").unwrap(),
        vec![1, 2, 3, 4, 5, 7, 8, 9, 10, 11]
    );
}

#[test]
fn tile_repeats_along_each_dim() {
    let (shape, v) = movement(
        "ios18",
        "tensor<fp32, [2, 2]>",
        4,
        "tensor<fp32, [4, 6]> y = tile(x = x, reps = tensor<int32, [2]>([2, 3]))",
        "y",
    );
    assert_eq!(shape, vec![4, 6]);
    let row0 = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0];
    let row1 = [2.0, 3.0, 2.0, 3.0, 2.0, 3.0];
    assert_eq!(v, [row0, row1, row0, row1].concat());
}

#[test]
fn pad_modes() {
    let pads = "pad = tensor<int32, [4]>([1, 0, 2, 1])";
    let (shape, constant) = movement(
        "ios18",
        "tensor<fp32, [2, 3]>",
        6,
        &format!("tensor<fp32, [3, 6]> y = pad(x = x, {pads}, mode = string(\"constant\"), constant_val = fp32(-1.0))"),
        "y",
    );
    assert_eq!(shape, vec![3, 6]);
    let m = -1.0;
    assert_eq!(
        constant,
        vec![m, m, m, m, m, m, m, m, 0.0, 1.0, 2.0, m, m, m, 3.0, 4.0, 5.0, m]
    );
    let (_, reflect) = movement(
        "ios18",
        "tensor<fp32, [2, 3]>",
        6,
        &format!("tensor<fp32, [3, 6]> y = pad(x = x, {pads}, mode = string(\"reflect\"))"),
        "y",
    );
    // Rows: reflect(-1) = row 1; columns -2, -1 → 2, 1; 3 → 1.
    assert_eq!(
        reflect,
        vec![
            5.0, 4.0, 3.0, 4.0, 5.0, 4.0, 2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 5.0, 4.0, 3.0, 4.0, 5.0,
            4.0
        ]
    );
    let (_, replicate) = movement(
        "ios18",
        "tensor<fp32, [2, 3]>",
        6,
        &format!("tensor<fp32, [3, 6]> y = pad(x = x, {pads}, mode = string(\"replicate\"))"),
        "y",
    );
    assert_eq!(
        replicate,
        vec![
            0.0, 0.0, 0.0, 1.0, 2.0, 2.0, 0.0, 0.0, 0.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 5.0,
            5.0
        ]
    );
    // Padding only the last dim (N < rank).
    let (shape, v) = movement(
        "ios18",
        "tensor<fp16, [2, 2]>",
        4,
        "tensor<fp16, [2, 3]> y = pad(x = x, pad = tensor<int32, [2]>([0, 1]))",
        "y",
    );
    assert_eq!(shape, vec![2, 3]);
    assert_eq!(v, vec![0.0, 1.0, 0.0, 2.0, 3.0, 0.0]);
}

#[test]
fn band_part_keeps_the_band() {
    let body = |lower: i32, upper: i32| {
        format!("tensor<fp32, [2, 3, 3]> y = band_part(x = x, lower = int32({lower}), upper = int32({upper}))")
    };
    let ones = |keep: &[u8]| -> Vec<f32> {
        (0..18)
            .map(|i| {
                if keep[i % 9] == 1 {
                    (i + 1) as f32
                } else {
                    0.0
                }
            })
            .collect()
    };
    let run_band = |lower, upper| {
        let mut p = prepared("tensor<fp32, [2, 3, 3]> x", &body(lower, upper), "y");
        p.set_input_f32("x", &(1..=18).map(|v| v as f32).collect::<Vec<_>>())
            .unwrap();
        run(&mut p);
        p.output_f32("y").unwrap()
    };
    assert_eq!(run_band(0, -1), ones(&[1, 1, 1, 0, 1, 1, 0, 0, 1]));
    assert_eq!(run_band(-1, 0), ones(&[1, 0, 0, 1, 1, 0, 1, 1, 1]));
    assert_eq!(run_band(0, 0), ones(&[1, 0, 0, 0, 1, 0, 0, 0, 1]));
    assert_eq!(run_band(1, 0), ones(&[1, 0, 0, 1, 1, 0, 0, 1, 1]));
}
