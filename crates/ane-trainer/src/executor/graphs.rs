//! The graphs the executor runs, traced from a [`Model`]: the training step (forward, loss and
//! every parameter gradient, with the backward pass seeded by a runtime loss-scale input) and the
//! forward-only evaluation graph (logits).
//!
//! The training graph is built here rather than by [`Model::build_training_graph`] because the
//! executor owns dynamic loss scaling: the loss gradient must be multiplied by the scale `S`
//! before backward, and `S` changes between steps without recompiling anything.

use crate::nn::{GradOutput, Loss, Model, ModelGraph, NnError, LOSS_OUTPUT};
use ane_compiler::autodiff::{grad_name, training_graph_with_loss_scale, GradOptions};
use ane_compiler::GraphMode;

/// The f32 scalar input that seeds the backward pass (the loss scale `S`).
pub const LOSS_SCALE_INPUT: &str = "loss_scale";

/// The training-step graph of `model` for micro-batches of `batch_size`: outputs `loss`
/// (unscaled), then `grad.<param>` (multiplied by the [`LOSS_SCALE_INPUT`] fed each step) for
/// every parameter in declaration order.
pub fn training_step_graph(
    model: &Model,
    batch_size: usize,
    loss: Loss,
) -> Result<ModelGraph, NnError> {
    let forward = model.build_forward_graph(batch_size, GraphMode::Train, Some(loss), false)?;
    let graph = training_graph_with_loss_scale(
        &forward.graph,
        LOSS_OUTPUT,
        &GradOptions::default(),
        LOSS_SCALE_INPUT,
    )
    .map_err(|source| NnError::Build {
        context: "autodiff with a loss-scale seed".into(),
        source,
    })?;
    let grads = model
        .param_specs()
        .iter()
        .map(|s| GradOutput {
            param: s.name.clone(),
            output: grad_name(&s.name),
        })
        .collect();
    Ok(ModelGraph {
        graph,
        grads,
        ..forward
    })
}

/// The evaluation graph of `model` (dropout off) for batches of `batch_size`: outputs `logits`.
pub fn eval_graph(model: &Model, batch_size: usize) -> Result<ModelGraph, NnError> {
    model.build_eval_graph(batch_size, None)
}
