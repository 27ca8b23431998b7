//! How far a device's outputs are from what they should be, and when that is close enough.
//!
//! For each output tensor: the largest absolute error, and that error divided by the output's
//! *scale* — the largest magnitude of the expected tensor. Errors are measured against the scale
//! rather than element by element because fp16 errors grow with the largest terms flowing into
//! an element (a sum of large terms that nearly cancel is still only as accurate as its terms).
//! A kernel's error is its worst output.

use serde::Serialize;

/// The pass/fail rule: an output passes when `max_abs_error ≤ abs + rel · scale`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tolerance {
    /// Absolute slack, for outputs whose scale is near zero.
    pub abs: f64,
    /// Allowed error relative to the output's scale.
    pub rel: f64,
}

impl Tolerance {
    /// The tolerance for fp16 kernels against the f64 reference: 1% of the output's scale plus
    /// 1e-6.
    ///
    /// Why: fp16 has an 11-bit significand, so every rounding costs up to 2⁻¹¹ ≈ 4.9e-4 relative;
    /// a lowered op is a chain of a few to ~15 MIL ops, each rounding its result to fp16 (a
    /// layer-norm backward is the longest), and an fp16 sum of n terms adds rounding at the
    /// scale of its partial sums. The simulator's worst kernel measures 2.1e-3 of its scale
    /// (`gelu_tanh_backward`), most measure 2–9e-4. 1% is ~20 fp16 units of the scale: room for
    /// an accumulator or transcendental that is a few times less precise than the simulator's,
    /// yet far below any real mistake (a wrong element, a transposed operand, a missing term
    /// is tens of percent). The absolute 1e-6 only matters for outputs whose scale is near zero;
    /// it is well above the spacing of fp16 subnormals (6e-8).
    pub const FP16: Tolerance = Tolerance {
        abs: 1e-6,
        rel: 1e-2,
    };

    /// The tolerance between two devices running the same fp16 kernel: each may be
    /// [`Tolerance::FP16`] away from the truth, so they may be twice that from each other.
    pub const FP16_CROSS_DEVICE: Tolerance = Tolerance {
        abs: 2e-6,
        rel: 2e-2,
    };

    /// Whether `stats` is within this tolerance (never for non-finite values or errors).
    pub fn accepts(&self, stats: &ErrorStats) -> bool {
        stats.max_abs_error.is_finite() && stats.max_abs_error <= self.abs + self.rel * stats.scale
    }
}

/// The error of one output (or, combined, of one kernel).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ErrorStats {
    /// Largest `|got − want|` (infinite when a value is NaN or infinite but should not be).
    pub max_abs_error: f64,
    /// Largest `|want|`.
    pub scale: f64,
    /// `max_abs_error / scale` (0 when both are 0, infinite when only the scale is).
    pub max_rel_error: f64,
    /// Flat index of the worst element.
    pub worst_index: usize,
    /// The device's value there.
    pub worst_got: f64,
    /// The expected value there.
    pub worst_want: f64,
}

impl ErrorStats {
    /// No error at all (the combination of no outputs).
    pub fn zero() -> Self {
        ErrorStats {
            max_abs_error: 0.0,
            scale: 0.0,
            max_rel_error: 0.0,
            worst_index: 0,
            worst_got: 0.0,
            worst_want: 0.0,
        }
    }
}

/// Compares an output with its expected values. Lengths must match (the caller unpacked `got`
/// from the same ABI slot); extra elements on either side are ignored.
pub fn measure(got: &[f32], want: &[f64]) -> ErrorStats {
    let scale = want.iter().fold(0f64, |m, w| m.max(w.abs()));
    let mut stats = ErrorStats {
        scale,
        ..ErrorStats::zero()
    };
    for (index, (&g, &w)) in got.iter().zip(want).enumerate() {
        let g = g as f64;
        let error = if g == w {
            0.0
        } else if g.is_finite() {
            (g - w).abs()
        } else {
            f64::INFINITY
        };
        // A NaN error (the expected value itself is NaN) counts as the worst possible.
        let error = if error.is_nan() { f64::INFINITY } else { error };
        if index == 0 || error > stats.max_abs_error {
            stats.max_abs_error = error;
            stats.worst_index = index;
            stats.worst_got = g;
            stats.worst_want = w;
        }
    }
    stats.max_rel_error = relative(stats.max_abs_error, scale);
    stats
}

fn relative(error: f64, scale: f64) -> f64 {
    if error == 0.0 {
        0.0
    } else if scale == 0.0 {
        f64::INFINITY
    } else {
        error / scale
    }
}

/// The worst of several outputs: the one with the largest relative error (a kernel passes only
/// if each output passes, and the worst relative error decides that for outputs of any scale).
pub fn worst(outputs: &[ErrorStats]) -> ErrorStats {
    outputs
        .iter()
        .copied()
        .max_by(|a, b| a.max_rel_error.total_cmp(&b.max_rel_error))
        .unwrap_or_else(ErrorStats::zero)
}

/// Whether every output passes.
pub fn all_accepted(tolerance: &Tolerance, outputs: &[ErrorStats]) -> bool {
    outputs.iter().all(|s| tolerance.accepts(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_measured_against_the_largest_expected_magnitude() {
        let s = measure(&[1.0, -2.0, 4.01], &[1.0, -2.0, 4.0]);
        assert!((s.max_abs_error - 0.01).abs() < 1e-6);
        assert_eq!(s.scale, 4.0);
        assert!((s.max_rel_error - 0.0025).abs() < 1e-6);
        assert_eq!(s.worst_index, 2);
        assert!(Tolerance::FP16.accepts(&s));
    }

    #[test]
    fn a_wrong_element_fails() {
        let want: Vec<f64> = (0..64).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut got: Vec<f32> = want.iter().map(|&w| w as f32).collect();
        assert!(Tolerance::FP16.accepts(&measure(&got, &want)));
        got[17] += 0.05;
        let s = measure(&got, &want);
        assert_eq!(s.worst_index, 17);
        assert!(!Tolerance::FP16.accepts(&s), "{s:?}");
    }

    #[test]
    fn non_finite_values_never_pass() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let s = measure(&[0.5, bad], &[0.5, 1.0]);
            assert_eq!(s.max_abs_error, f64::INFINITY, "{bad}");
            assert_eq!(s.worst_index, 1);
            assert!(!Tolerance::FP16.accepts(&s));
        }
        // An expected infinity reproduced exactly is no error.
        let s = measure(&[f32::NEG_INFINITY], &[f64::NEG_INFINITY]);
        assert_eq!(s.max_abs_error, 0.0);
    }

    #[test]
    fn zero_scales_use_the_absolute_slack() {
        let s = measure(&[5e-7, 0.0], &[0.0, 0.0]);
        assert_eq!(s.max_rel_error, f64::INFINITY);
        assert!(Tolerance::FP16.accepts(&s));
        assert!(!Tolerance::FP16.accepts(&measure(&[1e-5], &[0.0])));
        assert_eq!(measure(&[0.0], &[0.0]).max_rel_error, 0.0);
    }

    #[test]
    fn the_worst_output_is_the_relatively_worst() {
        let small = measure(&[0.011], &[0.01]); // 10% off
        let large = measure(&[101.0], &[100.0]); // 1% off, larger absolute error
        let w = worst(&[large, small]);
        assert_eq!(w, small);
        assert!(!all_accepted(&Tolerance::FP16, &[large, small]));
        assert!(all_accepted(&Tolerance::FP16, &[large]));
        assert_eq!(worst(&[]), ErrorStats::zero());
    }
}
