//! Pooling tests: the mil-ops.md examples and a naive reference over 1-D, 2-D and 3-D windows.

use super::*;
use crate::conv::same_padding;
use crate::tests_support::{assert_close, random_vec};

fn params(
    kernel: &[usize],
    strides: &[usize],
    pads: &[(usize, usize)],
    ceil_mode: bool,
) -> PoolParams {
    PoolParams {
        kernel: kernel.to_vec(),
        strides: strides.to_vec(),
        pads: pads.to_vec(),
        ceil_mode,
    }
}

#[test]
fn mil_ops_examples() {
    let x = [1f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
    let pads = same_padding(7, 3, 3, 1, false);
    let p = params(&[3], &[3], &[pads], false);
    let got = avg_pool_f32(TensorRef::new(&x, &[1, 1, 7]).unwrap(), &p, true).unwrap();
    assert_eq!(got.shape, vec![1, 1, 3]);
    assert_eq!(got.data, vec![1.5, 4.0, 6.5]);

    let x = [1f32, 2.0];
    let pads = same_padding(2, 2, 1, 1, true);
    let p = params(&[2], &[1], &[pads], false);
    let got = avg_pool_f32(TensorRef::new(&x, &[1, 1, 2]).unwrap(), &p, false).unwrap();
    assert_eq!(got.data, vec![0.5, 1.5]);
}

#[test]
fn padding_never_wins_a_max() {
    let x = [-5f32, -3.0, -4.0, -1.0];
    let p = params(&[3, 3], &[1, 1], &[(1, 1), (1, 1)], false);
    let got = max_pool_f32(TensorRef::new(&x, &[1, 1, 2, 2]).unwrap(), &p).unwrap();
    assert_eq!(got.data, vec![-1.0; 4]);
    let with_nan = [1f32, f32::NAN, 3.0];
    let p = params(&[2], &[1], &[(0, 0)], false);
    let got = max_pool_f32(TensorRef::new(&with_nan, &[1, 1, 3]).unwrap(), &p).unwrap();
    assert!(got.data[0].is_nan() && got.data[1].is_nan());
}

#[test]
fn ceil_mode_output_sizes() {
    assert_eq!(pool_output_size(5, 2, 2, (0, 0), false), Some(2));
    assert_eq!(pool_output_size(5, 2, 2, (0, 0), true), Some(3));
    assert_eq!(pool_output_size(6, 3, 2, (1, 1), true), Some(4));
    // The last window would start in the right padding: dropped.
    assert_eq!(pool_output_size(4, 2, 2, (1, 1), true), Some(3));
    assert_eq!(pool_output_size(2, 3, 1, (0, 0), false), None);
    let x = [1f32, 2.0, 3.0, 4.0, 5.0];
    let p = params(&[2], &[2], &[(0, 0)], true);
    let t = TensorRef::new(&x, &[1, 1, 5]).unwrap();
    assert_eq!(
        avg_pool_f32(t, &p, false).unwrap().data,
        vec![1.5, 3.5, 5.0]
    );
    assert_eq!(max_pool_f32(t, &p).unwrap().data, vec![2.0, 4.0, 5.0]);
}

/// Naive pooling: walk every window position in padded coordinates.
fn reference(x: &[f32], shape: &[usize], p: &PoolParams, max: bool, exclude: bool) -> Vec<f64> {
    let sp = &shape[2..];
    let s = sp.len();
    let out_sp: Vec<usize> = (0..s)
        .map(|d| {
            pool_output_size(sp[d], p.kernel[d], p.strides[d], p.pads[d], p.ceil_mode).unwrap()
        })
        .collect();
    let planes = shape[0] * shape[1];
    let in_plane: usize = sp.iter().product();
    let out_plane: usize = out_sp.iter().product();
    let taps: usize = p.kernel.iter().product();
    let mut out = Vec::new();
    for plane in 0..planes {
        for o in 0..out_plane {
            let mut rest = o;
            let mut oi = vec![0; s];
            for d in (0..s).rev() {
                oi[d] = rest % out_sp[d];
                rest /= out_sp[d];
            }
            let (mut best, mut sum, mut real, mut padded) =
                (f64::NEG_INFINITY, 0.0, 0usize, 0usize);
            for t in 0..taps {
                let mut rest = t;
                let mut pos = vec![0isize; s];
                for d in (0..s).rev() {
                    let k = rest % p.kernel[d];
                    rest /= p.kernel[d];
                    pos[d] = (oi[d] * p.strides[d] + k) as isize - p.pads[d].0 as isize;
                }
                let in_padded = (0..s).all(|d| pos[d] < (sp[d] + p.pads[d].1) as isize);
                let inside = (0..s).all(|d| pos[d] >= 0 && (pos[d] as usize) < sp[d]);
                if in_padded {
                    padded += 1;
                }
                if inside {
                    let flat = pos
                        .iter()
                        .zip(sp)
                        .fold(0, |acc, (&i, &n)| acc * n + i as usize);
                    let v = x[plane * in_plane + flat] as f64;
                    best = best.max(v);
                    sum += v;
                    real += 1;
                }
            }
            let count = if exclude { real } else { padded };
            out.push(if max {
                best
            } else if count == 0 {
                0.0
            } else {
                sum / count as f64
            });
        }
    }
    out
}

#[test]
fn pooling_matches_reference() {
    let cases: Vec<(Vec<usize>, PoolParams)> = vec![
        (vec![2, 3, 11], params(&[3], &[2], &[(1, 2)], false)),
        (vec![2, 3, 11], params(&[3], &[2], &[(1, 1)], true)),
        (
            vec![1, 2, 7, 9],
            params(&[3, 2], &[2, 3], &[(1, 1), (0, 1)], false),
        ),
        (
            vec![1, 2, 7, 9],
            params(&[3, 3], &[2, 2], &[(1, 1), (1, 1)], true),
        ),
        (
            vec![2, 2, 8, 8],
            params(&[2, 2], &[2, 2], &[(0, 0), (0, 0)], false),
        ),
        (
            vec![1, 1, 5, 6, 4],
            params(&[2, 3, 2], &[1, 2, 2], &[(1, 0), (1, 1), (0, 1)], false),
        ),
        (
            vec![1, 1, 1, 1],
            params(&[1, 1], &[1, 1], &[(0, 0), (0, 0)], false),
        ),
        (
            vec![40, 8, 12, 12],
            params(&[3, 3], &[1, 1], &[(1, 1), (1, 1)], false),
        ),
    ];
    for (shape, p) in cases {
        let x = random_vec(shape.iter().product(), 17);
        let t = TensorRef::new(&x, &shape).unwrap();
        let got = max_pool_f32(t, &p).unwrap();
        assert_close(&got.data, &reference(&x, &shape, &p, true, false), 0.0);
        for exclude in [false, true] {
            let got = avg_pool_f32(t, &p, exclude).unwrap();
            assert_close(&got.data, &reference(&x, &shape, &p, false, exclude), 1e-6);
        }
        // The plan API gives the same bits on one thread or many.
        for kind in [
            PoolKind::Max,
            PoolKind::Avg {
                exclude_padding: true,
            },
        ] {
            let plan = PoolPlan::new(&shape, &p, kind).unwrap();
            let expected = match kind {
                PoolKind::Max => max_pool_f32(t, &p).unwrap(),
                PoolKind::Avg { .. } => avg_pool_f32(t, &p, true).unwrap(),
            };
            assert_eq!(plan.output_shape(), expected.shape.as_slice());
            for parallel in [false, true] {
                let mut out = vec![f32::NAN; expected.data.len()];
                plan.run_f32(&x, &mut out, parallel).unwrap();
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&out), bits(&expected.data), "{shape:?} {kind:?}");
            }
        }
    }
}

#[test]
fn pool_plans_check_lengths_and_rank() {
    let p = params(&[2], &[2], &[(0, 0)], false);
    let plan = PoolPlan::new(&[1, 2, 4], &p, PoolKind::Max).unwrap();
    let mut out = [0f32; 4];
    assert!(plan.run_f32(&[0.0; 8], &mut out, false).is_ok());
    assert!(plan.run_f32(&[0.0; 7], &mut out, false).is_err());
    assert!(plan.run_f32(&[0.0; 8], &mut out[1..], false).is_err());
    let p4 = params(&[1; 4], &[1; 4], &[(0, 0); 4], false);
    assert!(PoolPlan::new(&[1, 1, 2, 2, 2, 2], &p4, PoolKind::Max).is_err());
}

#[test]
fn bad_pool_arguments_are_errors() {
    let x = [0f32; 8];
    let t = TensorRef::new(&x, &[1, 2, 4]).unwrap();
    assert!(max_pool_f32(t, &params(&[5], &[1], &[(0, 0)], false)).is_err());
    assert!(max_pool_f32(t, &params(&[2], &[0], &[(0, 0)], false)).is_err());
    assert!(max_pool_f32(t, &params(&[2, 2], &[1, 1], &[(0, 0); 2], false)).is_err());
    let flat = TensorRef::new(&x, &[8]).unwrap();
    assert!(avg_pool_f32(flat, &params(&[], &[], &[], false), false).is_err());
}
