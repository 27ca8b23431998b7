//! Helpers shared by the unit tests: deterministic random data and tolerance checks against
//! f64 references.

/// `n` pseudo-random values in [-1, 1) from a fixed xorshift sequence (seeded by `seed`).
pub fn random_vec(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Asserts `got[i]` is within `tol · max(1, |expected[i]|)` of `expected[i]` (NaNs must match).
#[track_caller]
pub fn assert_close(got: &[f32], expected: &[f64], tol: f64) {
    assert_eq!(got.len(), expected.len(), "lengths differ");
    for (i, (&g, &e)) in got.iter().zip(expected).enumerate() {
        if e.is_nan() {
            assert!(g.is_nan(), "element {i}: got {g}, expected NaN");
            continue;
        }
        if e.is_infinite() {
            assert_eq!(g as f64, e, "element {i}");
            continue;
        }
        let err = (g as f64 - e).abs();
        assert!(
            err <= tol * e.abs().max(1.0),
            "element {i}: got {g}, expected {e} (error {err:e})"
        );
    }
}
