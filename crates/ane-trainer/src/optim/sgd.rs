//! Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, following
//! `torch.optim.SGD` exactly (including dampening and the first-step momentum buffer).
//!
//! Per element, with `g` the unscaled gradient:
//! ```text
//! g ← g + wd·p                          (if weight decay is on for this parameter)
//! b ← g                                  on the first step (no dampening applied)
//! b ← momentum·b + (1 − dampening)·g     afterwards
//! d ← g + momentum·b  (Nesterov)   or   d ← b
//! p ← p − lr·d
//! ```
//! Without momentum there is no buffer and `d = g`.

use super::fused::{fused_update, SlotState};
use super::{check_range, check_step_args, OptimError, Optimizer, OptimizerConfig};
use crate::params::ParamStore;
use serde::{Deserialize, Serialize};

/// Hyper-parameters of [`Sgd`] (PyTorch's defaults: all zero, no Nesterov).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SgdConfig {
    /// Momentum factor μ (0 disables the momentum buffer).
    pub momentum: f64,
    /// Dampening τ applied to the gradient in the momentum update after the first step.
    pub dampening: f64,
    /// Use Nesterov momentum (needs momentum > 0 and dampening = 0, as in PyTorch).
    pub nesterov: bool,
    /// L2 penalty λ added to the gradient (`g + λ·p`) of parameters with weight decay enabled.
    pub weight_decay: f64,
}

/// `torch.optim.SGD`.
#[derive(Debug, Clone)]
pub struct Sgd {
    config: SgdConfig,
    state: SlotState<1>,
}

impl Sgd {
    /// Validates the hyper-parameters and creates the optimizer with no state yet.
    pub fn new(config: SgdConfig) -> Result<Self, OptimError> {
        check_range("momentum", config.momentum, 0.0, None, "must be >= 0")?;
        check_range(
            "dampening",
            config.dampening,
            0.0,
            Some(1.0 + f64::EPSILON),
            "must be in [0, 1]",
        )?;
        check_range(
            "weight_decay",
            config.weight_decay,
            0.0,
            None,
            "must be >= 0",
        )?;
        if config.nesterov && (config.momentum <= 0.0 || config.dampening != 0.0) {
            return Err(OptimError::InvalidHyperParameter {
                name: "nesterov",
                value: config.momentum,
                reason: "Nesterov momentum needs momentum > 0 and zero dampening",
            });
        }
        Ok(Sgd {
            config,
            state: SlotState::default(),
        })
    }

    fn uses_momentum(&self) -> bool {
        self.config.momentum != 0.0
    }
}

impl Optimizer for Sgd {
    fn name(&self) -> &'static str {
        "sgd"
    }

    fn config(&self) -> OptimizerConfig {
        OptimizerConfig::Sgd(self.config.clone())
    }

    fn step_count(&self) -> u64 {
        self.state.step
    }

    fn step(
        &mut self,
        params: &mut ParamStore,
        lr: f64,
        grad_scale: f32,
    ) -> Result<(), OptimError> {
        check_step_args(lr, grad_scale)?;
        let lr = lr as f32;
        let wd = self.config.weight_decay as f32;
        if !self.uses_momentum() {
            let mut no_state = vec![[]; params.len()];
            fused_update::<0, _>(params, &mut no_state, |master, grad, [], decay| {
                let wd = if decay { wd } else { 0.0 };
                for (p, &g) in master.iter_mut().zip(grad) {
                    let g = g * grad_scale + wd * *p;
                    *p -= lr * g;
                }
            });
            self.state.step += 1;
            return Ok(());
        }
        self.state.prepare(params)?;
        let momentum = self.config.momentum as f32;
        // PyTorch's first step copies the gradient into the buffer, undampened.
        let first = self.state.step == 0;
        let (keep, take) = if first {
            (0.0, 1.0)
        } else {
            (momentum, (1.0 - self.config.dampening) as f32)
        };
        let nesterov = self.config.nesterov;
        fused_update::<1, _>(
            params,
            &mut self.state.buffers,
            |master, grad, [buf], decay| {
                let wd = if decay { wd } else { 0.0 };
                // One loop per variant so each is branch-free and vectorizes.
                let elements = master.iter_mut().zip(grad).zip(buf.iter_mut());
                if nesterov {
                    for ((p, &g), b) in elements {
                        let g = g * grad_scale + wd * *p;
                        *b = keep * *b + take * g;
                        *p -= lr * (g + momentum * *b);
                    }
                } else {
                    for ((p, &g), b) in elements {
                        let g = g * grad_scale + wd * *p;
                        *b = keep * *b + take * g;
                        *p -= lr * *b;
                    }
                }
            },
        );
        self.state.step += 1;
        Ok(())
    }

    fn state_slots(&self) -> &'static [&'static str] {
        if self.uses_momentum() {
            &["momentum_buffer"]
        } else {
            &[]
        }
    }

    fn state_buffers(&self) -> Vec<Vec<&[f32]>> {
        self.state.views()
    }

    fn load_state(
        &mut self,
        params: &ParamStore,
        step: u64,
        buffers: Vec<Vec<Vec<f32>>>,
    ) -> Result<(), OptimError> {
        if !self.uses_momentum() {
            if buffers.iter().any(|b| !b.is_empty()) {
                return Err(OptimError::StateMismatch(
                    "momentum buffers given to SGD without momentum".into(),
                ));
            }
            self.state = SlotState {
                step,
                buffers: Vec::new(),
            };
            return Ok(());
        }
        self.state.load(params, step, buffers)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::rng::Rng;

    /// `torch.optim.SGD`'s documented algorithm in f64, for one parameter.
    struct ReferenceSgd {
        config: SgdConfig,
        buffers: Vec<Option<Vec<f64>>>,
    }

    impl ReferenceSgd {
        fn step(&mut self, params: &mut [Vec<f64>], grads: &[Vec<f64>], decay: &[bool], lr: f64) {
            let c = &self.config;
            for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
                let wd = if decay[i] { c.weight_decay } else { 0.0 };
                let mut g: Vec<f64> = g.iter().zip(p.iter()).map(|(g, p)| g + wd * p).collect();
                if c.momentum != 0.0 {
                    let b = match self.buffers[i].take() {
                        None => g.clone(),
                        Some(b) => b
                            .iter()
                            .zip(&g)
                            .map(|(b, g)| c.momentum * b + (1.0 - c.dampening) * g)
                            .collect(),
                    };
                    g = if c.nesterov {
                        g.iter().zip(&b).map(|(g, b)| g + c.momentum * b).collect()
                    } else {
                        b.clone()
                    };
                    self.buffers[i] = Some(b);
                }
                for (p, g) in p.iter_mut().zip(&g) {
                    *p -= lr * g;
                }
            }
        }
    }

    /// Runs five steps of both implementations with loss-scaled, accumulated gradients and
    /// returns the final store.
    fn run_against_reference(config: SgdConfig) -> ParamStore {
        let mut store = make_store(11);
        let mut reference = ReferenceSgd {
            config: config.clone(),
            buffers: vec![None, None],
        };
        let mut expected = masters_f64(&store);
        let decay: Vec<bool> = store.params().iter().map(|p| p.weight_decay()).collect();
        let mut opt = Sgd::new(config).unwrap();
        let mut rng = Rng::new(5);
        let (accum, loss_scale) = (4u32, 512.0f32);
        for step in 0..5 {
            let lr = 0.1 / (1.0 + step as f64);
            let grads = set_scaled_grads(&mut store, &mut rng, accum as f32 * loss_scale);
            opt.step(
                &mut store,
                lr,
                super::super::unscale_factor(accum, loss_scale),
            )
            .unwrap();
            reference.step(&mut expected, &grads, &decay, lr);
            assert_matches_reference(&store, &expected, 2e-6);
        }
        assert_eq!(opt.step_count(), 5);
        store
    }

    #[test]
    fn plain_sgd_matches_reference() {
        run_against_reference(SgdConfig::default());
    }

    #[test]
    fn momentum_with_weight_decay_matches_reference() {
        run_against_reference(SgdConfig {
            momentum: 0.9,
            weight_decay: 0.01,
            ..Default::default()
        });
    }

    #[test]
    fn dampening_skips_first_step_like_pytorch() {
        run_against_reference(SgdConfig {
            momentum: 0.8,
            dampening: 0.5,
            ..Default::default()
        });
    }

    #[test]
    fn nesterov_matches_reference_and_differs_from_heavy_ball() {
        let base = SgdConfig {
            momentum: 0.9,
            weight_decay: 1e-3,
            ..Default::default()
        };
        let heavy = run_against_reference(base.clone());
        let nesterov = run_against_reference(SgdConfig {
            nesterov: true,
            ..base
        });
        assert!(max_difference(&heavy, &nesterov) > 1e-3);
    }

    #[test]
    fn rejects_invalid_hyper_parameters() {
        let bad = [
            SgdConfig {
                momentum: -0.1,
                ..Default::default()
            },
            SgdConfig {
                weight_decay: f64::NAN,
                ..Default::default()
            },
            SgdConfig {
                nesterov: true,
                ..Default::default()
            },
            SgdConfig {
                nesterov: true,
                momentum: 0.9,
                dampening: 0.1,
                ..Default::default()
            },
            SgdConfig {
                dampening: 2.0,
                ..Default::default()
            },
        ];
        for c in bad {
            assert!(Sgd::new(c.clone()).is_err(), "{c:?}");
        }
    }

    #[test]
    fn state_round_trips_and_is_checked() {
        let config = SgdConfig {
            momentum: 0.9,
            ..Default::default()
        };
        let mut store = make_store(1);
        let mut opt = Sgd::new(config.clone()).unwrap();
        assert_eq!(opt.state_slots(), ["momentum_buffer"]);
        assert!(opt.state_buffers().is_empty());
        set_scaled_grads(&mut store, &mut Rng::new(2), 1.0);
        opt.step(&mut store, 0.1, 1.0).unwrap();
        let saved: Vec<Vec<Vec<f32>>> = opt
            .state_buffers()
            .iter()
            .map(|slots| slots.iter().map(|s| s.to_vec()).collect())
            .collect();
        assert_eq!(saved.len(), 2);
        let mut restored = Sgd::new(config).unwrap();
        restored.load_state(&store, 1, saved.clone()).unwrap();
        assert_eq!(restored.step_count(), 1);
        assert_eq!(restored.state_buffers(), opt.state_buffers());

        let mut short = saved.clone();
        short[1][0].pop();
        assert!(matches!(
            restored.load_state(&store, 1, short),
            Err(OptimError::StateMismatch(_))
        ));
        assert!(restored.load_state(&store, 1, vec![]).is_err());
        let mut no_momentum = Sgd::new(SgdConfig::default()).unwrap();
        assert!(no_momentum.state_slots().is_empty());
        assert!(no_momentum.load_state(&store, 3, saved).is_err());
        no_momentum.load_state(&store, 3, vec![]).unwrap();
        assert_eq!(no_momentum.step_count(), 3);
    }
}
