//! How a [`Trainer`](super::Trainer) reports progress: it never prints; it hands every event to
//! an [`Observer`] (a progress bar in the CLI, a callback in Python, nothing by default) and
//! returns a [`History`].

use serde::Serialize;

/// One update of a fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepEvent {
    /// Updates applied so far (this one included), counted over the trainer's life.
    pub step: u64,
    /// The epoch of this fit the update belongs to (0-based).
    pub epoch: u64,
    /// Updates this fit will apply.
    pub total_steps: u64,
    /// Mean training loss of the update's micro-batches.
    pub loss: f64,
    /// The learning rate used.
    pub lr: f64,
    /// The fp16 loss scale after the update.
    pub loss_scale: f32,
    /// False when inf/NaN gradients skipped the update.
    pub applied: bool,
    /// Training examples per second so far in this fit.
    pub samples_per_sec: f64,
}

/// The end of one epoch of a fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpochEvent {
    /// The epoch (0-based).
    pub epoch: u64,
    /// Mean training loss over its updates.
    pub loss: f64,
    /// Accuracy on the validation data, when some was given.
    pub val_accuracy: Option<f64>,
    /// Mean loss on the validation data, when some was given.
    pub val_loss: Option<f64>,
}

/// What a trainer reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A line of information (where kernels run, what was compiled).
    Info(String),
    /// An update was applied (or skipped).
    Step(StepEvent),
    /// An epoch ended (after its validation, if any).
    Epoch(EpochEvent),
}

/// Receives a trainer's events.
pub trait Observer {
    /// Called for every event, in order.
    fn on_event(&mut self, event: &Event);
}

/// Ignores every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {
    fn on_event(&mut self, _: &Event) {}
}

impl<F: FnMut(&Event)> Observer for F {
    fn on_event(&mut self, event: &Event) {
        self(event)
    }
}

/// What a fit did: one record per update and per epoch.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct History {
    /// Every update, in order.
    pub steps: Vec<StepEvent>,
    /// Every completed epoch, in order.
    pub epochs: Vec<EpochEvent>,
    /// True when the fit stopped early because the interrupt flag was raised.
    pub interrupted: bool,
}
