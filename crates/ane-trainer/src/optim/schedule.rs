//! Learning-rate schedules: pure functions from the (0-based) update number to the learning rate.
//!
//! Command-line syntax (case-insensitive kind, fields separated by `:`):
//!
//! | text | meaning |
//! |---|---|
//! | `constant` | `base_lr` at every step |
//! | `constant:WARMUP` | linear warmup over `WARMUP` steps, then `base_lr` |
//! | `step:EVERY:GAMMA` | `base_lr · GAMMA^⌊step / EVERY⌋` (e.g. `step:1000:0.5`) |
//! | `cosine` | cosine decay from `base_lr` at step 0 to 0 at `total_steps` |
//! | `cosine:WARMUP` | linear warmup over `WARMUP` steps, then cosine decay to 0 |
//! | `cosine:WARMUP:MIN_LR_FRACTION` | … decay to `MIN_LR_FRACTION · base_lr` (in [0, 1]) |
//! | `cosine:WARMUP:MIN_LR_FRACTION:START_FACTOR` | … warmup starting from `START_FACTOR · base_lr` |
//!
//! **Warmup** over `W` steps: step `s < W` uses `base_lr · (f₀ + (1 − f₀)·(s + 1)/W)`, where `f₀`
//! is the start factor (0 unless given). Counting `s + 1` means the first update already moves
//! (with `base_lr / W` when `f₀ = 0`) and step `W − 1` reaches `base_lr`.
//!
//! **Cosine** after warmup: `min + (base − min)·½·(1 + cos(π·p))` with
//! `p = (s − W) / (total_steps − W)` clamped to [0, 1], so it starts at `base_lr` at step `W`
//! and stays at `min` from `total_steps` on.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The shape of a schedule, independent of the base learning rate and run length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ScheduleKind {
    /// The base rate, after an optional linear warmup.
    Constant {
        /// Warmup steps (0 for none).
        warmup: u64,
    },
    /// The base rate multiplied by `gamma` every `every` steps.
    Step {
        /// Steps between decays (≥ 1).
        every: u64,
        /// Decay factor (> 0).
        gamma: f64,
    },
    /// Linear warmup, then cosine decay to `min_lr_fraction · base_lr` at the last step.
    Cosine {
        /// Warmup steps (0 for none).
        warmup: u64,
        /// The final rate as a fraction of the base rate, in [0, 1].
        min_lr_fraction: f64,
        /// The warmup starts at this fraction of the base rate, in [0, 1].
        warmup_start_factor: f64,
    },
}

/// A schedule string or its parameters were not accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    /// The text does not follow the syntax.
    #[error("invalid learning-rate schedule `{input}`: {reason} (expected constant[:WARMUP], step:EVERY:GAMMA or cosine[:WARMUP[:MIN_LR_FRACTION[:START_FACTOR]]])")]
    Parse {
        /// The text given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Well-formed, but the values do not make a schedule for this run.
    #[error("invalid learning-rate schedule: {0}")]
    Invalid(String),
}

impl FromStr for ScheduleKind {
    type Err = ScheduleError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| ScheduleError::Parse {
            input: input.to_string(),
            reason,
        };
        let fields: Vec<&str> = input.trim().split(':').map(str::trim).collect();
        let (kind, args) = fields
            .split_first()
            .expect("split yields at least one field");
        let steps = |name: &str, text: &str| {
            text.parse::<u64>().map_err(|_| {
                fail(format!(
                    "{name} must be a whole number of steps, got `{text}`"
                ))
            })
        };
        let number = |name: &str, text: &str| match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => Err(fail(format!(
                "{name} must be a finite number, got `{text}`"
            ))),
        };
        let parsed = match (kind.to_ascii_lowercase().as_str(), args) {
            ("constant", []) => ScheduleKind::Constant { warmup: 0 },
            ("constant", [w]) => ScheduleKind::Constant {
                warmup: steps("WARMUP", w)?,
            },
            ("step", [every, gamma]) => ScheduleKind::Step {
                every: steps("EVERY", every)?,
                gamma: number("GAMMA", gamma)?,
            },
            ("cosine", args) if args.len() <= 3 => ScheduleKind::Cosine {
                warmup: args.first().map_or(Ok(0), |w| steps("WARMUP", w))?,
                min_lr_fraction: args
                    .get(1)
                    .map_or(Ok(0.0), |m| number("MIN_LR_FRACTION", m))?,
                warmup_start_factor: args.get(2).map_or(Ok(0.0), |f| number("START_FACTOR", f))?,
            },
            ("constant" | "step" | "cosine", _) => {
                return Err(fail(format!("wrong number of fields for `{kind}`")))
            }
            _ => return Err(fail(format!("unknown schedule kind `{kind}`"))),
        };
        parsed.validate().map_err(|e| match e {
            ScheduleError::Invalid(reason) => fail(reason),
            other => other,
        })?;
        Ok(parsed)
    }
}

impl fmt::Display for ScheduleKind {
    /// The canonical text form, which parses back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleKind::Constant { warmup: 0 } => write!(f, "constant"),
            ScheduleKind::Constant { warmup } => write!(f, "constant:{warmup}"),
            ScheduleKind::Step { every, gamma } => write!(f, "step:{every}:{gamma}"),
            ScheduleKind::Cosine {
                warmup,
                min_lr_fraction,
                warmup_start_factor,
            } => write!(f, "cosine:{warmup}:{min_lr_fraction}:{warmup_start_factor}"),
        }
    }
}

impl ScheduleKind {
    /// Checks the values that do not depend on the run (ranges of factors and intervals).
    pub fn validate(&self) -> Result<(), ScheduleError> {
        let unit = |name: &str, x: f64| {
            if (0.0..=1.0).contains(&x) {
                Ok(())
            } else {
                Err(ScheduleError::Invalid(format!(
                    "{name} must be in [0, 1], got {x}"
                )))
            }
        };
        match *self {
            ScheduleKind::Constant { .. } => Ok(()),
            ScheduleKind::Step { every, gamma } => {
                if every == 0 {
                    return Err(ScheduleError::Invalid("EVERY must be at least 1".into()));
                }
                if !(gamma.is_finite() && gamma > 0.0) {
                    return Err(ScheduleError::Invalid(format!(
                        "GAMMA must be positive, got {gamma}"
                    )));
                }
                Ok(())
            }
            ScheduleKind::Cosine {
                min_lr_fraction,
                warmup_start_factor,
                ..
            } => {
                unit("MIN_LR_FRACTION", min_lr_fraction)?;
                unit("START_FACTOR", warmup_start_factor)
            }
        }
    }
}

/// A schedule bound to a base learning rate and a run length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    /// The shape.
    pub kind: ScheduleKind,
    /// The peak (after warmup) learning rate.
    pub base_lr: f64,
    /// The number of updates in the run (where a cosine reaches its minimum).
    pub total_steps: u64,
}

impl LrSchedule {
    /// Binds `kind` to a run; fails on a negative or non-finite `base_lr`, or a cosine whose
    /// warmup does not end before `total_steps`.
    pub fn new(kind: ScheduleKind, base_lr: f64, total_steps: u64) -> Result<Self, ScheduleError> {
        kind.validate()?;
        if !(base_lr.is_finite() && base_lr >= 0.0) {
            return Err(ScheduleError::Invalid(format!(
                "the base learning rate must be finite and non-negative, got {base_lr}"
            )));
        }
        if let ScheduleKind::Cosine { warmup, .. } = kind {
            if warmup >= total_steps {
                return Err(ScheduleError::Invalid(format!(
                    "cosine warmup of {warmup} steps must end before the run's {total_steps} total steps"
                )));
            }
        }
        Ok(LrSchedule {
            kind,
            base_lr,
            total_steps,
        })
    }

    /// The learning rate for update number `step` (0-based).
    pub fn lr(&self, step: u64) -> f64 {
        let base = self.base_lr;
        match self.kind {
            ScheduleKind::Constant { warmup } => base * warmup_factor(step, warmup, 0.0),
            ScheduleKind::Step { every, gamma } => {
                let decays = step / every;
                base * gamma.powf(decays as f64)
            }
            ScheduleKind::Cosine {
                warmup,
                min_lr_fraction,
                warmup_start_factor,
            } => {
                if step < warmup {
                    return base * warmup_factor(step, warmup, warmup_start_factor);
                }
                let span = (self.total_steps - warmup) as f64;
                let progress = ((step - warmup) as f64 / span).min(1.0);
                let min = base * min_lr_fraction;
                min + (base - min) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}

/// The warmup multiplier of step `step` (1 once warmup is over).
fn warmup_factor(step: u64, warmup: u64, start: f64) -> f64 {
    if step >= warmup {
        1.0
    } else {
        start + (1.0 - start) * (step + 1) as f64 / warmup as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(text: &str, total: u64) -> LrSchedule {
        LrSchedule::new(text.parse().unwrap(), 0.1, total).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-12)
    }

    #[test]
    fn constant_with_and_without_warmup() {
        let s = sched("constant", 10);
        assert!((0..20).all(|t| s.lr(t) == 0.1));
        let s = sched("Constant:4", 10);
        let lrs: Vec<f64> = (0..6).map(|t| s.lr(t)).collect();
        for (got, want) in lrs.iter().zip([0.025, 0.05, 0.075, 0.1, 0.1, 0.1]) {
            assert!(close(*got, want), "{lrs:?}");
        }
    }

    #[test]
    fn step_decays_every_n_steps() {
        let s = sched("step:3:0.5", 100);
        let lrs: Vec<f64> = (0..8).map(|t| s.lr(t)).collect();
        assert_eq!(lrs, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]);
    }

    #[test]
    fn cosine_warms_up_then_decays_to_min() {
        let s = sched("cosine:10:0.1", 110);
        assert!(close(s.lr(0), 0.01));
        assert!(close(s.lr(4), 0.05));
        assert!(close(s.lr(9), 0.1));
        assert!(close(s.lr(10), 0.1), "cosine starts at the peak");
        assert!(
            close(s.lr(60), 0.01 + 0.09 * 0.5),
            "half way: mean of peak and floor"
        );
        assert!(close(s.lr(110), 0.01));
        assert!(close(s.lr(1000), 0.01), "stays at the floor");
        for t in 10..110 {
            assert!(s.lr(t + 1) <= s.lr(t), "monotone after warmup");
        }
        let plain = sched("cosine", 100);
        assert!(close(plain.lr(0), 0.1));
        assert!(plain.lr(99) > 0.0 && plain.lr(100) == 0.0);
        let start = sched("cosine:4:0:0.5", 100);
        assert!(close(start.lr(0), 0.1 * (0.5 + 0.5 * 0.25)));
    }

    #[test]
    fn text_round_trips() {
        for text in [
            "constant",
            "constant:7",
            "step:100:0.5",
            "cosine:10:0.1:0.25",
            "cosine:0:0:0",
        ] {
            let kind: ScheduleKind = text.parse().unwrap();
            assert_eq!(kind.to_string(), text);
            assert_eq!(kind.to_string().parse::<ScheduleKind>().unwrap(), kind);
        }
        assert_eq!(
            " cosine : 5 ".parse::<ScheduleKind>().unwrap(),
            ScheduleKind::Cosine {
                warmup: 5,
                min_lr_fraction: 0.0,
                warmup_start_factor: 0.0
            }
        );
    }

    #[test]
    fn bad_text_is_rejected_with_a_reason() {
        for (text, needle) in [
            ("", "unknown schedule kind"),
            ("linear", "unknown schedule kind"),
            ("step", "wrong number of fields"),
            ("step:10", "wrong number of fields"),
            ("step:0:0.5", "EVERY must be at least 1"),
            ("step:10:-1", "GAMMA must be positive"),
            ("step:ten:0.5", "EVERY must be a whole number"),
            ("cosine:-3", "WARMUP must be a whole number"),
            ("cosine:10:1.5", "MIN_LR_FRACTION must be in [0, 1]"),
            ("cosine:10:nan", "MIN_LR_FRACTION must be a finite number"),
            ("cosine:1:0:0:9", "wrong number of fields"),
            ("constant:1:2", "wrong number of fields"),
        ] {
            let err = text.parse::<ScheduleKind>().unwrap_err().to_string();
            assert!(err.contains(needle), "`{text}`: {err}");
            assert!(
                err.contains("expected constant"),
                "errors show the syntax: {err}"
            );
        }
    }

    #[test]
    fn run_level_checks() {
        let cosine: ScheduleKind = "cosine:100".parse().unwrap();
        assert!(LrSchedule::new(cosine.clone(), 0.1, 100).is_err());
        assert!(LrSchedule::new(cosine, 0.1, 101).is_ok());
        assert!(LrSchedule::new(ScheduleKind::Constant { warmup: 0 }, -1.0, 10).is_err());
        assert!(LrSchedule::new(ScheduleKind::Constant { warmup: 0 }, f64::NAN, 10).is_err());
    }
}
