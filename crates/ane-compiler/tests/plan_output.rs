//! What a plan shows: the table (one row per kernel, totals, compiles, ANE FLOP share, grouping
//! limits, host reasons) and the dump (every kernel's `model.mil` and weight files, `plan.txt`).

mod plan_support;

use ane_compiler::place::DwPlacement;
use ane_compiler::plan::{plan_training_step, PlanError, PlanOptions, StepValueKind};
use ane_compiler::Graph;
use ane_mil::chip::ChipFamily;
use plan_support::models::{self, LlamaShape};

#[test]
fn the_table_lists_kernels_totals_and_limits() {
    let graph = models::llama(LlamaShape::tiny(2));
    let plan = plan_training_step(
        &graph,
        &PlanOptions::new(ChipFamily::M4).with_dw(DwPlacement::Host),
    )
    .unwrap();
    let table = plan.to_string();
    assert_eq!(table, plan.table());
    for kernel in &plan.kernels {
        assert!(table.contains(&kernel.name), "{table}");
    }
    for needle in [
        "chip M4 (ios18), fp16 ANE kernels, packed ABI, dW on the host",
        "per step: 11 dispatches (6 ANE, 5 host)",
        "ANE FLOP share",
        "compiles: 4 ANE kernels",
        "grouping limited by:",
        "scope ×",
        "weight gradient, dw placed on the host",
        "integer tensors",
        "k01_ane_layers.N_fwd",
    ] {
        assert!(table.contains(needle), "missing {needle:?} in\n{table}");
    }
    let dispatches = plan.dispatch_table();
    assert_eq!(dispatches.lines().count(), plan.dispatches.len());
    assert!(
        dispatches.contains("scope boundary layers.0 → layers.1"),
        "{dispatches}"
    );
    assert_eq!(plan.buffer_table().lines().count(), plan.buffers.len());
}

#[test]
fn step_values_name_every_input_and_output() {
    let graph = models::llama(LlamaShape::tiny(2));
    let plan = plan_training_step(&graph, &PlanOptions::new(ChipFamily::M4)).unwrap();
    let params = plan
        .step_inputs
        .iter()
        .filter(|v| v.kind == StepValueKind::Param)
        .count();
    assert_eq!(params, 2 * 9 + 3);
    let ids: Vec<&str> = plan
        .step_inputs
        .iter()
        .filter(|v| v.kind == StepValueKind::Ids)
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(ids, vec!["tokens", "labels"]);
    assert_eq!(plan.step_outputs[0].kind, StepValueKind::Loss);
    assert!(plan.step_outputs[1..]
        .iter()
        .all(|o| matches!(&o.kind, StepValueKind::Gradient(of) if o.name == format!("grad.{of}"))));
    let wq = plan
        .buffers
        .iter()
        .find(|b| b.name == "layers.0.attention.wq.weight")
        .expect("parameters cross into kernels");
    assert_eq!(wq.shape, vec![64, 64]);
    assert_eq!(wq.bytes, 64 * 64 * 4);
    assert!(!wq.readers.is_empty());
}

#[test]
fn dump_writes_every_kernel_and_the_plan() {
    let graph = models::llama(LlamaShape::tiny(2));
    let plan = plan_training_step(&graph, &PlanOptions::new(ChipFamily::M1)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    plan.dump(dir.path()).unwrap();
    for kernel in &plan.kernels {
        let text =
            std::fs::read_to_string(dir.path().join(&kernel.name).join("model.mil")).unwrap();
        assert_eq!(ane_mil::parse(&text).unwrap(), kernel.program);
        for (path, bytes) in kernel.weights.iter() {
            let file = dir
                .path()
                .join(&kernel.name)
                .join(ane_mil::WeightFiles::relative_path(path));
            assert_eq!(std::fs::read(file).unwrap(), bytes);
        }
    }
    // The attention kernels carry the causal mask as a weight file.
    assert!(plan.kernels.iter().any(|k| !k.weights.is_empty()));
    let text = std::fs::read_to_string(dir.path().join("plan.txt")).unwrap();
    assert!(text.starts_with(&plan.table()));
    assert!(text.contains("dispatches:") && text.contains("buffers:"));
}

#[test]
fn a_graph_without_outputs_is_an_error() {
    let err = plan_training_step(&Graph::new(), &PlanOptions::new(ChipFamily::M4)).unwrap_err();
    assert_eq!(err, PlanError::NoOutputs);
    assert!(err.to_string().contains("no outputs"));
}
