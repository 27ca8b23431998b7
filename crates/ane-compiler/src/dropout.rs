//! The dropout mask function: a counter-based hash of (seed, step, site, element index), so a mask
//! is a pure function of values the executor already checkpoints. Resuming at step `t` with the
//! same seed reproduces every mask bit for bit, independent of evaluation order or placement.
//!
//! The mask is generated on the host (the ANE has no integer hashing); the reference evaluator
//! and the executor's host op must both call [`keep`] so they agree exactly.

/// Resolution of the uniform draw: 24 bits, so thresholds are exact integers.
const UNIFORM_BITS: u32 = 24;

/// SplitMix64's output function: a bijective 64-bit mixer with good avalanche.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform 24-bit integer for one mask element.
pub fn uniform24(seed: i32, step: i32, site: u32, index: u64) -> u32 {
    // Seed and step are taken as their 32-bit patterns; the site is spread with the golden-ratio
    // constant so neighbouring sites land far apart before mixing with the element index.
    let key = mix64(((seed as u32 as u64) << 32) | step as u32 as u64);
    let stream = mix64(key ^ (site as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let h = mix64(stream.wrapping_add(index.wrapping_mul(0xD1B5_4A32_D192_ED03)));
    (h >> (64 - UNIFORM_BITS)) as u32
}

/// The drop threshold for probability `p`: an element is dropped when its draw is below it.
pub fn drop_threshold(p: f32) -> u32 {
    ((p as f64) * (1u64 << UNIFORM_BITS) as f64).round() as u32
}

/// Whether element `index` of dropout site `site` is kept at (seed, step) with drop probability `p`.
pub fn keep(seed: i32, step: i32, site: u32, index: u64, p: f32) -> bool {
    uniform24(seed, step, site, index) >= drop_threshold(p)
}

/// The multiplier of a kept element, `1/(1−p)` (inverted dropout keeps the expectation).
pub fn keep_scale(p: f32) -> f64 {
    1.0 / (1.0 - p as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_rate_matches_p() {
        let n = 200_000u64;
        let kept = (0..n).filter(|&i| keep(7, 3, 0, i, 0.25)).count() as f64;
        let rate = 1.0 - kept / n as f64;
        assert!((rate - 0.25).abs() < 0.005, "drop rate {rate}");
    }

    #[test]
    fn masks_depend_on_seed_step_and_site() {
        let mask = |seed, step, site| {
            (0..256u64)
                .map(|i| keep(seed, step, site, i, 0.5))
                .collect::<Vec<_>>()
        };
        assert_eq!(mask(1, 2, 0), mask(1, 2, 0));
        assert_ne!(mask(1, 2, 0), mask(1, 3, 0));
        assert_ne!(mask(1, 2, 0), mask(2, 2, 0));
        assert_ne!(mask(1, 2, 0), mask(1, 2, 1));
    }

    #[test]
    fn zero_probability_keeps_everything() {
        assert!((0..1000).all(|i| keep(5, 9, 2, i, 0.0)));
    }
}
