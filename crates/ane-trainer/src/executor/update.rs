//! One parameter update after `accum` micro-batches, in the order `optim` documents: check the
//! (loss-scaled) gradients for inf/NaN — skip the update and back the scale off if any — then
//! clip, then the fused optimizer step with `grad_scale = 1/(accum·S)` (times the clip factor),
//! then zero the gradients.

use super::ExecError;
use crate::optim::{
    clip_grad_norm, unscale_factor, LossScaler, LossScalerState, Optimizer, ScaleDecision,
};
use crate::params::ParamStore;

/// What one update did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpdateOutcome {
    /// False when the update was skipped for inf/NaN gradients.
    pub applied: bool,
    /// The loss scale the gradients were computed with.
    pub loss_scale: f32,
    /// The global gradient norm before clipping (measured only when clipping).
    pub grad_norm: Option<f64>,
    /// Whether clipping reduced the gradients.
    pub clipped: bool,
}

/// The optimizer, the loss scaler and the clipping threshold of a run.
#[derive(Debug)]
pub struct UpdateRule {
    optimizer: Box<dyn Optimizer>,
    scaler: LossScaler,
    clip: Option<f64>,
    accum: u32,
}

/// Consecutive skipped fp16 updates (inf/NaN gradients) after which training is declared
/// diverged.
pub const MAX_CONSECUTIVE_SKIPS: u32 = 30;

impl UpdateRule {
    /// Fails when training can no longer recover after the update of `step` with mean loss
    /// `loss`: a non-finite loss with fp32 kernels (no loss scale to blame), or
    /// [`MAX_CONSECUTIVE_SKIPS`] skipped fp16 updates in a row. `hint` says what to change.
    pub fn check_divergence(
        &self,
        precision: ane_compiler::lower::Precision,
        step: u64,
        loss: f64,
        hint: &str,
    ) -> Result<(), ExecError> {
        if precision == ane_compiler::lower::Precision::Fp32 && !loss.is_finite() {
            return Err(ExecError::Diverged {
                step,
                loss: loss.to_string(),
                hint: hint.to_string(),
            });
        }
        let skips = self.scaler_state().consecutive_skips;
        if skips >= MAX_CONSECUTIVE_SKIPS {
            return Err(ExecError::Diverged {
                step,
                loss: format!(
                    "{loss} and the last {skips} updates had inf/NaN gradients (loss scale now {})",
                    self.loss_scale()
                ),
                hint: hint.to_string(),
            });
        }
        Ok(())
    }

    /// An update rule over gradients summed over `accum` micro-batches (at least 1), clipped to
    /// global norm `clip` when given.
    pub fn new(
        optimizer: Box<dyn Optimizer>,
        scaler: LossScaler,
        clip: Option<f64>,
        accum: u32,
    ) -> UpdateRule {
        UpdateRule {
            optimizer,
            scaler,
            clip,
            accum: accum.max(1),
        }
    }

    /// The scale to seed the next backward passes with.
    pub fn loss_scale(&self) -> f32 {
        self.scaler.scale()
    }

    /// The loss scaler's counters (skips, growths, backoffs) and scale.
    pub fn scaler_state(&self) -> LossScalerState {
        self.scaler.state()
    }

    /// The optimizer.
    pub fn optimizer(&self) -> &dyn Optimizer {
        self.optimizer.as_ref()
    }

    /// The optimizer, mutably (to restore its state from a checkpoint).
    pub fn optimizer_mut(&mut self) -> &mut dyn Optimizer {
        self.optimizer.as_mut()
    }

    /// Applies (or skips) one update with learning rate `lr` and zeroes the gradients.
    pub fn apply(&mut self, params: &mut ParamStore, lr: f64) -> Result<UpdateOutcome, ExecError> {
        let used_scale = self.scaler.scale();
        let decision = self.scaler.check(params);
        let mut outcome = UpdateOutcome {
            applied: decision == ScaleDecision::Apply,
            loss_scale: used_scale,
            grad_norm: None,
            clipped: false,
        };
        if decision == ScaleDecision::Apply {
            let mut grad_scale = unscale_factor(self.accum, used_scale);
            if let Some(max_norm) = self.clip {
                let clip = clip_grad_norm(params, max_norm, grad_scale);
                grad_scale = clip.grad_scale;
                outcome.grad_norm = Some(clip.norm);
                outcome.clipped = clip.clipped;
            }
            self.optimizer.step(params, lr, grad_scale)?;
        }
        params.zero_grads();
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{LossScalerConfig, OptimizerConfig};

    fn rule(clip: Option<f64>) -> (UpdateRule, ParamStore) {
        let store = ParamStore::from_tensors([("w", vec![2], vec![1.0, -1.0])]).unwrap();
        let opt = OptimizerConfig::from_name("sgd").unwrap().build().unwrap();
        let scaler = LossScaler::new(LossScalerConfig {
            init_scale: 8.0,
            growth_interval: 2,
            ..Default::default()
        })
        .unwrap();
        (UpdateRule::new(opt, scaler, clip, 2), store)
    }

    #[test]
    fn unscales_by_accum_and_scale_then_zeroes() {
        let (mut rule, mut store) = rule(None);
        // Two micro-batches of gradient 0.5 each, scaled by 8: sum 8.
        store
            .get_mut("w")
            .unwrap()
            .accumulate_grad(&[8.0, -8.0])
            .unwrap();
        let out = rule.apply(&mut store, 0.1).unwrap();
        assert!(out.applied);
        assert_eq!(out.loss_scale, 8.0);
        assert_eq!(store.get("w").unwrap().master(), &[0.95, -0.95]);
        assert!(store.get("w").unwrap().grad().iter().all(|&g| g == 0.0));
    }

    #[test]
    fn skips_and_backs_off_on_overflow_and_grows_after_finite_steps() {
        let (mut rule, mut store) = rule(None);
        store
            .get_mut("w")
            .unwrap()
            .accumulate_grad(&[f32::INFINITY, 0.0])
            .unwrap();
        let out = rule.apply(&mut store, 0.1).unwrap();
        assert!(!out.applied);
        assert_eq!(store.get("w").unwrap().master(), &[1.0, -1.0]);
        assert!(store.get("w").unwrap().grad().iter().all(|&g| g == 0.0));
        assert_eq!(rule.loss_scale(), 4.0);
        for _ in 0..2 {
            rule.apply(&mut store, 0.1).unwrap();
        }
        assert_eq!(rule.loss_scale(), 8.0);
        let s = rule.scaler_state();
        assert_eq!((s.skipped, s.backoffs, s.growths), (1, 1, 1));
    }

    #[test]
    fn clipping_reports_the_true_norm() {
        let (mut rule, mut store) = rule(Some(1.0));
        // True gradient (3, 4)·(1/(2·8)) after unscaling is (48, 64)/16.
        store
            .get_mut("w")
            .unwrap()
            .accumulate_grad(&[48.0, 64.0])
            .unwrap();
        let out = rule.apply(&mut store, 1.0).unwrap();
        assert!(out.clipped);
        assert!((out.grad_norm.unwrap() - 5.0).abs() < 1e-9);
        let w = store.get("w").unwrap().master();
        assert!(
            (w[0] - 0.4).abs() < 1e-5 && (w[1] + 1.8).abs() < 1e-5,
            "{w:?}"
        );
    }
}
