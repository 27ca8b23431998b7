//! Reductions, argmax, softmax, the normalizations and cumsum, against f64 references.

mod common;

use common::*;

/// Groups the elements of `x` (row-major `shape`) by their position in the kept dims: one group
/// per output element, in output order, each in increasing order of the reduced axes.
fn groups(x: &[f32], shape: &[usize], axes: &[usize]) -> Vec<Vec<f64>> {
    let strides = ane_cpu::shape::row_major_strides(shape);
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let count = |dims: &[usize]| dims.iter().map(|&d| shape[d]).product::<usize>();
    let offsets = |dims: &[usize], mut i: usize| {
        let mut at = 0;
        for &d in dims.iter().rev() {
            at += (i % shape[d]) * strides[d];
            i /= shape[d];
        }
        at
    };
    (0..count(&kept))
        .map(|o| {
            let base = offsets(&kept, o);
            (0..count(axes))
                .map(|r| f64::from(x[base + offsets(axes, r)]))
                .collect()
        })
        .collect()
}

fn reduce(
    op: &str,
    dtype: &str,
    shape: &[usize],
    axes: &[i32],
    keep: bool,
    out_shape: &[usize],
    x: &[f32],
) -> Vec<f32> {
    let dims = |s: &[usize]| format!("{s:?}");
    let mut p = prepared(
        &format!("tensor<{dtype}, {}> x", dims(shape)),
        &format!(
            "tensor<{dtype}, {}> y = {op}(x = x, axes = tensor<int32, [{}]>({axes:?}), keep_dims = bool({keep}))",
            dims(out_shape),
            axes.len()
        ),
        "y",
    );
    p.set_input_f32("x", x).unwrap();
    run(&mut p);
    p.output_f32("y").unwrap()
}

/// An f64 reduction of one group.
type Reference = fn(&[f64]) -> f64;
/// Axes as written, the same sorted and normalized, keep_dims, output shape.
type AxesCase = (&'static [i32], &'static [usize], bool, &'static [usize]);

#[test]
fn reductions_over_contiguous_and_scattered_axes() {
    let shape = [3, 4, 5];
    let x = random16(60, 31, 4.0);
    let ops: [(&str, Reference); 5] = [
        ("reduce_sum", |v| v.iter().sum()),
        ("reduce_mean", |v| v.iter().sum::<f64>() / v.len() as f64),
        ("reduce_max", |v| {
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        }),
        ("reduce_min", |v| {
            v.iter().copied().fold(f64::INFINITY, f64::min)
        }),
        ("reduce_l2_norm", |v| {
            v.iter().map(|a| a * a).sum::<f64>().sqrt()
        }),
    ];
    let cases: [AxesCase; 4] = [
        (&[1], &[1], false, &[3, 5]),
        (&[0, 2], &[0, 2], true, &[1, 4, 1]),
        (&[-1], &[2], true, &[3, 4, 1]),
        (&[0, 1, 2], &[0, 1, 2], false, &[]),
    ];
    for (op, f) in ops {
        for (axes, sorted, keep, out_shape) in cases {
            let got = reduce(op, "fp16", &shape, axes, keep, out_shape, &x);
            let expected: Vec<f32> = groups(&x, &shape, sorted)
                .iter()
                .map(|g| h64(f(g)))
                .collect();
            assert_same(&got, &expected);
            let got32 = reduce(op, "fp32", &shape, axes, keep, out_shape, &x);
            let exact: Vec<f64> = groups(&x, &shape, sorted).iter().map(|g| f(g)).collect();
            assert_close(&got32, &exact, 1e-7);
        }
    }
}

#[test]
fn reductions_of_empty_axes_give_identities_and_nan_propagates() {
    let x: [f32; 0] = [];
    assert_same(
        &reduce("reduce_sum", "fp32", &[2, 0], &[1], false, &[2], &x),
        &[0.0, 0.0],
    );
    let mean = reduce("reduce_mean", "fp32", &[2, 0], &[1], false, &[2], &x);
    assert!(mean.iter().all(|v| v.is_nan()));
    assert_same(
        &reduce("reduce_max", "fp16", &[1, 0], &[1], false, &[1], &x),
        &[f32::NEG_INFINITY],
    );
    let with_nan = [1.0, f32::NAN, 3.0];
    assert!(reduce("reduce_max", "fp16", &[3], &[0], false, &[], &with_nan)[0].is_nan());
    assert!(reduce("reduce_sum", "fp16", &[3], &[0], false, &[], &with_nan)[0].is_nan());
    // A sum that overflows fp16 becomes inf only at the end (accumulated wider).
    let big = [60000.0, 60000.0, -60000.0];
    assert_same(
        &reduce("reduce_sum", "fp16", &[3], &[0], false, &[], &big),
        &[h64(60000.0)],
    );
}

#[test]
fn int_reductions() {
    let mut p = prepared(
        "tensor<int32, [2, 3]> x",
        "tensor<int32, [2]> s = reduce_sum(x = x, axes = tensor<int32, [1]>([1]))\ntensor<int32, [2]> m = reduce_mean(x = x, axes = tensor<int32, [1]>([1]))\ntensor<int32, [3]> mx = reduce_max(x = x, axes = tensor<int32, [1]>([0]))",
        "s, m, mx",
    );
    p.set_input_i32("x", &[1, 2, 4, -7, 0, 0]).unwrap();
    run(&mut p);
    assert_eq!(p.output_i32("s").unwrap(), vec![7, -7]);
    assert_eq!(
        p.output_i32("m").unwrap(),
        vec![2, -2],
        "truncated toward zero"
    );
    assert_eq!(p.output_i32("mx").unwrap(), vec![1, 2, 4]);
}

#[test]
fn argmax_takes_the_first_maximum_and_nan_wins() {
    let mut p = prepared(
        "tensor<fp16, [3, 4]> x",
        "tensor<int32, [3]> a = reduce_argmax(x = x, axis = int32(-1))\ntensor<int32, [1, 4]> b = reduce_argmax(x = x, axis = int32(0), keep_dims = bool(true))\ntensor<uint16, [3]> c = reduce_argmax(x = x, axis = int32(1), output_dtype = string(\"uint16\"))",
        "a, b, c",
    );
    let nan = f32::NAN;
    p.set_input_f32(
        "x",
        &[
            1.0, 5.0, 5.0, 2.0, -1.0, -1.0, -1.0, -1.0, 0.0, nan, 9.0, nan,
        ],
    )
    .unwrap();
    run(&mut p);
    assert_eq!(p.output_i32("a").unwrap(), vec![1, 0, 1]);
    assert_eq!(p.output_i32("b").unwrap(), vec![0, 2, 2, 2]);
    assert_eq!(p.output_i32("c").unwrap(), vec![1, 0, 1]);
    assert_eq!(p.output_bytes("c").unwrap().len(), 6);
}

fn softmax_ref(row: &[f64]) -> Vec<f64> {
    let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = row.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

#[test]
fn softmax_along_any_axis() {
    let x = random16(2 * 3 * 4, 32, 10.0);
    for (axis, sorted) in [(-1, 2), (1, 1)] {
        let mut p = prepared(
            "tensor<fp16, [2, 3, 4]> x",
            &format!("tensor<fp16, [2, 3, 4]> y = softmax(x = x, axis = int32({axis}))"),
            "y",
        );
        p.set_input_f32("x", &x).unwrap();
        run(&mut p);
        let got = p.output_f32("y").unwrap();
        // Scatter each group's softmax back to its positions.
        let shape = [2, 3, 4];
        let strides = [12, 4, 1];
        let kept: Vec<usize> = (0..3).filter(|&d| d != sorted).collect();
        let gs = groups(&x, &shape, &[sorted]);
        for (o, g) in gs.iter().enumerate() {
            let (i0, i1) = (o / shape[kept[1]], o % shape[kept[1]]);
            let base = i0 * strides[kept[0]] + i1 * strides[kept[1]];
            for (r, e) in softmax_ref(g).iter().enumerate() {
                let gv = got[base + r * strides[sorted]];
                assert!(ulps16(gv, h64(*e)) <= 1, "axis {axis}: {gv} vs {e}");
            }
        }
    }
}

#[test]
fn softmax_of_a_row_of_minus_infinity_is_nan() {
    let mut p = prepared(
        "tensor<fp32, [2, 3]> x",
        "tensor<fp32, [2, 3]> y = softmax(x = x)",
        "y",
    );
    let inf = f32::NEG_INFINITY;
    p.set_input_f32("x", &[inf, inf, inf, 1000.0, 1000.0, inf])
        .unwrap();
    run(&mut p);
    let y = p.output_f32("y").unwrap();
    assert!(y[..3].iter().all(|v| v.is_nan()));
    assert_same(&y[3..], &[0.5, 0.5, 0.0]);
}

fn normalize(v: &[f64], eps: f64) -> Vec<f64> {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n;
    v.iter().map(|a| (a - mean) / (var + eps).sqrt()).collect()
}

#[test]
fn layer_norm_over_channels_last_axis_and_scattered_axes() {
    // [1, C, 1, S] normalized over C (the ANE layout), with gamma and beta.
    let (c, s) = (8, 5);
    let x = random16(c * s, 33, 3.0);
    let gamma = random16(c, 34, 2.0);
    let beta = random16(c, 35, 1.0);
    let fmt = |v: &[f32]| {
        v.iter()
            .map(|x| format!("{x:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut p = prepared(
        "tensor<fp16, [1, 8, 1, 5]> x",
        &format!(
            "tensor<fp16, [1, 8, 1, 5]> y = layer_norm(x = x, axes = tensor<int32, [1]>([1]), gamma = tensor<fp16, [8]>([{}]), beta = tensor<fp16, [8]>([{}]), epsilon = fp16(0.001))",
            fmt(&gamma),
            fmt(&beta)
        ),
        "y",
    );
    p.set_input_f32("x", &x).unwrap();
    run(&mut p);
    let got = p.output_f32("y").unwrap();
    let eps = f64::from(h64(0.001));
    for si in 0..s {
        let col: Vec<f64> = (0..c).map(|ci| f64::from(x[ci * s + si])).collect();
        for (ci, n) in normalize(&col, eps).iter().enumerate() {
            let e = h64(n * f64::from(gamma[ci]) + f64::from(beta[ci]));
            assert!(
                ulps16(got[ci * s + si], e) <= 1,
                "{} vs {e}",
                got[ci * s + si]
            );
        }
    }
    // Axes 0 and 2 of [2, 3, 4] (not adjacent) in fp32, default epsilon 1e-5.
    let x = random(24, 36, 2.0);
    let mut p = prepared(
        "tensor<fp32, [2, 3, 4]> x",
        "tensor<fp32, [2, 3, 4]> y = layer_norm(x = x, axes = tensor<int32, [2]>([2, 0]))",
        "y",
    );
    p.set_input_f32("x", &x).unwrap();
    run(&mut p);
    let got = p.output_f32("y").unwrap();
    for j in 0..3 {
        let idx: Vec<usize> = (0..2)
            .flat_map(|i| (0..4).map(move |k| i * 12 + j * 4 + k))
            .collect();
        let vals: Vec<f64> = idx.iter().map(|&i| f64::from(x[i])).collect();
        let expected = normalize(&vals, f64::from(1e-5f32));
        let g: Vec<f32> = idx.iter().map(|&i| got[i]).collect();
        assert_close(&g, &expected, 1e-6);
    }
}

#[test]
fn batch_and_instance_norm() {
    let x = random16(2 * 3 * 4, 37, 3.0);
    let mut p = prepared(
        "tensor<fp16, [2, 3, 4]> x",
        r#"tensor<fp16, [2, 3, 4]> b = batch_norm(x = x, mean = tensor<fp16, [3]>([1.0, -1.0, 0.5]), variance = tensor<fp16, [3]>([4.0, 1.0, 0.25]), gamma = tensor<fp16, [3]>([1.0, 2.0, -1.0]), beta = tensor<fp16, [3]>([0.0, 1.0, 2.0]), epsilon = fp16(0.0))
        tensor<fp16, [2, 3, 4]> n = instance_norm(x = x, gamma = tensor<fp16, [3]>([1.0, 2.0, -1.0]), beta = tensor<fp16, [3]>([0.0, 1.0, 2.0]))"#,
        "b, n",
    );
    p.set_input_f32("x", &x).unwrap();
    run(&mut p);
    let (mean, var, gamma, beta) = (
        [1.0, -1.0, 0.5],
        [4.0, 1.0, 0.25],
        [1.0, 2.0, -1.0],
        [0.0, 1.0, 2.0],
    );
    let b = p.output_f32("b").unwrap();
    let n = p.output_f32("n").unwrap();
    let eps = f64::from(h64(1e-5));
    for i in 0..2 {
        for c in 0..3 {
            let plane: Vec<f64> = (0..4).map(|k| f64::from(x[(i * 3 + c) * 4 + k])).collect();
            let normed = normalize(&plane, eps);
            for k in 0..4 {
                let at = (i * 3 + c) * 4 + k;
                let e = gamma[c] * (plane[k] - mean[c]) / f64::sqrt(var[c]) + beta[c];
                assert!(ulps16(b[at], h64(e)) <= 1, "batch {} vs {e}", b[at]);
                let e = gamma[c] * normed[k] + beta[c];
                assert!(ulps16(n[at], h64(e)) <= 1, "instance {} vs {e}", n[at]);
            }
        }
    }
}

#[test]
fn cumsum_forward_reverse_exclusive() {
    let mut p = prepared(
        "tensor<fp32, [2, 3]> x, tensor<int32, [4]> i",
        r#"tensor<fp32, [2, 3]> a = cumsum(x = x, axis = int32(1))
        tensor<fp32, [2, 3]> b = cumsum(x = x, axis = int32(0), exclusive = bool(true))
        tensor<fp32, [2, 3]> c = cumsum(x = x, axis = int32(-1), reverse = bool(true), exclusive = bool(true))
        tensor<int32, [4]> d = cumsum(x = i, reverse = bool(true))"#,
        "a, b, c, d",
    );
    p.set_input_f32("x", &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        .unwrap();
    p.set_input_i32("i", &[1, 2, i32::MAX, 4]).unwrap();
    run(&mut p);
    assert_eq!(
        p.output_f32("a").unwrap(),
        vec![1.0, 3.0, 6.0, 4.0, 9.0, 15.0]
    );
    assert_eq!(
        p.output_f32("b").unwrap(),
        vec![0.0, 0.0, 0.0, 1.0, 2.0, 3.0]
    );
    assert_eq!(
        p.output_f32("c").unwrap(),
        vec![5.0, 3.0, 0.0, 11.0, 6.0, 0.0]
    );
    let wrapped = i32::MAX.wrapping_add(4);
    assert_eq!(
        p.output_i32("d").unwrap(),
        vec![wrapped.wrapping_add(3), wrapped.wrapping_add(2), wrapped, 4]
    );
}
