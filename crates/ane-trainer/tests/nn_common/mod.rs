//! Shared helpers of the `nn` integration tests: feeds built from a `ParamStore`, deterministic
//! test data, and a central-difference gradient check on a model's training graph.
#![allow(dead_code)]

use ane_compiler::autodiff::grad_name;
use ane_compiler::eval::{evaluate, Feeds, Tensor};
use ane_compiler::{DType, Graph, GraphMode};
use ane_trainer::nn::{Loss, Model, ModelGraph};
use ane_trainer::params::ParamStore;
use ane_trainer::rng::Rng;

/// Step of the central difference `(L(θ+h) − L(θ−h)) / 2h`; the evaluator works in f64, so the
/// truncation error (∝ h²) and the rounding error (∝ 1e-16/h) are both far below the tolerance.
pub const FD_STEP: f64 = 1e-5;
/// Relative tolerance of one gradient element (relative to the larger of the two values).
pub const RTOL: f64 = 1e-5;
/// Absolute tolerance of one gradient element.
pub const ATOL: f64 = 1e-8;

/// The parameters as evaluator tensors (f32 master values widened to f64).
pub fn param_feeds(store: &ParamStore) -> Feeds {
    store
        .params()
        .iter()
        .map(|p| {
            (
                p.name().to_string(),
                Tensor::from_f32(p.shape().to_vec(), p.master()).unwrap(),
            )
        })
        .collect()
}

/// Deterministic data feeds for every data input of `mg`: uniform [0, 1) images (like
/// normalized pixels), ids below `classes` for `i32` inputs, and `(seed, step) = (7, 3)` for the
/// dropout input.
pub fn data_feeds(mg: &ModelGraph, classes: usize, seed: u64) -> Feeds {
    let mut rng = Rng::new(seed);
    let mut feeds = Feeds::new();
    for input in mg.graph.inputs() {
        if input.kind == ane_compiler::InputKind::Param {
            continue;
        }
        let ty = mg.graph.value_type(input.value).unwrap();
        let n = ty.shape.numel();
        let tensor = if Some(&input.name) == mg.dropout_rng.as_ref() {
            Tensor::from_ids([2], &[7, 3]).unwrap()
        } else if ty.dtype == DType::I32 {
            let ids: Vec<i32> = (0..n).map(|_| rng.below(classes as u64) as i32).collect();
            Tensor::from_ids(ty.shape.clone(), &ids).unwrap()
        } else {
            let v: Vec<f64> = (0..n).map(|_| rng.next_f64()).collect();
            Tensor::new(ty.shape.clone(), v).unwrap()
        };
        feeds.insert(input.name.clone(), tensor);
    }
    feeds
}

/// Params and data together.
pub fn all_feeds(mg: &ModelGraph, store: &ParamStore, classes: usize, seed: u64) -> Feeds {
    let mut feeds = param_feeds(store);
    feeds.extend(data_feeds(mg, classes, seed));
    feeds
}

/// The scalar loss of a graph.
pub fn loss_of(graph: &Graph, feeds: &Feeds) -> f64 {
    evaluate(graph, feeds).unwrap()["loss"].item().unwrap()
}

/// Result of a gradient check.
#[derive(Debug, Default)]
pub struct GradCheck {
    /// Elements compared.
    pub checked: usize,
    /// Elements whose gradient magnitude exceeds 1e-6 (so the check was not trivially 0 = 0).
    pub nonzero: usize,
    /// Largest relative error seen (|a − n| / max(|a|, |n|, 1e-12)).
    pub worst_relative: f64,
    /// Descriptions of elements outside tolerance.
    pub failures: Vec<String>,
}

/// Evaluates the training graph of `model` (batch `batch`, loss `loss`) at `store` and compares
/// the gradient of `per_param` random elements of every parameter with central differences of
/// the forward graph (same mode, same dropout masks). Returns the loss and the check.
pub fn check_gradients(
    model: &Model,
    store: &ParamStore,
    batch: usize,
    loss: Loss,
    classes: usize,
    per_param: usize,
    seed: u64,
) -> (f64, GradCheck) {
    let train = model.build_training_graph(batch, loss).unwrap();
    let forward = model
        .build_forward_graph(batch, GraphMode::Train, Some(loss), false)
        .unwrap();
    let feeds = all_feeds(&train, store, classes, seed);
    let outputs = evaluate(&train.graph, &feeds).unwrap();
    let loss_value = outputs["loss"].item().unwrap();
    assert!(
        (loss_of(&forward.graph, &feeds) - loss_value).abs() <= 1e-12 * loss_value.abs().max(1.0),
        "forward and training graphs disagree on the loss"
    );
    let mut pick = Rng::new(seed ^ 0x5eed);
    let mut check = GradCheck::default();
    for spec in model.param_specs() {
        let analytic = &outputs[&grad_name(&spec.name)];
        assert_eq!(analytic.shape().dims(), spec.shape.as_slice());
        for _ in 0..per_param {
            let index = pick.below(spec.numel() as u64) as usize;
            let mut shifted = feeds.clone();
            let original = feeds[&spec.name].data()[index];
            shifted.get_mut(&spec.name).unwrap().data_mut()[index] = original + FD_STEP;
            let up = loss_of(&forward.graph, &shifted);
            shifted.get_mut(&spec.name).unwrap().data_mut()[index] = original - FD_STEP;
            let down = loss_of(&forward.graph, &shifted);
            let numeric = (up - down) / (2.0 * FD_STEP);
            let a = analytic.data()[index];
            let scale = a.abs().max(numeric.abs());
            check.checked += 1;
            if scale > 1e-6 {
                check.nonzero += 1;
            }
            check.worst_relative = check
                .worst_relative
                .max((a - numeric).abs() / scale.max(1e-12));
            if (a - numeric).abs() > ATOL + RTOL * scale {
                check.failures.push(format!(
                    "{}[{index}]: analytic {a:e}, numeric {numeric:e}",
                    spec.name
                ));
            }
        }
    }
    (loss_value, check)
}

/// Mean and (population) standard deviation.
pub fn mean_std(values: &[f32]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}
