//! Stories110M (llama2.c: 12 layers, dim 768, hidden 2048, 12 heads, seq 256, vocab 32000,
//! batch 1) plans without running anything: far fewer compiles than the ~119-per-process budget,
//! a few ANE kernels per layer under the 16 MiB kernel budget, and the ANE's share of the training FLOPs reported for both
//! weight-gradient placements (maderix keeps dW on the CPU, ane-facts §7.2).

mod plan_support;

use ane_compiler::place::{DwPlacement, PlaceReason, Placement};
use ane_compiler::plan::{plan_training_step, PlanOptions};
use ane_compiler::Op;
use ane_mil::chip::ChipFamily;
use plan_support::models::{llama, LlamaShape};

#[test]
fn stories110m_plans_with_few_compiles_on_both_chip_classes() {
    let graph = llama(LlamaShape::stories110m());
    for family in [ChipFamily::M4, ChipFamily::M1] {
        for dw in [DwPlacement::Ane, DwPlacement::Host] {
            let plan = plan_training_step(&graph, &PlanOptions::new(family).with_dw(dw))
                .unwrap_or_else(|e| panic!("Stories110M on {family}: {e}"));
            println!("{plan}");
            assert!(plan.compiles.ane + plan.compiles.host < 100, "{plan}");
            let share = plan.ane_flop_share();
            assert!(share > 0.5 && share <= 1.0, "{plan}");
            // The 12 layers share their kernels: a few per layer under the kernel budget.
            let per_layer: Vec<_> = plan
                .kernels
                .iter()
                .filter(|k| k.placement == Placement::Ane && k.dispatches_per_step == 12)
                .collect();
            assert!((2..=8).contains(&per_layer.len()), "{plan}");
            // Training FLOPs ≈ 3 × forward (6·params·tokens plus attention): ~176 GFLOP.
            let total = plan.totals.ane_flops + plan.totals.host_flops;
            assert!((170e9..185e9).contains(&(total as f64)), "{total}");
        }
    }
}

#[test]
fn the_32000_row_classifier_is_chunked_to_fit_the_m1_axis_cap() {
    let graph = llama(LlamaShape::stories110m());
    let m1 = plan_training_step(&graph, &PlanOptions::new(ChipFamily::M1)).unwrap();
    let m4 = plan_training_step(&graph, &PlanOptions::new(ChipFamily::M4)).unwrap();
    // The head's forward linear, its input gradient and its weight gradient: over the M1 axis
    // cap, and on both chips over half the 16 MiB kernel budget (49 MB of weights).
    assert_eq!(m1.chunked, 3);
    assert_eq!(m4.chunked, 3);
    assert!(m1
        .table()
        .contains("chunked: 3 contractions over the M1 axis cap of 16384 or half the kernel"));
    let contractions_on_ane = |plan: &ane_compiler::plan::Plan| {
        plan.graph
            .nodes()
            .iter()
            .zip(&plan.placements)
            .filter(|(n, _)| matches!(n.op, Op::Linear | Op::MatMul { .. }))
            .all(|(_, p)| p.placement == Placement::Ane)
    };
    assert!(contractions_on_ane(&m1) && contractions_on_ane(&m4));
    // What stays on the host on M1: the slices and concats of the 32000-wide tensors.
    for (n, p) in m1.graph.nodes().iter().zip(&m1.placements) {
        if let (Placement::Host, PlaceReason::Lowering(why)) = (p.placement, &p.reason) {
            assert!(
                matches!(n.op, Op::Slice { .. } | Op::Concat { .. }),
                "{}",
                n.op
            );
            assert!(why.contains("16384"), "{why}");
        }
    }
    assert!((m1.ane_flop_share() - m4.ane_flop_share()).abs() < 1e-3);
}

/// With an 8 MiB cap on kernel inputs and outputs (half the default 16 MiB budget) the layers
/// split into about as many kernels as maderix's dynamic pipeline uses.
#[test]
fn an_io_byte_cap_splits_layer_kernels_and_keeps_compiles_low() {
    let graph = llama(LlamaShape::stories110m());
    let mut options = PlanOptions::new(ChipFamily::M4);
    options.chip.max_kernel_io_bytes = Some(8 << 20);
    let plan = plan_training_step(&graph, &options).unwrap();
    println!("{plan}");
    for kernel in plan
        .kernels
        .iter()
        .filter(|k| k.placement == Placement::Ane)
    {
        assert!(
            kernel.bytes_in <= 8 << 20,
            "{}: {}",
            kernel.name,
            kernel.bytes_in
        );
        assert!(
            kernel.bytes_out <= 8 << 20,
            "{}: {}",
            kernel.name,
            kernel.bytes_out
        );
    }
    assert!(plan.totals.ane_dispatches > 26, "{plan}");
    assert!(plan.compiles.ane + plan.compiles.host < 100, "{plan}");
    // Every layer is split the same way: the layer kernels are each dispatched 12 times.
    let layer_dispatches: usize = plan
        .kernels
        .iter()
        .filter(|k| k.placement == Placement::Ane && k.dispatches_per_step == 12)
        .map(|k| k.dispatches_per_step)
        .sum();
    assert!(layer_dispatches >= 12 * 4, "{plan}");
    // The 32000-row head (49 MB of weights) is chunked to fit, so it stays on the ANE.
    assert!(plan.ane_flop_share() > 0.95, "{plan}");
}
