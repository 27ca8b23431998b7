//! What a training run reports while it runs: the library never prints; [`train`](super::train)
//! hands every line and update to a [`RunObserver`] (the CLI's progress bar, a test's recorder,
//! or [`QuietRun`]).

/// One step's figures for the display.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStatus {
    /// Updates done.
    pub step: u64,
    /// The epoch of the last batch.
    pub epoch: u64,
    /// The smoothed training loss.
    pub loss: Option<f64>,
    /// The learning rate used.
    pub lr: f64,
    /// The loss scale used.
    pub loss_scale: f32,
    /// Recent throughput.
    pub samples_per_sec: Option<f64>,
}

/// Receives a run's progress.
pub trait RunObserver {
    /// A line about the run's setup (dataset, model, devices, compiles, where it writes).
    fn info(&mut self, line: &str);
    /// The loop starts: `total` updates, `start` of them already done (a resumed run), and the
    /// configured `log_every` cadence for plain output, if any.
    fn begin(&mut self, total: u64, start: u64, log_every: Option<u64>);
    /// An update finished.
    fn step(&mut self, status: &StepStatus);
    /// A line during the loop (evaluation results).
    fn message(&mut self, line: &str);
    /// The loop ended (also when it was interrupted).
    fn finish(&mut self);
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct QuietRun;

impl RunObserver for QuietRun {
    fn info(&mut self, _: &str) {}
    fn begin(&mut self, _: u64, _: u64, _: Option<u64>) {}
    fn step(&mut self, _: &StepStatus) {}
    fn message(&mut self, _: &str) {}
    fn finish(&mut self) {}
}
