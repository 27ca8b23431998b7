//! Adam, following `torch.optim.Adam` (no AMSGrad): bias-corrected moments, `eps` added outside
//! the square root, and weight decay as an L2 term added to the gradient. The update kernel is
//! shared with [`AdamW`](super::AdamW), which only changes how weight decay is applied.
//!
//! Per element at step `t` (1-based), with `g` the unscaled gradient:
//! ```text
//! g ← g + wd·p                              (Adam, if decay is on for this parameter)
//! p ← p·(1 − lr·wd)                         (AdamW, if decay is on for this parameter)
//! m ← β1·m + (1 − β1)·g
//! v ← β2·v + (1 − β2)·g²
//! p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)
//! ```

use super::fused::{fused_update, SlotState};
use super::{check_range, check_step_args, OptimError, OptimizerConfig};
use crate::params::ParamStore;
use serde::{Deserialize, Serialize};

/// Hyper-parameters of [`Adam`] and [`AdamW`](super::AdamW).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamConfig {
    /// Decay rate β1 of the first moment (PyTorch default 0.9).
    pub beta1: f64,
    /// Decay rate β2 of the second moment (PyTorch default 0.999).
    pub beta2: f64,
    /// Added to the bias-corrected `√v` (PyTorch default 1e-8).
    pub eps: f64,
    /// Weight decay: an L2 term for Adam, decoupled for AdamW.
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    /// PyTorch's `Adam` defaults (no weight decay).
    fn default() -> Self {
        AdamConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

impl AdamConfig {
    /// PyTorch's `AdamW` defaults (weight decay 0.01).
    pub fn adamw_default() -> Self {
        AdamConfig {
            weight_decay: 0.01,
            ..Default::default()
        }
    }

    fn validate(&self) -> Result<(), OptimError> {
        check_range("beta1", self.beta1, 0.0, Some(1.0), "must be in [0, 1)")?;
        check_range("beta2", self.beta2, 0.0, Some(1.0), "must be in [0, 1)")?;
        check_range("eps", self.eps, 0.0, None, "must be >= 0")?;
        check_range("weight_decay", self.weight_decay, 0.0, None, "must be >= 0")
    }
}

/// How weight decay enters the update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecayStyle {
    /// Adam: `g ← g + wd·p`, so the decay is rescaled by the adaptive denominator.
    L2,
    /// AdamW: `p ← p·(1 − lr·wd)`, independent of the gradient statistics.
    Decoupled,
}

/// The Adam/AdamW state and update, shared by both optimizers.
#[derive(Debug, Clone)]
pub(crate) struct AdamCore {
    pub config: AdamConfig,
    pub state: SlotState<2>,
}

/// The names of Adam's state buffers, as in PyTorch's `state_dict`.
pub(crate) const ADAM_SLOTS: &[&str] = &["exp_avg", "exp_avg_sq"];

impl AdamCore {
    pub fn new(config: AdamConfig) -> Result<Self, OptimError> {
        config.validate()?;
        Ok(AdamCore {
            config,
            state: SlotState::default(),
        })
    }

    pub fn step(
        &mut self,
        params: &mut ParamStore,
        lr: f64,
        grad_scale: f32,
        style: DecayStyle,
    ) -> Result<(), OptimError> {
        check_step_args(lr, grad_scale)?;
        self.state.prepare(params)?;
        let c = &self.config;
        let t = (self.state.step + 1) as f64;
        // Scalars in f64, then rounded once: the per-element work stays in f32.
        let step_size = (lr / (1.0 - c.beta1.powf(t))) as f32;
        let inv_bias2_sqrt = (1.0 / (1.0 - c.beta2.powf(t)).sqrt()) as f32;
        // `1 − β` is formed in f64 (as PyTorch does with Python floats): in f32, 1 − 0.999f32 is
        // off by 1.3e-5 relative.
        let (beta1, one_minus_beta1) = (c.beta1 as f32, (1.0 - c.beta1) as f32);
        let (beta2, one_minus_beta2) = (c.beta2 as f32, (1.0 - c.beta2) as f32);
        let eps = c.eps as f32;
        let (l2, shrink) = match style {
            DecayStyle::L2 => (c.weight_decay as f32, 1.0f32),
            DecayStyle::Decoupled => (0.0, (1.0 - lr * c.weight_decay) as f32),
        };
        fused_update::<2, _>(
            params,
            &mut self.state.buffers,
            |master, grad, [m, v], decay| {
                let (l2, shrink) = if decay { (l2, shrink) } else { (0.0, 1.0) };
                for (((p, &g), m), v) in master
                    .iter_mut()
                    .zip(grad)
                    .zip(m.iter_mut())
                    .zip(v.iter_mut())
                {
                    let g = g * grad_scale + l2 * *p;
                    let decayed = *p * shrink;
                    *m = beta1 * *m + one_minus_beta1 * g;
                    *v = beta2 * *v + one_minus_beta2 * (g * g);
                    let denom = v.sqrt() * inv_bias2_sqrt + eps;
                    *p = decayed - step_size * (*m / denom);
                }
            },
        );
        self.state.step += 1;
        Ok(())
    }
}

/// `torch.optim.Adam` (L2 weight decay).
#[derive(Debug, Clone)]
pub struct Adam {
    core: AdamCore,
}

impl Adam {
    /// Validates the hyper-parameters and creates the optimizer with no state yet.
    pub fn new(config: AdamConfig) -> Result<Self, OptimError> {
        Ok(Adam {
            core: AdamCore::new(config)?,
        })
    }
}

/// Implements [`Optimizer`] for a wrapper around [`AdamCore`] (a struct with a `core` field):
/// Adam and AdamW differ only in their name, their config variant and how weight decay applies.
macro_rules! impl_adam_family_optimizer {
    ($ty:ty, $name:literal, $variant:path, $style:expr) => {
        impl $crate::optim::Optimizer for $ty {
            fn name(&self) -> &'static str {
                $name
            }

            fn config(&self) -> $crate::optim::OptimizerConfig {
                $variant(self.core.config.clone())
            }

            fn step_count(&self) -> u64 {
                self.core.state.step
            }

            fn step(
                &mut self,
                params: &mut $crate::params::ParamStore,
                lr: f64,
                grad_scale: f32,
            ) -> Result<(), $crate::optim::OptimError> {
                self.core.step(params, lr, grad_scale, $style)
            }

            fn state_slots(&self) -> &'static [&'static str] {
                $crate::optim::adam::ADAM_SLOTS
            }

            fn state_buffers(&self) -> Vec<Vec<&[f32]>> {
                self.core.state.views()
            }

            fn load_state(
                &mut self,
                params: &$crate::params::ParamStore,
                step: u64,
                buffers: Vec<Vec<Vec<f32>>>,
            ) -> Result<(), $crate::optim::OptimError> {
                self.core.state.load(params, step, buffers)
            }
        }
    };
}
pub(crate) use impl_adam_family_optimizer;

impl_adam_family_optimizer!(Adam, "adam", OptimizerConfig::Adam, DecayStyle::L2);

#[cfg(test)]
pub(crate) mod tests {
    use super::super::test_support::*;
    use super::super::unscale_factor;
    use super::super::Optimizer;
    use super::*;
    use crate::rng::Rng;

    /// PyTorch's documented Adam/AdamW algorithm in f64.
    pub struct ReferenceAdam {
        pub config: AdamConfig,
        pub style: DecayStyle,
        pub m: Vec<Vec<f64>>,
        pub v: Vec<Vec<f64>>,
        pub t: i32,
    }

    impl ReferenceAdam {
        pub fn new(config: AdamConfig, style: DecayStyle, params: &[Vec<f64>]) -> Self {
            let zeros: Vec<Vec<f64>> = params.iter().map(|p| vec![0.0; p.len()]).collect();
            ReferenceAdam {
                config,
                style,
                m: zeros.clone(),
                v: zeros,
                t: 0,
            }
        }

        pub fn step(
            &mut self,
            params: &mut [Vec<f64>],
            grads: &[Vec<f64>],
            decay: &[bool],
            lr: f64,
        ) {
            self.t += 1;
            let c = &self.config;
            let bc1 = 1.0 - c.beta1.powi(self.t);
            let bc2 = 1.0 - c.beta2.powi(self.t);
            for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
                let wd = if decay[i] { c.weight_decay } else { 0.0 };
                for j in 0..p.len() {
                    let mut g = g[j];
                    match self.style {
                        DecayStyle::L2 => g += wd * p[j],
                        DecayStyle::Decoupled => p[j] *= 1.0 - lr * wd,
                    }
                    self.m[i][j] = c.beta1 * self.m[i][j] + (1.0 - c.beta1) * g;
                    self.v[i][j] = c.beta2 * self.v[i][j] + (1.0 - c.beta2) * g * g;
                    let denom = self.v[i][j].sqrt() / bc2.sqrt() + c.eps;
                    p[j] -= lr / bc1 * self.m[i][j] / denom;
                }
            }
        }
    }

    /// Runs six steps of `opt` and the reference with scaled, accumulated gradients; checks the
    /// masters, the fp16 copies and the moment buffers after every step.
    pub fn run_against_reference(
        mut opt: Box<dyn Optimizer>,
        config: AdamConfig,
        style: DecayStyle,
    ) -> ParamStore {
        let mut store = make_store(21);
        let mut expected = masters_f64(&store);
        let decay: Vec<bool> = store.params().iter().map(|p| p.weight_decay()).collect();
        let mut reference = ReferenceAdam::new(config, style, &expected);
        let mut rng = Rng::new(8);
        let (accum, loss_scale) = (2u32, 32768.0f32);
        for step in 0..6 {
            let lr = 1e-2 * (1.0 - step as f64 / 10.0);
            let grads = set_scaled_grads(&mut store, &mut rng, accum as f32 * loss_scale);
            opt.step(&mut store, lr, unscale_factor(accum, loss_scale))
                .unwrap();
            reference.step(&mut expected, &grads, &decay, lr);
            assert_matches_reference(&store, &expected, 2e-6);
            let buffers = opt.state_buffers();
            for (i, slots) in buffers.iter().enumerate() {
                for (j, (&m, &v)) in slots[0].iter().zip(slots[1]).enumerate() {
                    let (rm, rv) = (reference.m[i][j], reference.v[i][j]);
                    assert!(
                        (f64::from(m) - rm).abs() <= 1e-6 * rm.abs().max(0.1),
                        "m {m} {rm}"
                    );
                    assert!(
                        (f64::from(v) - rv).abs() <= 1e-5 * rv.abs().max(1e-4),
                        "v {v} {rv}"
                    );
                }
            }
        }
        assert_eq!(opt.step_count(), 6);
        store
    }

    #[test]
    fn adam_matches_reference() {
        let config = AdamConfig::default();
        run_against_reference(
            Box::new(Adam::new(config.clone()).unwrap()),
            config,
            DecayStyle::L2,
        );
    }

    #[test]
    fn adam_with_l2_weight_decay_matches_reference() {
        let config = AdamConfig {
            weight_decay: 0.1,
            beta1: 0.8,
            beta2: 0.99,
            eps: 1e-6,
        };
        run_against_reference(
            Box::new(Adam::new(config.clone()).unwrap()),
            config,
            DecayStyle::L2,
        );
    }

    #[test]
    fn rejects_invalid_hyper_parameters() {
        for c in [
            AdamConfig {
                beta1: 1.0,
                ..Default::default()
            },
            AdamConfig {
                beta2: -0.1,
                ..Default::default()
            },
            AdamConfig {
                eps: -1e-8,
                ..Default::default()
            },
            AdamConfig {
                weight_decay: f64::INFINITY,
                ..Default::default()
            },
        ] {
            assert!(Adam::new(c.clone()).is_err(), "{c:?}");
        }
    }

    #[test]
    fn parameter_count_change_is_an_error() {
        let mut store = make_store(3);
        let mut opt = Adam::new(AdamConfig::default()).unwrap();
        opt.step(&mut store, 1e-3, 1.0).unwrap();
        let mut bigger = make_store(3);
        bigger.push("1.weight", vec![2], vec![0.0, 0.0]).unwrap();
        assert!(matches!(
            opt.step(&mut bigger, 1e-3, 1.0),
            Err(OptimError::StateMismatch(_))
        ));
    }
}
