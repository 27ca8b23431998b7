//! Reduction tests against naive f64 loops over arbitrary axes.

use super::*;
use crate::tests_support::{assert_close, random_vec};

/// Naive reduction: every element adds into the output position of its kept dims.
fn reference(op: ReduceOp, x: &[f32], shape: &[usize], axes: &[usize]) -> Vec<f64> {
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let out_len: usize = kept.iter().map(|&d| shape[d]).product();
    let count: usize = axes.iter().map(|&d| shape[d]).product();
    let mut groups: Vec<Vec<f64>> = vec![Vec::new(); out_len];
    for (flat, &v) in x.iter().enumerate() {
        let mut rest = flat;
        let mut idx = vec![0; shape.len()];
        for d in (0..shape.len()).rev() {
            idx[d] = rest % shape[d];
            rest /= shape[d];
        }
        let out = kept.iter().fold(0, |acc, &d| acc * shape[d] + idx[d]);
        groups[out].push(v as f64);
    }
    groups
        .iter()
        .map(|g| {
            let sum: f64 = g.iter().sum();
            match op {
                ReduceOp::Sum => sum,
                ReduceOp::Mean => sum / count as f64,
                ReduceOp::Prod => g.iter().product(),
                ReduceOp::Max => g.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                ReduceOp::Min => g.iter().copied().fold(f64::INFINITY, f64::min),
                ReduceOp::L1Norm => g.iter().map(|v| v.abs()).sum(),
                ReduceOp::L2Norm => g.iter().map(|v| v * v).sum::<f64>().sqrt(),
                ReduceOp::SumSquare => g.iter().map(|v| v * v).sum(),
                ReduceOp::LogSum => sum.ln(),
                ReduceOp::LogSumExp => g.iter().map(|v| v.exp()).sum::<f64>().ln(),
            }
        })
        .collect()
}

const OPS: [ReduceOp; 10] = [
    ReduceOp::Sum,
    ReduceOp::Mean,
    ReduceOp::Prod,
    ReduceOp::Max,
    ReduceOp::Min,
    ReduceOp::L1Norm,
    ReduceOp::L2Norm,
    ReduceOp::SumSquare,
    ReduceOp::LogSum,
    ReduceOp::LogSumExp,
];

#[test]
fn reductions_match_reference_over_axes() {
    let cases: &[(&[usize], Option<&[isize]>)] = &[
        (&[5], None),
        (&[3, 4], Some(&[1])),
        (&[3, 4], Some(&[0])),
        (&[2, 3, 4], Some(&[0, 2])),
        (&[2, 3, 4], Some(&[-1, -2])),
        (&[2, 3, 4], Some(&[])),
        (&[2, 1, 3, 1, 4], Some(&[1, 3])),
        (&[2, 3, 1, 4, 2], Some(&[0, 2, 4])),
        (&[2, 3, 5, 4, 2], Some(&[1, 2])),
        (&[1, 1, 1], None),
        (&[40, 3, 200], Some(&[1])),
    ];
    for (shape, axes) in cases {
        // Positive data keeps LogSum defined; the sign pattern still exercises Min/L1.
        let x: Vec<f32> = random_vec(shape.iter().product(), 7)
            .iter()
            .map(|v| v + 1.2)
            .collect();
        let axes_n = match axes {
            Some(a) => normalize_axes("t", a, shape.len()).unwrap(),
            None => (0..shape.len()).collect(),
        };
        for op in OPS {
            for keep in [false, true] {
                let got = reduce_f32(op, TensorRef::new(&x, shape).unwrap(), *axes, keep).unwrap();
                assert_eq!(got.shape, reduced_shape(shape, &axes_n, keep));
                assert_close(&got.data, &reference(op, &x, shape, &axes_n), 2e-6);
            }
        }
    }
}

#[test]
fn long_rows_are_summed_in_index_order_in_f64() {
    let n = 5 * (1 << 16) + 17;
    let x: Vec<f32> = random_vec(n, 3);
    let got = reduce_f32(
        ReduceOp::Sum,
        TensorRef::new(&x, &[n]).unwrap(),
        None,
        false,
    )
    .unwrap();
    assert!(got.shape.is_empty());
    let exact: f64 = x.iter().map(|&v| v as f64).sum();
    assert_eq!(got.data[0], exact as f32);
    let mean = reduce_f32(
        ReduceOp::Mean,
        TensorRef::new(&x, &[n]).unwrap(),
        Some(&[0]),
        true,
    )
    .unwrap();
    assert_eq!(mean.shape, vec![1]);
}

#[test]
fn empty_axes_and_nan() {
    let empty: [f32; 0] = [];
    let x = TensorRef::new(&empty, &[2, 0]).unwrap();
    assert_eq!(
        reduce_f32(ReduceOp::Sum, x, Some(&[1]), false)
            .unwrap()
            .data,
        vec![0.0, 0.0]
    );
    assert_eq!(
        reduce_f32(ReduceOp::Max, x, Some(&[1]), false)
            .unwrap()
            .data,
        vec![f32::NEG_INFINITY; 2]
    );
    assert!(argmax_f32(x, 1, false).is_err());
    let with_nan = [1.0, f32::NAN, 3.0];
    let t = TensorRef::new(&with_nan, &[3]).unwrap();
    assert!(reduce_f32(ReduceOp::Max, t, None, false).unwrap().data[0].is_nan());
    assert!(reduce_f32(ReduceOp::Min, t, None, false).unwrap().data[0].is_nan());
    assert!(reduce_f32(ReduceOp::Sum, t, Some(&[3]), false).is_err());
    assert!(reduce_f32(ReduceOp::Sum, t, Some(&[0, -1]), false).is_err());
}

#[test]
fn argmax_takes_the_first_maximum() {
    let ties = [1.0, 3.0, 3.0, 2.0];
    assert_eq!(
        argmax_f32(TensorRef::new(&ties, &[4]).unwrap(), 0, false)
            .unwrap()
            .data,
        vec![1]
    );
    assert_eq!(
        argmin_f32(TensorRef::new(&ties, &[4]).unwrap(), -1, true)
            .unwrap()
            .shape,
        vec![1]
    );
    let nan = [1.0, f32::NAN, 5.0, f32::NAN];
    assert_eq!(
        argmax_f32(TensorRef::new(&nan, &[4]).unwrap(), 0, false)
            .unwrap()
            .data,
        vec![1]
    );
    let grid = [1.0, 5.0, 3.0, 5.0, 0.0, 9.0];
    let x = TensorRef::new(&grid, &[3, 2]).unwrap();
    let along0 = argmax_f32(x, 0, false).unwrap();
    assert_eq!((along0.data, along0.shape), (vec![1, 2], vec![2]));
    let along1 = argmax_f32(x, 1, true).unwrap();
    assert_eq!((along1.data, along1.shape), (vec![1, 1, 1], vec![3, 1]));
    assert_eq!(argmin_f32(x, 0, false).unwrap().data, vec![2, 0]);
}

fn reference_softmax(x: &[f32], shape: &[usize], axis: usize, log: bool) -> Vec<f64> {
    let r = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let outer: usize = shape[..axis].iter().product();
    let mut out = vec![0f64; x.len()];
    for o in 0..outer {
        for j in 0..inner {
            let at = |i: usize| (o * r + i) * inner + j;
            let m = (0..r)
                .map(|i| x[at(i)] as f64)
                .fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = (0..r).map(|i| (x[at(i)] as f64 - m).exp()).sum();
            for i in 0..r {
                let v = x[at(i)] as f64 - m;
                out[at(i)] = if log { v - s.ln() } else { v.exp() / s };
            }
        }
    }
    out
}

#[test]
fn softmax_matches_reference() {
    for (shape, axis) in [
        (vec![2, 3, 4], 1isize),
        (vec![2, 3, 4], -1),
        (vec![1, 7], 0),
        (vec![5, 1, 300], 2),
        (vec![1, 64, 1, 9], 1),
    ] {
        let x: Vec<f32> = random_vec(shape.iter().product(), 9)
            .iter()
            .map(|v| v * 20.0)
            .collect();
        let a = normalize_axis("t", axis, shape.len()).unwrap();
        for log in [false, true] {
            let t = TensorRef::new(&x, &shape).unwrap();
            let got = if log {
                log_softmax_f32(t, axis)
            } else {
                softmax_f32(t, axis)
            }
            .unwrap();
            assert_eq!(got.shape, shape);
            assert_close(&got.data, &reference_softmax(&x, &shape, a, log), 1e-6);
        }
    }
    let big = [1000.0, 1001.0];
    let s = softmax_f32(TensorRef::new(&big, &[2]).unwrap(), 0).unwrap();
    assert_close(
        &s.data,
        &[1.0 / (1.0 + 1f64.exp()), 1.0 / (1.0 + (-1f64).exp())],
        1e-6,
    );
}

#[test]
fn int32_block_reductions() {
    // [outer 1, r 3, inner 2]
    let b = Blocks {
        outer: 1,
        r: 3,
        inner: 2,
    };
    let x = [i32::MAX, -7, 1, 2, 4, -3];
    let mut out = [0i32; 2];
    let mut run = |op| {
        reduce_blocks_i32(op, b, &x, &mut out).unwrap();
        out
    };
    assert_eq!(run(ReduceOp::Sum), [i32::MAX.wrapping_add(5), -8]);
    assert_eq!(run(ReduceOp::Max), [i32::MAX, 2]);
    assert_eq!(run(ReduceOp::Min), [1, -7]);
    assert_eq!(
        run(ReduceOp::Mean),
        [((i32::MAX as i64 + 5) / 3) as i32, -2]
    );
    assert_eq!(run(ReduceOp::L2Norm), [i32::MAX, 7]);
    assert!(reduce_blocks_i32(ReduceOp::Prod, b, &x, &mut out).is_err());
    let empty = Blocks { r: 0, ..b };
    reduce_blocks_i32(ReduceOp::Mean, empty, &[], &mut out).unwrap();
    assert_eq!(out, [0, 0]);
    reduce_blocks_i32(ReduceOp::Max, empty, &[], &mut out).unwrap();
    assert_eq!(out, [i32::MIN, i32::MIN]);
}

#[test]
fn block_kernels_check_lengths() {
    let b = Blocks {
        outer: 2,
        r: 2,
        inner: 2,
    };
    let x = [0f32; 8];
    let mut cols = [0f64; 4];
    let mut out = [0f32; 4];
    assert!(reduce_blocks_f32(ReduceOp::Sum, b, &x, &mut cols, &mut out).is_ok());
    assert!(reduce_blocks_f32(ReduceOp::Sum, b, &x[1..], &mut cols, &mut out).is_err());
    assert!(reduce_blocks_f32(ReduceOp::Sum, b, &x, &mut cols[..1], &mut out).is_err());
    let mut full = [0f32; 8];
    assert!(softmax_blocks_f32(b, &x, &mut full, &mut cols, false).is_ok());
    assert!(softmax_blocks_f32(b, &x, &mut full, &mut cols[..3], false).is_err());
    let mut idx = [0i32; 4];
    assert!(argmax_blocks(b, &[3i32, 1, 4, 1, 5, 9, 2, 6], &mut idx).is_ok());
    assert_eq!(idx, [1, 0, 0, 0]);
    assert!(argmax_blocks(Blocks { r: 0, ..b }, &[0f32; 0], &mut idx).is_err());
}
