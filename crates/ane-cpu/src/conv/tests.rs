//! Convolution tests against naive f64 loops, including the adjoint identity between conv and
//! conv_transpose.

use super::*;
use crate::convert::{f16_to_f32_vec, f32_to_f16_vec};
use crate::tests_support::{assert_close, random_vec};

/// Multi-index of `flat` in a row-major array of `shape`.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = flat % shape[d];
        flat /= shape[d];
    }
    idx
}

fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i)
}

fn reference_conv(
    x: &[f32],
    xs: &[usize],
    w: &[f32],
    ws: &[usize],
    bias: Option<&[f32]>,
    p: &ConvParams,
) -> (Vec<f64>, Vec<usize>) {
    let s = xs.len() - 2;
    let out_sp: Vec<usize> = (0..s)
        .map(|d| {
            conv_output_size(
                xs[d + 2],
                ws[d + 2],
                p.strides[d],
                p.dilations[d],
                p.pads[d],
            )
            .unwrap()
        })
        .collect();
    let (cout, cin_g) = (ws[0], ws[1]);
    let cout_g = cout / p.groups;
    let mut os = vec![xs[0], cout];
    os.extend(&out_sp);
    let total: usize = os.iter().product();
    let taps: usize = ws[2..].iter().product();
    let mut out = vec![0f64; total];
    for (flat, o) in out.iter_mut().enumerate() {
        let idx = unravel(flat, &os);
        let (n, co) = (idx[0], idx[1]);
        let g = co / cout_g;
        let mut acc = bias.map_or(0.0, |b| b[co] as f64);
        for ci in 0..cin_g {
            for t in 0..taps {
                let k = unravel(t, &ws[2..]);
                let mut xi = vec![n, g * cin_g + ci];
                let mut inside = true;
                for d in 0..s {
                    let pos = (idx[d + 2] * p.strides[d] + k[d] * p.dilations[d]) as isize
                        - p.pads[d].0 as isize;
                    inside &= pos >= 0 && (pos as usize) < xs[d + 2];
                    xi.push(pos.max(0) as usize);
                }
                if inside {
                    let mut wi = vec![co, ci];
                    wi.extend(&k);
                    acc += x[ravel(&xi, xs)] as f64 * w[ravel(&wi, ws)] as f64;
                }
            }
        }
        *o = acc;
    }
    (out, os)
}

fn reference_conv_transpose(
    x: &[f32],
    xs: &[usize],
    w: &[f32],
    ws: &[usize],
    bias: Option<&[f32]>,
    p: &ConvTransposeParams,
) -> (Vec<f64>, Vec<usize>) {
    let s = xs.len() - 2;
    let cin = xs[1];
    let cin_g = cin / p.groups;
    let cout_g = ws[1];
    let mut os = vec![xs[0], cout_g * p.groups];
    os.extend(&p.output_size);
    let mut out = vec![0f64; os.iter().product()];
    if let Some(b) = bias {
        for (flat, o) in out.iter_mut().enumerate() {
            *o = b[unravel(flat, &os)[1]] as f64;
        }
    }
    let taps: usize = ws[2..].iter().product();
    for (flat, &xv) in x.iter().enumerate() {
        let idx = unravel(flat, xs);
        let (n, ci) = (idx[0], idx[1]);
        let g = ci / cin_g;
        for col in 0..cout_g {
            for t in 0..taps {
                let k = unravel(t, &ws[2..]);
                let mut oi = vec![n, g * cout_g + col];
                let mut inside = true;
                for d in 0..s {
                    let pos = (idx[d + 2] * p.strides[d] + k[d] * p.dilations[d]) as isize
                        - p.pads_before[d] as isize;
                    inside &= pos >= 0 && (pos as usize) < p.output_size[d];
                    oi.push(pos.max(0) as usize);
                }
                if inside {
                    let mut wi = vec![ci, col];
                    wi.extend(&k);
                    out[ravel(&oi, &os)] += xv as f64 * w[ravel(&wi, ws)] as f64;
                }
            }
        }
    }
    (out, os)
}

fn check_conv(xs: &[usize], ws: &[usize], with_bias: bool, p: &ConvParams) {
    let x = random_vec(xs.iter().product(), 11);
    let w = random_vec(ws.iter().product(), 12);
    let b = random_vec(ws[0], 13);
    let bias = with_bias.then_some(&b[..]);
    let got = conv_f32(
        TensorRef::new(&x, xs).unwrap(),
        TensorRef::new(&w, ws).unwrap(),
        bias,
        p,
    )
    .unwrap();
    let (expected, shape) = reference_conv(&x, xs, &w, ws, bias, p);
    assert_eq!(got.shape, shape, "{xs:?} * {ws:?}");
    assert_close(&got.data, &expected, 1e-5);
    // The plan API computes the same bits, on one thread or many.
    let plan = ConvPlan::conv(xs, ws, p).unwrap();
    assert_eq!(plan.output_shape(), got.shape);
    for parallel in [false, true] {
        let mut out = vec![f32::NAN; got.data.len()];
        plan.run_f32(&x, &w, bias, &mut out, parallel).unwrap();
        assert_eq!(
            bits(&out),
            bits(&got.data),
            "{xs:?} * {ws:?}, parallel {parallel}"
        );
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn params(
    strides: &[usize],
    dilations: &[usize],
    pads: &[(usize, usize)],
    groups: usize,
) -> ConvParams {
    ConvParams {
        strides: strides.to_vec(),
        dilations: dilations.to_vec(),
        pads: pads.to_vec(),
        groups,
    }
}

#[test]
fn conv_matches_reference_over_shapes_and_options() {
    check_conv(
        &[2, 3, 10],
        &[4, 3, 3],
        true,
        &params(&[2], &[2], &[(1, 2)], 1),
    );
    check_conv(&[2, 3, 10], &[4, 3, 1], false, &ConvParams::new(1));
    check_conv(
        &[2, 4, 7, 6],
        &[6, 2, 3, 2],
        true,
        &params(&[2, 1], &[1, 2], &[(1, 0), (2, 1)], 2),
    );
    // Depthwise with channel multiplier 2 and `same` padding.
    let same = [
        same_padding(5, 3, 1, 1, false),
        same_padding(5, 3, 1, 1, false),
    ];
    check_conv(
        &[1, 4, 5, 5],
        &[8, 1, 3, 3],
        true,
        &params(&[1, 1], &[1, 1], &same, 4),
    );
    check_conv(&[3, 5, 4, 4], &[7, 5, 1, 1], true, &ConvParams::new(2));
    check_conv(
        &[3, 6, 4, 4],
        &[6, 2, 1, 1],
        false,
        &params(&[1, 1], &[1, 1], &[(0, 0); 2], 3),
    );
    check_conv(
        &[2, 5, 9, 9],
        &[4, 5, 1, 1],
        false,
        &params(&[2, 3], &[1, 1], &[(0, 0); 2], 1),
    );
    check_conv(
        &[1, 2, 4, 5, 3],
        &[3, 2, 2, 3, 1],
        true,
        &params(&[1, 2, 1], &[1, 1, 2], &[(1, 0), (1, 1), (0, 2)], 1),
    );
    check_conv(&[1, 1, 1, 1], &[1, 1, 1, 1], true, &ConvParams::new(2));
    // Kernel reaching only into padding for some outputs.
    check_conv(
        &[1, 1, 2, 2],
        &[1, 1, 3, 3],
        false,
        &params(&[1, 1], &[1, 1], &[(3, 3), (2, 3)], 1),
    );
    // Several L2 bands of output rows, with strides, dilation and uneven padding.
    check_conv(
        &[1, 8, 64, 63],
        &[8, 8, 3, 3],
        true,
        &params(&[2, 2], &[2, 1], &[(2, 1), (1, 1)], 1),
    );
    // Enough tasks for the parallel-over-images path, and one big image for the parallel GEMM.
    check_conv(
        &[8, 4, 9, 9],
        &[6, 2, 3, 3],
        true,
        &params(&[1, 1], &[1, 1], &[(1, 1); 2], 2),
    );
    check_conv(
        &[1, 16, 40, 40],
        &[32, 16, 3, 3],
        true,
        &params(&[1, 1], &[1, 1], &[(1, 1); 2], 1),
    );
}

#[test]
fn conv_f16_rounds_the_f32_result() {
    let (xs, ws) = ([2, 3, 6, 6], [4, 3, 3, 3]);
    let x = f32_to_f16_vec(&random_vec(216, 5));
    let w = f32_to_f16_vec(&random_vec(108, 6));
    let p = params(&[1, 1], &[1, 1], &[(1, 1); 2], 1);
    let got = conv_f16(
        TensorRef::new(&x, &xs).unwrap(),
        TensorRef::new(&w, &ws).unwrap(),
        None,
        &p,
    )
    .unwrap();
    let (x32, w32) = (f16_to_f32_vec(&x), f16_to_f32_vec(&w));
    let expected = conv_f32(
        TensorRef::new(&x32, &xs).unwrap(),
        TensorRef::new(&w32, &ws).unwrap(),
        None,
        &p,
    )
    .unwrap();
    assert_eq!(got.data, f32_to_f16_vec(&expected.data));
}

#[test]
fn bad_conv_arguments_are_errors() {
    let x = vec![0f32; 2 * 4 * 5 * 5];
    let xs = [2, 4, 5, 5];
    let x = TensorRef::new(&x, &xs).unwrap();
    let w = vec![0f32; 6 * 3 * 3 * 3];
    let w_bad = TensorRef::new(&w, &[6, 3, 3, 3]).unwrap();
    assert!(
        conv_f32(x, w_bad, None, &ConvParams::new(2)).is_err(),
        "channel mismatch"
    );
    let w = vec![0f32; 6 * 2 * 3 * 3];
    let ws = [6, 2, 3, 3];
    let w2 = TensorRef::new(&w, &ws).unwrap();
    assert!(
        conv_f32(x, w2, None, &params(&[1, 1], &[1, 1], &[(0, 0); 2], 3)).is_err(),
        "groups"
    );
    assert!(
        conv_f32(
            x,
            w2,
            Some(&[0.0; 5]),
            &params(&[1, 1], &[1, 1], &[(0, 0); 2], 2)
        )
        .is_err(),
        "bias"
    );
    assert!(
        conv_f32(x, w2, None, &params(&[0, 1], &[1, 1], &[(0, 0); 2], 2)).is_err(),
        "stride 0"
    );
    assert!(
        conv_f32(x, w2, None, &params(&[1, 1], &[3, 3], &[(0, 0); 2], 2)).is_err(),
        "too big"
    );
    assert!(
        conv_f32(x, w2, None, &ConvParams::new(1)).is_err(),
        "param lengths"
    );
}

#[test]
fn same_padding_follows_mil() {
    assert_eq!(same_padding(7, 3, 3, 1, false), (1, 1));
    assert_eq!(same_padding(2, 2, 1, 1, false), (0, 1));
    assert_eq!(same_padding(2, 2, 1, 1, true), (1, 0));
    assert_eq!(same_padding(10, 3, 2, 2, false), (1, 2));
    assert_eq!(same_padding(5, 1, 2, 1, false), (0, 0));
    assert_eq!(conv_output_size(7, 3, 3, 1, (1, 1)), Some(3));
    assert_eq!(conv_transpose_output_size(4, 3, 2, 1, (1, 1)), Some(7));
}

fn check_conv_transpose(xs: &[usize], ws: &[usize], with_bias: bool, p: &ConvTransposeParams) {
    let x = random_vec(xs.iter().product(), 21);
    let w = random_vec(ws.iter().product(), 22);
    let b = random_vec(ws[1] * p.groups, 23);
    let bias = with_bias.then_some(&b[..]);
    let got = conv_transpose_f32(
        TensorRef::new(&x, xs).unwrap(),
        TensorRef::new(&w, ws).unwrap(),
        bias,
        p,
    )
    .unwrap();
    let (expected, shape) = reference_conv_transpose(&x, xs, &w, ws, bias, p);
    assert_eq!(got.shape, shape);
    assert_close(&got.data, &expected, 1e-5);
    let plan = ConvPlan::conv_transpose(xs, ws, p).unwrap();
    assert_eq!(plan.output_shape(), got.shape);
    for parallel in [false, true] {
        let mut out = vec![f32::NAN; got.data.len()];
        plan.run_f32(&x, &w, bias, &mut out, parallel).unwrap();
        assert_eq!(
            bits(&out),
            bits(&got.data),
            "{xs:?} * {ws:?}, parallel {parallel}"
        );
    }
}

#[test]
fn plans_reject_wrong_slice_lengths() {
    let plan = ConvPlan::conv(&[1, 2, 5], &[3, 2, 3], &ConvParams::new(1)).unwrap();
    let (x, w, mut out) = (vec![0.0; 10], vec![0.0; 18], vec![0.0; 9]);
    assert!(plan.run_f32(&x, &w, None, &mut out, false).is_ok());
    assert!(plan.run_f32(&x[1..], &w, None, &mut out, false).is_err());
    assert!(plan.run_f32(&x, &w[1..], None, &mut out, false).is_err());
    assert!(plan.run_f32(&x, &w, None, &mut out[1..], false).is_err());
    assert!(plan
        .run_f32(&x, &w, Some(&[1.0; 2]), &mut out, false)
        .is_err());
    let t = ConvPlan::conv_transpose(&[1, 2, 3], &[2, 3, 3], &tparams(&[1], &[1], &[0], &[5], 1))
        .unwrap();
    let mut out = vec![0.0; 15];
    assert!(t.run_f32(&x[..6], &w, None, &mut out, false).is_ok());
    assert!(t.run_f32(&x[..5], &w, None, &mut out, false).is_err());
    assert!(t.run_f32(&x[..6], &w, None, &mut out[1..], true).is_err());
}

#[test]
fn convolutions_without_input_channels_give_the_bias() {
    let plan = ConvPlan::conv(&[2, 0, 4], &[3, 0, 2], &ConvParams::new(1)).unwrap();
    let mut out = vec![f32::NAN; 2 * 3 * 3];
    plan.run_f32(&[], &[], Some(&[1.0, 2.0, 3.0]), &mut out, true)
        .unwrap();
    assert_eq!(out, [[1.0; 3], [2.0; 3], [3.0; 3]].concat().repeat(2));
    plan.run_f32(&[], &[], None, &mut out, false).unwrap();
    assert!(out.iter().all(|&v| v == 0.0));
    let t = ConvPlan::conv_transpose(&[1, 0, 3], &[0, 2, 2], &tparams(&[1], &[1], &[0], &[4], 1))
        .unwrap();
    let mut out = vec![f32::NAN; 8];
    t.run_f32(&[], &[], Some(&[5.0, 6.0]), &mut out, true)
        .unwrap();
    assert_eq!(out, [5.0, 5.0, 5.0, 5.0, 6.0, 6.0, 6.0, 6.0]);
}

fn tparams(
    strides: &[usize],
    dilations: &[usize],
    pads: &[usize],
    out: &[usize],
    groups: usize,
) -> ConvTransposeParams {
    ConvTransposeParams {
        strides: strides.to_vec(),
        dilations: dilations.to_vec(),
        pads_before: pads.to_vec(),
        output_size: out.to_vec(),
        groups,
    }
}

#[test]
fn conv_transpose_matches_reference() {
    let len = conv_transpose_output_size(5, 3, 2, 1, (1, 1)).unwrap();
    check_conv_transpose(
        &[2, 3, 5],
        &[3, 4, 3],
        true,
        &tparams(&[2], &[1], &[1], &[len], 1),
    );
    // Explicit, larger output (the ambiguous-size case) and dilation.
    check_conv_transpose(
        &[1, 2, 4],
        &[2, 3, 2],
        false,
        &tparams(&[3], &[2], &[0], &[14], 1),
    );
    check_conv_transpose(
        &[2, 4, 3, 5],
        &[4, 3, 2, 3],
        true,
        &tparams(&[2, 1], &[1, 2], &[1, 2], &[6, 7], 2),
    );
    // Depthwise.
    check_conv_transpose(
        &[1, 3, 4, 4],
        &[3, 1, 3, 3],
        true,
        &tparams(&[2, 2], &[1, 1], &[1, 1], &[7, 7], 3),
    );
    check_conv_transpose(
        &[1, 2, 2, 3, 2],
        &[2, 2, 2, 1, 2],
        false,
        &tparams(&[1, 2, 1], &[1, 1, 1], &[0, 0, 1], &[3, 5, 2], 1),
    );
    check_conv_transpose(
        &[6, 4, 5, 5],
        &[4, 2, 3, 3],
        true,
        &tparams(&[1, 1], &[1, 1], &[1, 1], &[5, 5], 2),
    );
    check_conv_transpose(
        &[1, 1, 1, 1],
        &[1, 1, 1, 1],
        false,
        &tparams(&[1, 1], &[1, 1], &[0, 0], &[1, 1], 1),
    );
}

/// conv_transpose is the adjoint of conv: <conv(x, w), y> = <x, conv_transpose(y, w)> with the
/// same weight memory read as [C_in', C_out'/g, *K].
#[test]
fn conv_transpose_is_the_adjoint_of_conv() {
    let (xs, ws) = ([2, 4, 9, 8], [6, 2, 3, 2]);
    let p = params(&[2, 3], &[1, 2], &[(1, 2), (2, 0)], 2);
    let x = random_vec(xs.iter().product(), 31);
    let w = random_vec(ws.iter().product(), 32);
    let y_conv = conv_f32(
        TensorRef::new(&x, &xs).unwrap(),
        TensorRef::new(&w, &ws).unwrap(),
        None,
        &p,
    )
    .unwrap();
    let y = random_vec(y_conv.data.len(), 33);
    let tp = tparams(&p.strides, &p.dilations, &[1, 2], &xs[2..], 2);
    let back = conv_transpose_f32(
        TensorRef::new(&y, &y_conv.shape).unwrap(),
        TensorRef::new(&w, &ws).unwrap(),
        None,
        &tp,
    )
    .unwrap();
    assert_eq!(back.shape, xs);
    let lhs: f64 = y_conv
        .data
        .iter()
        .zip(&y)
        .map(|(a, b)| *a as f64 * *b as f64)
        .sum();
    let rhs: f64 = x
        .iter()
        .zip(&back.data)
        .map(|(a, b)| *a as f64 * *b as f64)
        .sum();
    assert!(
        (lhs - rhs).abs() < 1e-4 * lhs.abs().max(1.0),
        "{lhs} vs {rhs}"
    );
}

#[test]
fn bad_conv_transpose_arguments_are_errors() {
    let x = vec![0f32; 12];
    let xs = [1, 3, 4];
    let x = TensorRef::new(&x, &xs).unwrap();
    let w = vec![0f32; 2 * 2 * 3];
    let w = TensorRef::new(&w, &[2, 2, 3]).unwrap();
    assert!(conv_transpose_f32(x, w, None, &tparams(&[1], &[1], &[0], &[6], 1)).is_err());
    let w = vec![0f32; 3 * 2 * 3];
    let w = TensorRef::new(&w, &[3, 2, 3]).unwrap();
    assert!(conv_transpose_f32(x, w, None, &tparams(&[1], &[1], &[0], &[6, 1], 1)).is_err());
    assert!(conv_transpose_f32(x, w, Some(&[0.0]), &tparams(&[1], &[1], &[0], &[6], 1)).is_err());
    assert!(conv_transpose_f32(x, w, None, &tparams(&[1], &[1], &[0], &[6], 1)).is_ok());
}

#[test]
fn f16_storage_matches_rounded_f32_for_every_path() {
    // 2-D with groups and bias (parallel tasks), 1-D, 3-D and pointwise, plus conv_transpose.
    let cases: Vec<(Vec<usize>, Vec<usize>, ConvParams)> = vec![
        (
            vec![3, 4, 7, 6],
            vec![6, 2, 3, 3],
            params(&[2, 1], &[1, 1], &[(1, 1), (1, 1)], 2),
        ),
        (
            vec![2, 3, 9],
            vec![5, 3, 2],
            params(&[1], &[2], &[(0, 1)], 1),
        ),
        (vec![1, 2, 3, 4, 5], vec![2, 2, 2, 2, 2], ConvParams::new(3)),
        (vec![2, 5, 3, 3], vec![4, 5, 1, 1], ConvParams::new(2)),
    ];
    for (xs, ws, p) in cases {
        let x = f32_to_f16_vec(&random_vec(xs.iter().product(), 41));
        let w = f32_to_f16_vec(&random_vec(ws.iter().product(), 42));
        let b = random_vec(ws[0], 43);
        let got = conv_f16(
            TensorRef::new(&x, &xs).unwrap(),
            TensorRef::new(&w, &ws).unwrap(),
            Some(&b),
            &p,
        )
        .unwrap();
        let (x32, w32) = (f16_to_f32_vec(&x), f16_to_f32_vec(&w));
        let wide = conv_f32(
            TensorRef::new(&x32, &xs).unwrap(),
            TensorRef::new(&w32, &ws).unwrap(),
            Some(&b),
            &p,
        )
        .unwrap();
        assert_eq!(got.shape, wide.shape);
        assert_eq!(got.data, f32_to_f16_vec(&wide.data), "{xs:?} * {ws:?}");
    }
    let (xs, ws) = ([2, 4, 3, 5], [4, 3, 2, 3]);
    let tp = tparams(&[2, 1], &[1, 2], &[1, 2], &[6, 7], 2);
    let x = f32_to_f16_vec(&random_vec(120, 44));
    let w = f32_to_f16_vec(&random_vec(72, 45));
    let got = conv_transpose_f16(
        TensorRef::new(&x, &xs).unwrap(),
        TensorRef::new(&w, &ws).unwrap(),
        None,
        &tp,
    )
    .unwrap();
    let (x32, w32) = (f16_to_f32_vec(&x), f16_to_f32_vec(&w));
    let wide = conv_transpose_f32(
        TensorRef::new(&x32, &xs).unwrap(),
        TensorRef::new(&w32, &ws).unwrap(),
        None,
        &tp,
    )
    .unwrap();
    assert_eq!(got.data, f32_to_f16_vec(&wide.data));
}

#[test]
fn banded_2d_convs_sum_like_one_gemm_over_the_image() {
    // K = 128·9 = 1152 > 512 and C_out = 16 ≤ 64: an L2-sized band would be 50 columns wide, a
    // product the gemm crate blocks differently; bands are kept wider so the bits match one
    // GEMM over the whole im2col matrix.
    let (xs, ws) = ([1, 128, 12, 12], [16, 128, 3, 3]);
    let p = ConvParams::new(2);
    let x = random_vec(xs.iter().product(), 31);
    let w = random_vec(ws.iter().product(), 32);
    let plan = ConvPlan::conv(&xs, &ws, &p).unwrap();
    let mut banded = vec![0f32; 16 * 100];
    plan.run_f32(&x, &w, None, &mut banded, false).unwrap();
    let geo = conv_geometry(&xs, &ws, &p).unwrap();
    let mut col = vec![0f32; 1152 * 100];
    super::im2col::im2col(&geo, &x, &mut col);
    let mut whole = vec![0f32; 16 * 100];
    crate::gemm::gemm_f32(
        crate::gemm::MatMut::row_major(&mut whole, 16, 100).unwrap(),
        crate::gemm::MatRef::row_major(&w, 16, 1152).unwrap(),
        crate::gemm::MatRef::row_major(&col, 1152, 100).unwrap(),
        false,
        false,
    )
    .unwrap();
    let diff: Vec<usize> = (0..banded.len())
        .filter(|&i| banded[i].to_bits() != whole[i].to_bits())
        .map(|i| i % 100)
        .collect();
    let mut cols: Vec<usize> = diff.clone();
    cols.sort();
    cols.dedup();
    assert!(diff.is_empty(), "{} differ, columns {cols:?}", diff.len());
}
