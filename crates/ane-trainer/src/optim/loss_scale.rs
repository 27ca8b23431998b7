//! Dynamic loss scaling for fp16 gradients (`torch.cuda.amp.GradScaler` semantics, with bounds).
//!
//! The loss gradient is multiplied by the scale `S` before the backward pass so small fp16
//! gradients do not flush to zero; the optimizer divides it back out (see
//! [`unscale_factor`](super::unscale_factor)). After the backward pass [`LossScaler::check`]
//! looks at every gradient:
//!
//! * some gradient is inf/NaN → the update is skipped and `S` is multiplied by the backoff
//!   factor (default ½, not below `min_scale`);
//! * otherwise the update is applied, and after `growth_interval` consecutive finite steps `S` is
//!   multiplied by the growth factor (default 2, not above `max_scale`).
//!
//! **Defaults.** `S₀ = 65536 = 2¹⁶` and a growth interval of 2000, as PyTorch's GradScaler. The
//! costs are lopsided: starting too high costs one skipped step per halving (from 2¹⁶, at most a
//! handful of steps at the start of a run), while starting too low silently loses gradient bits to
//! fp16 underflow and takes `growth_interval` steps per doubling to recover. The scale is kept in
//! `[1, 2²⁴]`: below 1 scaling no longer helps against underflow, and the upper bound stops the
//! scale running away when gradients are all zero (e.g. frozen parts of a model).

use crate::params::ParamStore;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Elements per parallel work item of the finiteness check.
const CHECK_CHUNK: usize = 32 * 1024;

/// Settings of a [`LossScaler`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossScalerConfig {
    /// The starting scale.
    pub init_scale: f32,
    /// Multiplier applied after `growth_interval` consecutive finite steps (> 1).
    pub growth_factor: f32,
    /// Multiplier applied after a step with inf/NaN gradients (in (0, 1)).
    pub backoff_factor: f32,
    /// Consecutive finite steps before the scale grows.
    pub growth_interval: u32,
    /// The smallest scale backoff may reach.
    pub min_scale: f32,
    /// The largest scale growth may reach.
    pub max_scale: f32,
    /// When false the scale never changes (steps with inf/NaN gradients are still skipped).
    pub dynamic: bool,
}

impl Default for LossScalerConfig {
    fn default() -> Self {
        LossScalerConfig {
            init_scale: 65536.0,
            growth_factor: 2.0,
            backoff_factor: 0.5,
            growth_interval: 2000,
            min_scale: 1.0,
            max_scale: 16_777_216.0,
            dynamic: true,
        }
    }
}

/// Why a loss-scaler configuration or state was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid loss scaler setting {name} = {value}: {reason}")]
pub struct LossScalerError {
    /// The offending setting.
    pub name: &'static str,
    /// Its value.
    pub value: f64,
    /// What it must satisfy.
    pub reason: &'static str,
}

impl LossScalerConfig {
    /// A scaler that keeps `scale` forever (e.g. 1 for fp32 training).
    pub fn fixed(scale: f32) -> Self {
        LossScalerConfig {
            init_scale: scale,
            min_scale: scale,
            max_scale: scale,
            dynamic: false,
            ..Default::default()
        }
    }

    fn validate(&self) -> Result<(), LossScalerError> {
        let fail = |name, value: f32, reason| LossScalerError {
            name,
            value: f64::from(value),
            reason,
        };
        if !(self.min_scale.is_finite() && self.min_scale > 0.0) {
            return Err(fail(
                "min_scale",
                self.min_scale,
                "must be finite and positive",
            ));
        }
        if !(self.max_scale.is_finite() && self.max_scale >= self.min_scale) {
            return Err(fail(
                "max_scale",
                self.max_scale,
                "must be finite and >= min_scale",
            ));
        }
        if !(self.init_scale >= self.min_scale && self.init_scale <= self.max_scale) {
            return Err(fail(
                "init_scale",
                self.init_scale,
                "must lie in [min_scale, max_scale]",
            ));
        }
        if !(self.growth_factor.is_finite() && self.growth_factor > 1.0) {
            return Err(fail(
                "growth_factor",
                self.growth_factor,
                "must be finite and > 1",
            ));
        }
        if !(self.backoff_factor > 0.0 && self.backoff_factor < 1.0) {
            return Err(fail(
                "backoff_factor",
                self.backoff_factor,
                "must be in (0, 1)",
            ));
        }
        if self.growth_interval == 0 {
            return Err(fail("growth_interval", 0.0, "must be at least 1"));
        }
        Ok(())
    }
}

/// Everything a [`LossScaler`] has counted; saved in checkpoints to resume exactly.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossScalerState {
    /// The current scale `S`.
    pub scale: f32,
    /// Consecutive finite steps since the scale last changed (or since the last skip).
    pub good_steps: u32,
    /// Steps checked (applied + skipped).
    pub steps: u64,
    /// Steps skipped because some gradient was inf/NaN.
    pub skipped: u64,
    /// Times the scale grew.
    pub growths: u64,
    /// Times the scale backed off.
    pub backoffs: u64,
    /// Skipped steps in a row (a long run at `min_scale` means the model diverged).
    pub consecutive_skips: u32,
}

/// Whether the optimizer should apply this step's gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleDecision {
    /// Every gradient is finite: run the optimizer.
    Apply,
    /// Some gradient is inf/NaN: zero the gradients and skip the update.
    Skip,
}

/// The dynamic loss scaler: the current scale and its grow/backoff bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct LossScaler {
    config: LossScalerConfig,
    state: LossScalerState,
}

impl LossScaler {
    /// A scaler at `config.init_scale` with all counters at zero.
    pub fn new(config: LossScalerConfig) -> Result<Self, LossScalerError> {
        config.validate()?;
        let state = LossScalerState {
            scale: config.init_scale,
            good_steps: 0,
            steps: 0,
            skipped: 0,
            growths: 0,
            backoffs: 0,
            consecutive_skips: 0,
        };
        Ok(LossScaler { config, state })
    }

    /// A scaler continuing from a checkpointed state. The saved scale must lie within the
    /// configured bounds.
    pub fn from_state(
        config: LossScalerConfig,
        state: LossScalerState,
    ) -> Result<Self, LossScalerError> {
        config.validate()?;
        if !(state.scale >= config.min_scale && state.scale <= config.max_scale) {
            return Err(LossScalerError {
                name: "scale",
                value: f64::from(state.scale),
                reason: "saved scale lies outside [min_scale, max_scale]",
            });
        }
        Ok(LossScaler { config, state })
    }

    /// The settings.
    pub fn config(&self) -> &LossScalerConfig {
        &self.config
    }

    /// The current scale `S` to multiply the loss gradient by.
    pub fn scale(&self) -> f32 {
        self.state.scale
    }

    /// The counters and scale, for metrics and checkpoints.
    pub fn state(&self) -> LossScalerState {
        self.state
    }

    /// Checks every gradient in `params` for inf/NaN and records the outcome (see
    /// [`LossScaler::record`]).
    pub fn check(&mut self, params: &ParamStore) -> ScaleDecision {
        self.record(grads_all_finite(params))
    }

    /// Records whether this step's gradients were all finite, adjusts the scale and says whether
    /// to apply the update.
    pub fn record(&mut self, all_finite: bool) -> ScaleDecision {
        let s = &mut self.state;
        let c = &self.config;
        s.steps += 1;
        if !all_finite {
            s.skipped += 1;
            s.consecutive_skips = s.consecutive_skips.saturating_add(1);
            s.good_steps = 0;
            if c.dynamic {
                let lowered = (s.scale * c.backoff_factor).max(c.min_scale);
                if lowered < s.scale {
                    s.backoffs += 1;
                }
                s.scale = lowered;
            }
            return ScaleDecision::Skip;
        }
        s.consecutive_skips = 0;
        s.good_steps += 1;
        if c.dynamic && s.good_steps >= c.growth_interval {
            s.good_steps = 0;
            let raised = (s.scale * c.growth_factor).min(c.max_scale);
            if raised > s.scale {
                s.growths += 1;
            }
            s.scale = raised;
        }
        ScaleDecision::Apply
    }
}

/// True when no element of `values` is inf or NaN; parallel over chunks.
pub fn all_finite(values: &[f32]) -> bool {
    values.par_chunks(CHECK_CHUNK).all(chunk_is_finite)
}

/// True when every gradient of every parameter is finite; parallel over chunks of all of them.
pub fn grads_all_finite(params: &ParamStore) -> bool {
    params
        .params()
        .iter()
        .flat_map(|p| p.grad().chunks(CHECK_CHUNK))
        .collect::<Vec<&[f32]>>()
        .into_par_iter()
        .all(chunk_is_finite)
}

/// Branch-free check (an exponent of all ones marks inf and NaN) so the loop vectorizes.
fn chunk_is_finite(chunk: &[f32]) -> bool {
    const EXPONENT: u32 = 0x7f80_0000;
    let non_finite = chunk.iter().fold(0u32, |acc, x| {
        acc | u32::from(x.to_bits() & EXPONENT == EXPONENT)
    });
    non_finite == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scaler(interval: u32) -> LossScaler {
        LossScaler::new(LossScalerConfig {
            init_scale: 1024.0,
            growth_interval: interval,
            min_scale: 256.0,
            max_scale: 4096.0,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn grows_after_interval_of_finite_steps() {
        let mut s = scaler(3);
        for _ in 0..2 {
            assert_eq!(s.record(true), ScaleDecision::Apply);
            assert_eq!(s.scale(), 1024.0);
        }
        assert_eq!(s.record(true), ScaleDecision::Apply);
        assert_eq!(s.scale(), 2048.0);
        assert_eq!(s.state().growths, 1);
        assert_eq!(s.state().good_steps, 0);
        for _ in 0..3 {
            s.record(true);
        }
        assert_eq!(s.scale(), 4096.0);
        for _ in 0..3 {
            s.record(true);
        }
        assert_eq!(s.scale(), 4096.0, "capped at max_scale");
        assert_eq!(s.state().growths, 2, "no growth counted at the cap");
    }

    #[test]
    fn backs_off_skips_and_resets_the_run() {
        let mut s = scaler(3);
        s.record(true);
        s.record(true);
        assert_eq!(s.record(false), ScaleDecision::Skip);
        assert_eq!(s.scale(), 512.0);
        assert_eq!(s.state().good_steps, 0);
        // The run restarts: two more finite steps do not grow yet.
        s.record(true);
        s.record(true);
        assert_eq!(s.scale(), 512.0);
        s.record(true);
        assert_eq!(s.scale(), 1024.0);
        assert_eq!(s.record(false), ScaleDecision::Skip);
        assert_eq!(s.record(false), ScaleDecision::Skip);
        assert_eq!(s.record(false), ScaleDecision::Skip);
        assert_eq!(s.scale(), 256.0, "floored at min_scale");
        let st = s.state();
        assert_eq!(
            (
                st.steps,
                st.skipped,
                st.growths,
                st.backoffs,
                st.consecutive_skips
            ),
            (9, 4, 1, 3, 3),
            "the skip at the floor counts as a skip but not as a backoff"
        );
        s.record(true);
        assert_eq!(s.state().consecutive_skips, 0);
    }

    #[test]
    fn fixed_scaler_never_changes_but_still_skips() {
        let mut s = LossScaler::new(LossScalerConfig::fixed(1.0)).unwrap();
        assert_eq!(s.record(false), ScaleDecision::Skip);
        for _ in 0..5000 {
            s.record(true);
        }
        assert_eq!(s.scale(), 1.0);
        assert_eq!(
            (s.state().skipped, s.state().growths, s.state().backoffs),
            (1, 0, 0)
        );
    }

    #[test]
    fn default_is_pytorch_like() {
        let s = LossScaler::new(LossScalerConfig::default()).unwrap();
        assert_eq!(s.scale(), 65536.0);
        assert_eq!(s.config().growth_interval, 2000);
    }

    #[test]
    fn rejects_bad_settings_and_states() {
        let bad = [
            LossScalerConfig {
                growth_factor: 1.0,
                ..Default::default()
            },
            LossScalerConfig {
                backoff_factor: 1.0,
                ..Default::default()
            },
            LossScalerConfig {
                growth_interval: 0,
                ..Default::default()
            },
            LossScalerConfig {
                min_scale: 0.0,
                ..Default::default()
            },
            LossScalerConfig {
                init_scale: 1e9,
                ..Default::default()
            },
            LossScalerConfig {
                max_scale: f32::INFINITY,
                ..Default::default()
            },
            LossScalerConfig {
                init_scale: f32::NAN,
                ..Default::default()
            },
        ];
        for c in bad {
            assert!(LossScaler::new(c.clone()).is_err(), "{c:?}");
        }
        let mut st = scaler(3).state();
        st.scale = 1e6;
        let cfg = scaler(3).config().clone();
        assert!(LossScaler::from_state(cfg.clone(), st).is_err());
        st.scale = 512.0;
        assert_eq!(LossScaler::from_state(cfg, st).unwrap().scale(), 512.0);
    }

    #[test]
    fn finiteness_check_finds_any_bad_value() {
        let mut v = vec![1.0f32; 3 * CHECK_CHUNK + 5];
        assert!(all_finite(&v));
        assert!(all_finite(&[]));
        for bad in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN, -f32::NAN] {
            let i = 2 * CHECK_CHUNK + 3;
            v[i] = bad;
            assert!(!all_finite(&v), "{bad}");
            v[i] = f32::MAX;
            assert!(all_finite(&v));
        }
        let mut store =
            ParamStore::from_tensors([("a", vec![4], vec![0.0; 4]), ("b", vec![2], vec![0.0; 2])])
                .unwrap();
        let mut s = scaler(3);
        assert_eq!(s.check(&store), ScaleDecision::Apply);
        store.get_mut("b").unwrap().grad_mut()[1] = f32::NAN;
        assert!(!grads_all_finite(&store));
        assert_eq!(s.check(&store), ScaleDecision::Skip);
    }
}
