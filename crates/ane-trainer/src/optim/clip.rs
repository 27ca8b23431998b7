//! Global-norm gradient clipping (`torch.nn.utils.clip_grad_norm_` semantics) fused into the
//! optimizer's gradient scale.
//!
//! The norm is the L2 norm over every element of every gradient, of the *unscaled* gradients
//! (`grad · grad_scale`), accumulated in f64. Instead of rescaling the gradient buffers (a
//! second sweep), the clip factor `max_norm / (norm + 1e-6)` (when below 1) is multiplied into
//! the gradient scale that the optimizer applies anyway.
//!
//! The partial sums are taken over fixed chunks and added in order, so the norm — and hence the
//! training run — is bit-for-bit the same whatever the thread count or scheduling.

use crate::params::ParamStore;
use rayon::prelude::*;

/// Elements per partial sum.
const NORM_CHUNK: usize = 16 * 1024;

/// PyTorch adds this to the norm before dividing, so a zero norm never divides by zero.
const CLIP_EPS: f64 = 1e-6;

/// The result of [`clip_grad_norm`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipOutcome {
    /// The global L2 norm of the unscaled gradients before clipping (for metrics). Infinite or
    /// NaN when some gradient is; the loss scaler should have skipped such a step.
    pub norm: f64,
    /// The gradient scale to pass to the optimizer: the input scale, times the clip factor when
    /// clipping applied.
    pub grad_scale: f32,
    /// Whether the norm exceeded `max_norm` (false for a non-finite norm: nothing is clipped).
    pub clipped: bool,
}

/// The global L2 norm of `grad · grad_scale` over all parameters, accumulated in f64.
pub fn global_grad_norm(params: &ParamStore, grad_scale: f32) -> f64 {
    let partial_sums: Vec<f64> = params
        .params()
        .iter()
        .flat_map(|p| p.grad().chunks(NORM_CHUNK))
        .collect::<Vec<&[f32]>>()
        .into_par_iter()
        .map(sum_of_squares)
        .collect();
    let sum_sq: f64 = partial_sums.iter().sum();
    sum_sq.sqrt() * f64::from(grad_scale)
}

/// The sum of squares of one chunk in f64. Eight independent accumulators let the additions
/// overlap (a single running sum is bound by add latency); the fixed lane order keeps the
/// result deterministic.
fn sum_of_squares(chunk: &[f32]) -> f64 {
    let mut lanes = [0f64; 8];
    let mut blocks = chunk.chunks_exact(8);
    for block in &mut blocks {
        for (lane, &g) in lanes.iter_mut().zip(block) {
            let g = f64::from(g);
            *lane += g * g;
        }
    }
    let tail: f64 = blocks
        .remainder()
        .iter()
        .map(|&g| f64::from(g) * f64::from(g))
        .sum();
    lanes.iter().sum::<f64>() + tail
}

/// Measures the global gradient norm and, when it exceeds `max_norm`, folds the clip factor
/// into the returned gradient scale. `grad_scale` is the unscaling factor
/// `1 / (accum · loss_scale)` the optimizer would otherwise use.
pub fn clip_grad_norm(params: &ParamStore, max_norm: f64, grad_scale: f32) -> ClipOutcome {
    let norm = global_grad_norm(params, grad_scale);
    if !norm.is_finite() || norm <= max_norm {
        return ClipOutcome {
            norm,
            grad_scale,
            clipped: false,
        };
    }
    let factor = max_norm / (norm + CLIP_EPS);
    ClipOutcome {
        norm,
        grad_scale: (f64::from(grad_scale) * factor) as f32,
        clipped: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_grads(grads: &[(&str, Vec<f32>)]) -> ParamStore {
        let mut s = ParamStore::new();
        for (name, g) in grads {
            s.push(*name, vec![g.len()], vec![0.0; g.len()]).unwrap();
            s.get_mut(name).unwrap().grad_mut().copy_from_slice(g);
        }
        s
    }

    #[test]
    fn norm_spans_all_parameters_and_unscales() {
        // 3-4-12-13: ‖(3, 4, 12)‖ = 13.
        let s = store_with_grads(&[("a", vec![3.0 * 8.0, 4.0 * 8.0]), ("b", vec![12.0 * 8.0])]);
        assert_eq!(global_grad_norm(&s, 0.125), 13.0);
        let out = clip_grad_norm(&s, 20.0, 0.125);
        assert_eq!(
            out,
            ClipOutcome {
                norm: 13.0,
                grad_scale: 0.125,
                clipped: false
            }
        );
    }

    #[test]
    fn clips_to_max_norm_through_the_scale() {
        let s = store_with_grads(&[("a", vec![3.0, 4.0])]);
        let out = clip_grad_norm(&s, 1.0, 1.0);
        assert!(out.clipped);
        assert_eq!(out.norm, 5.0);
        let clipped_norm = global_grad_norm(&s, out.grad_scale);
        assert!((clipped_norm - 1.0).abs() < 1e-6, "{clipped_norm}");
    }

    #[test]
    fn large_buffers_sum_in_f64_deterministically() {
        let n = 5 * NORM_CHUNK + 17;
        let g: Vec<f32> = (0..n)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let s = store_with_grads(&[("w", g)]);
        let norm = global_grad_norm(&s, 1.0);
        assert_eq!(norm, (n as f64).sqrt());
        for _ in 0..5 {
            assert_eq!(global_grad_norm(&s, 1.0).to_bits(), norm.to_bits());
        }
        // Squares that would overflow f32 stay finite in f64.
        let big = store_with_grads(&[("w", vec![3e30, 4e30])]);
        let (x, y) = (f64::from(3e30f32), f64::from(4e30f32));
        let expected = (x * x + y * y).sqrt();
        assert!((global_grad_norm(&big, 1.0) / expected - 1.0).abs() < 1e-15);
    }

    #[test]
    fn non_finite_norm_is_reported_not_clipped() {
        let s = store_with_grads(&[("a", vec![1.0, f32::INFINITY])]);
        let out = clip_grad_norm(&s, 1.0, 0.5);
        assert!(out.norm.is_infinite() && !out.clipped && out.grad_scale == 0.5);
        let s = store_with_grads(&[("a", vec![f32::NAN])]);
        assert!(clip_grad_norm(&s, 1.0, 1.0).norm.is_nan());
    }
}
