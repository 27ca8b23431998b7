//! Models too large for memory fail fast with the sizes instead of aborting on an allocation,
//! shapes whose size overflows are refused when built, and a plan's memory estimate adds up
//! (issue 15).

mod plan_support;

use ane_compiler::autodiff::{training_graph, GradOptions};
use ane_compiler::plan::{plan_training_step, PlanError, PlanOptions};
use ane_compiler::{DType, Graph, GraphError};
use ane_mil::chip::ChipFamily;
use plan_support::models;
use std::time::{Duration, Instant};

/// `--widths 784,2000000000,10`-like: a linear layer far larger than any machine.
fn huge_mlp(hidden: usize) -> Graph {
    let mut g = Graph::new();
    let x = g.input("images", &[128, 784], DType::F32).unwrap();
    let labels = g.input_ids("labels", &[128]).unwrap();
    let w0 = g.param("0.weight", &[hidden, 784]).unwrap();
    let h = g.linear(x, w0, None).unwrap();
    let w1 = g.param("1.weight", &[10, hidden]).unwrap();
    let logits = g.linear(h, w1, None).unwrap();
    let loss = g.cross_entropy(logits, labels).unwrap();
    g.output("loss", loss).unwrap();
    training_graph(&g, "loss", &GradOptions::default()).unwrap()
}

#[test]
fn a_model_larger_than_memory_fails_fast_with_the_sizes() {
    let graph = huge_mlp(2_000_000_000);
    let options = PlanOptions::new(ChipFamily::M4).with_memory_limit(Some(16 << 30));
    let started = Instant::now();
    let err = plan_training_step(&graph, &options).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "not fast: {:?}",
        started.elapsed()
    );
    assert!(matches!(err, PlanError::TooLarge { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "the model is too large: the parameters with their gradients (two fp32 copies) need \
         11.6 TiB but only 16.0 GiB of memory is available; lower the batch size or the \
         model's dimensions"
    );
    // The default limit is the available memory: an error as well, not an abort.
    if ane_mil::host::available_memory().is_some() {
        let err = plan_training_step(&graph, &PlanOptions::new(ChipFamily::M4)).unwrap_err();
        assert!(matches!(err, PlanError::TooLarge { .. }), "{err}");
    }
}

#[test]
fn one_value_larger_than_memory_is_named() {
    // Small parameters, but a batch of activations no machine holds.
    let mut g = Graph::new();
    let x = g.input("x", &[1 << 20, 1 << 16], DType::F32).unwrap();
    let w = g.param("w", &[1 << 16]).unwrap();
    let y = g.mul(x, w).unwrap();
    let loss = g.sum_all(y).unwrap();
    g.output("loss", loss).unwrap();
    let graph = training_graph(&g, "loss", &GradOptions::default()).unwrap();
    let options = PlanOptions::new(ChipFamily::M4).with_memory_limit(Some(8 << 30));
    let message = plan_training_step(&graph, &options)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("of shape [1048576, 65536] needs 256.0 GiB but only 8.0 GiB"),
        "{message}"
    );
}

#[test]
fn shapes_whose_size_overflows_are_refused_when_built() {
    let mut g = Graph::new();
    let err = g.input("x", &[1 << 40, 1 << 40], DType::F32).unwrap_err();
    assert!(matches!(err, GraphError::TooLarge { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("more elements than 64-bit sizes can count"));
    // Inferred shapes too: an outer product of two large vectors.
    let a = g.input("a", &[1 << 31, 1], DType::F32).unwrap();
    let b = g.input("b", &[1, 1 << 31], DType::F32).unwrap();
    let err = g.matmul(a, b).unwrap_err();
    assert!(matches!(err, GraphError::TooLarge { .. }), "{err}");
}

#[test]
fn the_memory_estimate_adds_up_and_checks() {
    let graph = models::mlp();
    let plan = plan_training_step(&graph, &PlanOptions::new(ChipFamily::M4)).unwrap();
    let params = 4 * (256 * 784 + 256 + 10 * 256 + 10) as u64;
    let adam = plan.memory_estimate(2, true);
    assert_eq!(adam.parameters, params);
    assert_eq!(adam.gradients, params);
    assert_eq!(adam.optimizer_state, 2 * params);
    assert!(adam.buffers > 0 && adam.simulator > 0);
    assert_eq!(
        adam.total(),
        adam.parameters
            + adam.gradients
            + adam.optimizer_state
            + adam.buffers
            + adam.kernel_weights
            + adam.simulator
    );
    let sgd = plan.memory_estimate(0, true);
    assert_eq!(sgd.optimizer_state, 0);
    let on_ane = plan.memory_estimate(2, false);
    assert!(
        on_ane.simulator < adam.simulator,
        "ANE kernels are not simulated on a Mac"
    );
    assert!(adam.check(adam.total()).is_ok());
    let err = adam.check(1 << 20).unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("training needs about "), "{message}");
    assert!(message.contains("optimizer state 1.6 MiB"), "{message}");
    assert!(
        message.ends_with(
            "but only 1.0 MiB is available; lower the batch size or the model's dimensions"
        ),
        "{message}"
    );
}
