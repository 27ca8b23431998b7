//! Identical layers share kernels: the number of compiles of a transformer plan does not depend
//! on its depth, with explicit scopes and with scopes derived from parameter names; only the
//! dispatch count grows, by the same number of dispatches per layer.

mod plan_support;

use ane_compiler::place::DwPlacement;
use ane_compiler::plan::{plan_training_step, Plan, PlanOptions};
use ane_compiler::Graph;
use ane_mil::chip::ChipFamily;
use plan_support::models::{llama, llama_unscoped, LlamaShape};

fn plan(graph: &Graph, family: ChipFamily, dw: DwPlacement) -> Plan {
    plan_training_step(graph, &PlanOptions::new(family).with_dw(dw)).expect("plans")
}

fn check_depth_independence(build: fn(LlamaShape) -> Graph, what: &str) {
    let two = build(LlamaShape::tiny(2));
    let four = build(LlamaShape::tiny(4));
    for family in [ChipFamily::M1, ChipFamily::M4] {
        for dw in [DwPlacement::Ane, DwPlacement::Host] {
            let (p2, p4) = (plan(&two, family, dw), plan(&four, family, dw));
            let context = format!("{what} on {family}, dW on {dw:?}");
            assert_eq!(p2.compiles, p4.compiles, "{context}:\n{p2}\n{p4}");
            let per_layer = (p4.dispatches.len() - p2.dispatches.len()) / 2;
            assert_eq!(
                p2.dispatches.len() + 2 * per_layer,
                p4.dispatches.len(),
                "{context}"
            );
            assert!(per_layer >= 2, "{context}: forward and backward per layer");
            // The layer kernels are the ones dispatched once per layer.
            let layer_kernels: Vec<_> = p4
                .kernels
                .iter()
                .filter(|k| k.dispatches_per_step == 4)
                .collect();
            assert_eq!(layer_kernels.len(), per_layer, "{context}:\n{p4}");
            assert!(layer_kernels.iter().all(|k| k.name.contains("layers.N")));
        }
    }
}

#[test]
fn explicitly_scoped_layers_share_kernels() {
    check_depth_independence(llama, "scoped llama");
}

#[test]
fn layers_scoped_by_parameter_names_share_kernels() {
    check_depth_independence(llama_unscoped, "unscoped llama");
}

#[test]
fn the_two_layer_transformer_compiles_few_kernels() {
    let graph = llama(LlamaShape::tiny(2));
    let p = plan(&graph, ChipFamily::M4, DwPlacement::Ane);
    // Layer forward, layer backward, head forward, head backward on the ANE; embedding lookup,
    // cross-entropy and embedding backward on the host.
    assert_eq!(p.compiles.ane, 4, "{p}");
    assert_eq!(p.compiles.host, 3, "{p}");
    assert_eq!(p.totals.ane_dispatches, 6);
    assert_eq!(p.totals.host_dispatches, 3);
}
