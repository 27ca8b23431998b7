//! Optimizers and everything around an update: the [`Optimizer`] trait and its implementations
//! (SGD, Adam, AdamW — one file each, PyTorch semantics), learning-rate schedules, global-norm
//! gradient clipping and dynamic loss scaling.
//!
//! One training update, as the executor runs it:
//!
//! 1. backward passes of `accum` micro-batches add loss-scaled gradients into the
//!    [`ParamStore`] (`loss · S` was differentiated);
//! 2. [`LossScaler::check`] looks for inf/NaN in every gradient: on overflow the update is
//!    skipped (grads zeroed, `S` halved);
//! 3. [`clip_grad_norm`] measures the true gradient norm and folds the clip factor into the
//!    gradient scale (no extra sweep);
//! 4. [`Optimizer::step`] with `lr = schedule.lr(step)` and that gradient scale unscales, updates
//!    the fp32 masters and writes the fp16 copies in one parallel pass;
//! 5. the trainer zeroes the gradients.

mod adam;
mod adamw;
mod clip;
mod fused;
mod loss_scale;
mod schedule;
mod sgd;
#[cfg(test)]
mod test_support;

pub use adam::{Adam, AdamConfig};
pub use adamw::AdamW;
pub use clip::{clip_grad_norm, global_grad_norm, ClipOutcome};
pub use loss_scale::{
    all_finite, grads_all_finite, LossScaler, LossScalerConfig, LossScalerError, LossScalerState,
    ScaleDecision,
};
pub use schedule::{LrSchedule, ScheduleError, ScheduleKind};
pub use sgd::{Sgd, SgdConfig};

use crate::params::ParamStore;
use serde::{Deserialize, Serialize};

/// Why an optimizer could not be built, step or take state.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimError {
    /// A hyper-parameter (or the learning rate / gradient scale of a step) is out of range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidHyperParameter {
        /// The hyper-parameter.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What is wrong.
        reason: &'static str,
    },
    /// The optimizer's state does not match the parameter store.
    #[error("optimizer state does not match the parameters: {0}")]
    StateMismatch(String),
    /// An optimizer name that is not `sgd`, `adam` or `adamw`.
    #[error("unknown optimizer `{0}` (expected sgd, adam or adamw)")]
    UnknownOptimizer(String),
}

/// An optimizer over a [`ParamStore`]: owns its state (momentum, moments, step count), updates
/// the fp32 master weights and the fp16 copies, and exposes its state for checkpoints.
pub trait Optimizer: Send + Sync + std::fmt::Debug {
    /// The short name written to checkpoints: `sgd`, `adam` or `adamw`.
    fn name(&self) -> &'static str;

    /// The hyper-parameters (everything but the learning rate, which the schedule supplies).
    fn config(&self) -> OptimizerConfig;

    /// How many updates have been applied.
    fn step_count(&self) -> u64;

    /// Applies one update to every parameter. The gradient used is `param.grad · grad_scale`
    /// (pass `1 / (accum · loss_scale)`, times a clip factor, so unscaling is fused). Also
    /// refreshes every fp16 copy. Does not zero the gradients and does not check them for
    /// inf/NaN (the loss scaler does).
    fn step(&mut self, params: &mut ParamStore, lr: f64, grad_scale: f32)
        -> Result<(), OptimError>;

    /// The names of the per-parameter state buffers, e.g. `["exp_avg", "exp_avg_sq"]`; written
    /// into checkpoints as `<param>.<slot>`.
    fn state_slots(&self) -> &'static [&'static str];

    /// The state buffers, per parameter (store order) and per slot (`state_slots` order); empty
    /// before the first step or for an optimizer without state.
    fn state_buffers(&self) -> Vec<Vec<&[f32]>>;

    /// Replaces the state (from a checkpoint): the step count and buffers shaped like
    /// [`Optimizer::state_buffers`]. Fails, leaving the state unchanged, when they do not match
    /// `params`.
    fn load_state(
        &mut self,
        params: &ParamStore,
        step: u64,
        buffers: Vec<Vec<Vec<f32>>>,
    ) -> Result<(), OptimError>;
}

/// Hyper-parameters of any optimizer, serialized as `{"name": "adamw", "beta1": 0.9, …}` into
/// checkpoint sidecars and accepted back from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name")]
pub enum OptimizerConfig {
    /// `torch.optim.SGD`.
    #[serde(rename = "sgd")]
    Sgd(SgdConfig),
    /// `torch.optim.Adam` (L2 weight decay added to the gradient).
    #[serde(rename = "adam")]
    Adam(AdamConfig),
    /// `torch.optim.AdamW` (decoupled weight decay).
    #[serde(rename = "adamw")]
    AdamW(AdamConfig),
}

impl OptimizerConfig {
    /// PyTorch's defaults for `sgd` (no momentum), `adam` (betas 0.9/0.999, eps 1e-8, no decay)
    /// or `adamw` (the same with weight decay 0.01).
    pub fn from_name(name: &str) -> Result<Self, OptimError> {
        match name.to_ascii_lowercase().as_str() {
            "sgd" => Ok(Self::Sgd(SgdConfig::default())),
            "adam" => Ok(Self::Adam(AdamConfig::default())),
            "adamw" => Ok(Self::AdamW(AdamConfig::adamw_default())),
            _ => Err(OptimError::UnknownOptimizer(name.to_string())),
        }
    }

    /// The short name: `sgd`, `adam` or `adamw`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sgd(_) => "sgd",
            Self::Adam(_) => "adam",
            Self::AdamW(_) => "adamw",
        }
    }

    /// Validates the hyper-parameters and builds the optimizer with fresh state.
    pub fn build(&self) -> Result<Box<dyn Optimizer>, OptimError> {
        Ok(match self {
            Self::Sgd(c) => Box::new(Sgd::new(c.clone())?),
            Self::Adam(c) => Box::new(Adam::new(c.clone())?),
            Self::AdamW(c) => Box::new(AdamW::new(c.clone())?),
        })
    }
}

/// The gradient scale to pass to [`Optimizer::step`] for gradients summed over `accum_steps`
/// micro-batches of a loss multiplied by `loss_scale`: `1 / (accum_steps · loss_scale)`.
pub fn unscale_factor(accum_steps: u32, loss_scale: f32) -> f32 {
    (1.0 / (f64::from(accum_steps.max(1)) * f64::from(loss_scale))) as f32
}

/// Checks the per-step arguments shared by every optimizer.
fn check_step_args(lr: f64, grad_scale: f32) -> Result<(), OptimError> {
    if !(lr.is_finite() && lr >= 0.0) {
        return Err(OptimError::InvalidHyperParameter {
            name: "learning rate",
            value: lr,
            reason: "must be finite and non-negative",
        });
    }
    if !(grad_scale.is_finite() && grad_scale > 0.0) {
        return Err(OptimError::InvalidHyperParameter {
            name: "gradient scale",
            value: f64::from(grad_scale),
            reason: "must be finite and positive",
        });
    }
    Ok(())
}

/// Fails unless `lo <= value` (and `value < hi` when `hi` is given) and `value` is finite.
fn check_range(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: Option<f64>,
    reason: &'static str,
) -> Result<(), OptimError> {
    let ok = value.is_finite() && value >= lo && hi.is_none_or(|h| value < h);
    if ok {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperParameter {
            name,
            value,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_json_round_trip_and_names() {
        for name in ["sgd", "adam", "adamw"] {
            let c = OptimizerConfig::from_name(name).unwrap();
            assert_eq!(c.name(), name);
            let json = serde_json::to_value(&c).unwrap();
            assert_eq!(json["name"], name);
            let back: OptimizerConfig = serde_json::from_value(json).unwrap();
            assert_eq!(back, c);
            let opt = c.build().unwrap();
            assert_eq!(opt.name(), name);
            assert_eq!(opt.config(), c);
        }
        assert!(matches!(
            OptimizerConfig::from_name("lamb"),
            Err(OptimError::UnknownOptimizer(_))
        ));
        if let OptimizerConfig::AdamW(c) = OptimizerConfig::from_name("AdamW").unwrap() {
            assert_eq!(c.weight_decay, 0.01);
        } else {
            panic!("AdamW expected");
        }
    }

    #[test]
    fn unscale_factor_is_exact_for_powers_of_two() {
        assert_eq!(unscale_factor(1, 65536.0), 1.0 / 65536.0);
        assert_eq!(unscale_factor(4, 1024.0), 1.0 / 4096.0);
        assert_eq!(
            unscale_factor(0, 2.0),
            0.5,
            "zero micro-batches treated as one"
        );
    }

    #[test]
    fn step_arguments_are_checked() {
        let mut store = ParamStore::from_tensors([("w", vec![1], vec![1.0])]).unwrap();
        let mut opt = OptimizerConfig::from_name("adam").unwrap().build().unwrap();
        assert!(opt.step(&mut store, -1.0, 1.0).is_err());
        assert!(opt.step(&mut store, f64::NAN, 1.0).is_err());
        assert!(opt.step(&mut store, 0.1, 0.0).is_err());
        assert!(opt.step(&mut store, 0.1, f32::INFINITY).is_err());
        assert_eq!(opt.step_count(), 0);
        assert_eq!(store.get("w").unwrap().master(), &[1.0]);
    }
}
