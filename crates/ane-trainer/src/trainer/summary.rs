//! The end-of-run summary: test accuracy, time, throughput, kernels per step, compiles and
//! loss-scale skips, printed to stdout and returned to library callers.

use crate::executor::{Phase, PhaseTimes, PlanSummary};
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// What a finished (or stopped) run reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainSummary {
    /// The run directory.
    pub out: PathBuf,
    /// The checkpoint written last.
    pub checkpoint: Option<PathBuf>,
    /// `sim` or `ane`.
    pub device: String,
    /// The model preset.
    pub model: String,
    /// The dataset.
    pub dataset: String,
    /// Updates done when the run ended.
    pub final_step: u64,
    /// Updates the run is configured for.
    pub total_steps: u64,
    /// Updates done by this invocation (fewer than `final_step` after a resume).
    pub steps_this_run: u64,
    /// Mean training loss of the last update.
    pub last_loss: Option<f64>,
    /// Test-split accuracy in [0, 1].
    pub test_accuracy: f64,
    /// Test examples classified correctly.
    pub test_correct: usize,
    /// Test examples.
    pub test_examples: usize,
    /// Mean test cross-entropy.
    pub test_loss: f64,
    /// Wall time of this invocation (setup, training, evaluation, checkpoints).
    #[serde(serialize_with = "seconds")]
    pub wall_time: Duration,
    /// Wall time spent in training steps.
    #[serde(serialize_with = "seconds")]
    pub train_time: Duration,
    /// Updates per second of training time.
    pub steps_per_sec: f64,
    /// Training examples per second of training time.
    pub samples_per_sec: f64,
    /// The training plan: compiles, dispatches and FLOPs per micro-batch.
    pub train_plan: PlanSummary,
    /// The evaluation plan.
    pub eval_plan: PlanSummary,
    /// Kernel compiles this process performed (training and evaluation plans).
    pub compiles: usize,
    /// Updates skipped for inf/NaN gradients over the whole run.
    pub loss_scale_skips: u64,
    /// Times the dynamic loss scale was halved over the whole run.
    pub loss_scale_backoffs: u64,
    /// Times the dynamic loss scale was doubled over the whole run.
    pub loss_scale_growths: u64,
    /// The loss scale at the end.
    pub final_loss_scale: f32,
    /// Training time per phase.
    #[serde(skip)]
    pub phases: PhaseTimes,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl fmt::Display for TrainSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.train_plan;
        writeln!(
            f,
            "test accuracy: {:.2}% ({}/{}), test loss {:.4}",
            100.0 * self.test_accuracy,
            self.test_correct,
            self.test_examples,
            self.test_loss
        )?;
        writeln!(
            f,
            "trained {} on {}: step {}/{} ({} this run), last loss {}",
            self.model,
            self.dataset,
            self.final_step,
            self.total_steps,
            self.steps_this_run,
            self.last_loss
                .map_or("-".to_string(), |l| format!("{l:.4}"))
        )?;
        writeln!(
            f,
            "wall time {:.1} s ({:.1} s training): {:.1} steps/s, {:.0} samples/s on {}",
            self.wall_time.as_secs_f64(),
            self.train_time.as_secs_f64(),
            self.steps_per_sec,
            self.samples_per_sec,
            self.device
        )?;
        writeln!(
            f,
            "kernels per micro-batch: {} ({} ANE + {} host dispatches); compiles: {} ({} ANE + {} host for training, {} for evaluation)",
            p.dispatches(),
            p.ane_dispatches,
            p.host_dispatches,
            self.compiles,
            p.ane_kernels,
            p.host_kernels,
            self.eval_plan.compiles()
        )?;
        let total = self.phases.total().as_secs_f64().max(1e-12);
        let shares: Vec<String> = Phase::ALL
            .iter()
            .map(|&ph| {
                format!(
                    "{} {:.0}%",
                    ph.name(),
                    100.0 * self.phases.get(ph).as_secs_f64() / total
                )
            })
            .collect();
        writeln!(f, "step time: {}", shares.join(", "))?;
        writeln!(
            f,
            "loss scale: {} skipped update(s), {} backoff(s), {} growth(s), final scale {}",
            self.loss_scale_skips,
            self.loss_scale_backoffs,
            self.loss_scale_growths,
            self.final_loss_scale
        )?;
        match &self.checkpoint {
            Some(c) => write!(f, "checkpoint: {}", c.display()),
            None => write!(f, "run directory: {}", self.out.display()),
        }
    }
}
