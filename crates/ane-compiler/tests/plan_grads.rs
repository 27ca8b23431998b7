//! Gradients through partitioned plans: every model's fp32 packed plan, run dispatch by dispatch
//! on the simulator, gives the gradients of the whole training graph run as one fp32 multi-input
//! kernel, and those of the f64 reference evaluator.

mod plan_support;

use ane_compiler::lower::Precision;
use ane_compiler::place::DwPlacement;
use ane_compiler::plan::{plan_training_step, PlanOptions};
use ane_compiler::Graph;
use ane_mil::chip::ChipFamily;
use plan_support::models::{self, LlamaShape};
use plan_support::runner::{host_feeds, model_feeds, reference, run_plan, run_unpartitioned};
use std::collections::BTreeMap;

/// `max |a − b| / max |b|` (0 when both are all zeros).
fn relative_error(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0f64, |m, &x| m.max(x.abs() as f64));
    let diff = a
        .iter()
        .zip(b)
        .fold(0f64, |m, (&x, &y)| m.max((x as f64 - y as f64).abs()));
    if scale == 0.0 {
        diff
    } else {
        diff / scale
    }
}

fn compare(
    what: &str,
    got: &BTreeMap<String, Vec<f32>>,
    want: &BTreeMap<String, Vec<f32>>,
    tolerance: f64,
) {
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}: outputs differ"
    );
    for (name, values) in got {
        let err = relative_error(values, &want[name]);
        assert!(
            err <= tolerance,
            "{what}: {name} differs by {err:e} (relative to its largest element), tolerance {tolerance:e}"
        );
    }
}

/// Plans `graph` in fp32 (packed ABI) for both dW placements and both chip classes, runs each
/// plan, and compares with the unpartitioned kernel and the f64 reference.
fn check_model(name: &str, graph: &Graph, classes: usize, scale: f64) {
    let feeds = model_feeds(graph, 7, scale, classes);
    let host = host_feeds(graph, &feeds);
    let whole = run_unpartitioned(graph, &host);
    let f64_reference = reference(graph, &feeds);
    compare(
        &format!("{name} unpartitioned vs f64"),
        &whole,
        &f64_reference,
        1e-4,
    );
    for family in [ChipFamily::M1, ChipFamily::M4] {
        for dw in [DwPlacement::Ane, DwPlacement::Host] {
            let options = PlanOptions::new(family)
                .with_precision(Precision::Fp32)
                .with_dw(dw);
            let plan = plan_training_step(graph, &options).expect("plans");
            assert!(plan.dispatches.len() > 1, "{name}: the plan is partitioned");
            let got = run_plan(&plan, &host);
            let what = format!("{name} on {family} with dW on {dw:?}");
            compare(
                &format!("{what}: plan vs unpartitioned"),
                &got,
                &whole,
                1e-5,
            );
            compare(&format!("{what}: plan vs f64"), &got, &f64_reference, 1e-4);
        }
    }
}

#[test]
fn mlp_gradients_through_the_plan_match_the_whole_graph() {
    check_model("mlp", &models::mlp(), 10, 0.1);
}

#[test]
fn cnn_gradients_through_the_plan_match_the_whole_graph() {
    check_model("cnn", &models::cnn(), 10, 0.3);
}

#[test]
fn transformer_gradients_through_the_plan_match_the_whole_graph() {
    check_model("llama", &models::llama(LlamaShape::tiny(2)), 100, 0.1);
}

#[test]
fn dropout_masks_are_step_inputs_and_match_the_reference() {
    let graph = models::mlp_with_dropout();
    let mut feeds = model_feeds(&graph, 3, 0.1, 10);
    feeds.insert(
        ane_compiler::DROPOUT_RNG_INPUT.to_string(),
        ane_compiler::eval::Tensor::from_ids(vec![2], &[1234, 5]).unwrap(),
    );
    let host = host_feeds(&graph, &feeds);
    let plan = plan_training_step(
        &graph,
        &PlanOptions::new(ChipFamily::M4).with_precision(Precision::Fp32),
    )
    .unwrap();
    let masks: Vec<&str> = plan
        .step_inputs
        .iter()
        .filter(|v| {
            matches!(
                v.kind,
                ane_compiler::plan::StepValueKind::DropoutMask { .. }
            )
        })
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(masks, vec!["dropout_mask.0"]);
    let got = run_plan(&plan, &host);
    compare("dropout mlp", &got, &reference(&graph, &feeds), 1e-4);
}

#[test]
fn multi_input_ane_kernels_give_the_same_gradients() {
    for (name, graph, classes, scale) in [
        ("mlp", models::mlp(), 10, 0.1),
        ("llama", models::llama(LlamaShape::tiny(2)), 100, 0.1),
    ] {
        let feeds = model_feeds(&graph, 9, scale, classes);
        let host = host_feeds(&graph, &feeds);
        let whole = run_unpartitioned(&graph, &host);
        let mut options = PlanOptions::new(ChipFamily::M4)
            .with_precision(Precision::Fp32)
            .with_abi(ane_compiler::lower::Abi::MultiInput);
        // Logical-shape buffers break the ANE's I/O rules; this checks the ABI, not the rules.
        options.chip = options.chip.without_io_rules();
        let plan = plan_training_step(&graph, &options).unwrap();
        let ane = plan
            .kernels
            .iter()
            .find(|k| k.placement == ane_compiler::place::Placement::Ane)
            .unwrap();
        assert!(
            ane.abi.input_buffers().len() > 1,
            "{name}: one buffer per input"
        );
        compare(name, &run_plan(&plan, &host), &whole, 1e-5);
    }
}
