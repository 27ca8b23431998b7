//! Helpers for the optimizer tests: a small store that spans several update chunks, loss-scaled
//! random gradients, and comparisons against f64 reference implementations.

use crate::params::ParamStore;
use crate::rng::Rng;
use half::f16;

/// Elements in the test weight: more than two update chunks, not a multiple of the chunk size.
pub const WEIGHT_ROWS: usize = 100;
pub const WEIGHT_COLS: usize = 197;

/// A store with `0.weight` (decayed, several chunks) and `0.bias` (decay disabled).
pub fn make_store(seed: u64) -> ParamStore {
    let mut rng = Rng::new(seed);
    let n = WEIGHT_ROWS * WEIGHT_COLS;
    let w: Vec<f32> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let b: Vec<f32> = (0..WEIGHT_ROWS).map(|_| rng.uniform(-0.5, 0.5)).collect();
    let mut store = ParamStore::from_tensors([
        ("0.weight", vec![WEIGHT_ROWS, WEIGHT_COLS], w),
        ("0.bias", vec![WEIGHT_ROWS], b),
    ])
    .unwrap();
    store.get_mut("0.bias").unwrap().set_weight_decay(false);
    store
}

/// The master weights as f64, per parameter.
pub fn masters_f64(store: &ParamStore) -> Vec<Vec<f64>> {
    store
        .params()
        .iter()
        .map(|p| p.master().iter().map(|&x| f64::from(x)).collect())
        .collect()
}

/// Fills every gradient buffer with `true_grad · scale` (scale a power of two, so exact) and
/// returns the true gradients as f64.
pub fn set_scaled_grads(store: &mut ParamStore, rng: &mut Rng, scale: f32) -> Vec<Vec<f64>> {
    let mut truth = Vec::new();
    for p in store.params_mut() {
        let g: Vec<f32> = (0..p.len()).map(|_| rng.normal() * 0.1).collect();
        for (dst, &x) in p.grad_mut().iter_mut().zip(&g) {
            *dst = x * scale;
        }
        truth.push(g.iter().map(|&x| f64::from(x)).collect());
    }
    truth
}

/// Asserts every master weight is within `tol · max(1, |expected|)` of the reference, and that
/// every fp16 copy is exactly `f16::from_f32(master)`.
pub fn assert_matches_reference(store: &ParamStore, expected: &[Vec<f64>], tol: f64) {
    for (p, exp) in store.params().iter().zip(expected) {
        for (i, (&a, &e)) in p.master().iter().zip(exp).enumerate() {
            let err = (f64::from(a) - e).abs();
            assert!(
                err <= tol * e.abs().max(1.0),
                "{}[{i}]: got {a}, reference {e} (error {err:e})",
                p.name()
            );
        }
        for (&h, &m) in p.half().iter().zip(p.master()) {
            assert_eq!(h.to_bits(), f16::from_f32(m).to_bits(), "{}", p.name());
        }
    }
}

/// The largest absolute difference between two sets of master weights.
pub fn max_difference(a: &ParamStore, b: &ParamStore) -> f32 {
    a.params()
        .iter()
        .zip(b.params())
        .flat_map(|(x, y)| {
            x.master()
                .iter()
                .zip(y.master())
                .map(|(p, q)| (p - q).abs())
        })
        .fold(0.0, f32::max)
}
