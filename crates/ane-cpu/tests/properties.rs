//! Property tests on random shapes: broadcasting, permutes and reductions agree with naive
//! index arithmetic, and invalid shapes give errors rather than panics.

use ane_cpu::elementwise::{binary_f32, BinaryOp};
use ane_cpu::layout::{broadcast_to, inverse_permutation, permute, BroadcastOffsets};
use ane_cpu::reduce::{reduce_f32, ReduceOp};
use ane_cpu::TensorRef;
use proptest::prelude::*;

/// A shape of rank 0..=5 with dims 1..=4, and a second shape broadcast-compatible with it.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec(1usize..=4, 0..=5).prop_flat_map(|shape| {
        let n = shape.len();
        (
            Just(shape.clone()),
            prop::collection::vec(any::<bool>(), n),
            0..=n,
        )
            .prop_map(|(shape, ones, drop)| {
                let other: Vec<usize> = shape
                    .iter()
                    .zip(&ones)
                    .map(|(&d, &one)| if one { 1 } else { d })
                    .skip(drop)
                    .collect();
                (shape, other)
            })
    })
}

fn values(n: usize) -> Vec<f32> {
    (0..n).map(|i| (i as f32 * 0.37).sin()).collect()
}

proptest! {
    #[test]
    fn binary_ops_broadcast_like_numpy((a_shape, b_shape) in broadcast_pair(), swap in any::<bool>()) {
        let (a_shape, b_shape) = if swap { (b_shape, a_shape) } else { (a_shape, b_shape) };
        let a = values(a_shape.iter().product());
        let b: Vec<f32> = values(b_shape.iter().product()).iter().map(|v| v + 2.0).collect();
        let got = binary_f32(BinaryOp::Sub, TensorRef::new(&a, &a_shape).unwrap(), TensorRef::new(&b, &b_shape).unwrap()).unwrap();
        let ea = broadcast_to(TensorRef::new(&a, &a_shape).unwrap(), &got.shape).unwrap();
        let eb = broadcast_to(TensorRef::new(&b, &b_shape).unwrap(), &got.shape).unwrap();
        let expected: Vec<f32> = ea.data.iter().zip(&eb.data).map(|(x, y)| x - y).collect();
        prop_assert_eq!(got.data, expected);
    }

    #[test]
    fn permute_round_trips(shape in prop::collection::vec(1usize..=5, 1..=5), seed in any::<u64>()) {
        let n = shape.len();
        let mut perm: Vec<usize> = (0..n).collect();
        let mut s = seed;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            perm.swap(i, (s >> 33) as usize % (i + 1));
        }
        let data = values(shape.iter().product());
        let moved = permute(TensorRef::new(&data, &shape).unwrap(), &perm).unwrap();
        let back = permute(TensorRef::new(&moved.data, &moved.shape).unwrap(), &inverse_permutation(&perm)).unwrap();
        prop_assert_eq!(back.shape, shape);
        prop_assert_eq!(back.data, data);
    }

    #[test]
    fn sums_over_any_axes_match_naive(shape in prop::collection::vec(1usize..=4, 1..=5), mask in any::<u8>()) {
        let axes: Vec<isize> = (0..shape.len()).filter(|d| mask & (1 << d) != 0).map(|d| d as isize).collect();
        let data = values(shape.iter().product());
        let got = reduce_f32(ReduceOp::Sum, TensorRef::new(&data, &shape).unwrap(), Some(&axes), true).unwrap();
        // Naive: scatter every element into its kept-dims position.
        let out_shape = got.shape.clone();
        let mut expected = vec![0f64; got.data.len()];
        let offsets = BroadcastOffsets::new(&out_shape, &shape).unwrap();
        for (i, o) in offsets.enumerate() {
            expected[o] += data[i] as f64;
        }
        for (g, e) in got.data.iter().zip(&expected) {
            prop_assert!((*g as f64 - e).abs() < 1e-5);
        }
    }

    #[test]
    fn mismatched_lengths_are_errors_not_panics(len in 0usize..50, shape in prop::collection::vec(0usize..5, 0..4)) {
        let data = vec![0f32; len];
        let expected: usize = shape.iter().product();
        prop_assert_eq!(TensorRef::new(&data, &shape).is_ok(), len == expected);
    }
}
