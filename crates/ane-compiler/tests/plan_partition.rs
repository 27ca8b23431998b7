//! Partitioning: kernels never depend on themselves through another kernel, what limited each
//! grouping is recorded, and a kernel over the chip's caps is split into pieces that fit and
//! still compute the same gradients.

mod plan_support;

use ane_compiler::autodiff::{training_graph, GradOptions};
use ane_compiler::lower::{Abi, Precision};
use ane_compiler::partition::{partition, unassigned_nodes, GroupLimit, PartitionError};
use ane_compiler::place::{
    place, DwPlacement, NodePlacement, PlaceOptions, PlaceReason, Placement,
};
use ane_compiler::plan::{plan_training_step, PlanOptions};
use ane_compiler::{DType, Graph};
use ane_mil::chip::ChipFamily;
use plan_support::models;
use plan_support::runner::{host_feeds, model_feeds, reference, run_plan};

fn options() -> PlaceOptions {
    PlaceOptions {
        caps: ChipFamily::M4.caps(),
        precision: Precision::Fp32,
        abi: Abi::Packed,
        dw: DwPlacement::Ane,
    }
}

#[test]
fn a_host_op_in_between_splits_the_ane_group_without_a_cycle() {
    let mut g = Graph::new();
    let x = g.input("x", &[64, 64], DType::F32).unwrap();
    let a = g.relu(x).unwrap(); // node 0: ANE
    let b = g.tanh(a).unwrap(); // node 1: forced to the host
    let c = g.add(b, a).unwrap(); // node 2: ANE, needs the host result
    let d = g.sigmoid(a).unwrap(); // node 3: ANE, needs only node 0
    g.output("c", c).unwrap();
    g.output("d", d).unwrap();
    let mut placements = place(&g, &options()).unwrap();
    assert!(placements.iter().all(|p| p.placement == Placement::Ane));
    placements[1] = NodePlacement {
        placement: Placement::Host,
        reason: PlaceReason::Lint("forced by the test".into()),
    };
    let groups = partition(&g, &placements, &options()).unwrap();
    let summary: Vec<(Placement, Vec<usize>)> = groups
        .iter()
        .map(|g| (g.placement, g.nodes.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Placement::Ane, vec![0]),
            (Placement::Host, vec![1]),
            (Placement::Ane, vec![2, 3]),
        ]
    );
    assert_eq!(groups[0].limit, GroupLimit::First);
    assert_eq!(
        groups[2].limit,
        GroupLimit::Dependency {
            via: Placement::Host,
            via_scope: None
        }
    );
    assert_eq!(groups[0].outputs, vec![a]);
    assert_eq!(groups[2].inputs, vec![b, a]);
    assert_eq!(groups[2].outputs, vec![c, d]);
    assert!(unassigned_nodes(&g, &placements, &groups).is_empty());
}

#[test]
fn placements_must_cover_the_graph() {
    let g = models::mlp();
    let err = partition(&g, &[], &options()).unwrap_err();
    assert!(
        matches!(err, PartitionError::PlacementCount { .. }),
        "{err}"
    );
}

/// `x · p0 · p1 · … · p7` (elementwise) with an MSE loss: every op fits a kernel alone, but the
/// nine 64×64 inputs of the whole forward do not fit one packed input under a 128 cap.
fn product_chain() -> Graph {
    let mut g = Graph::new();
    let x = g.input("x", &[64, 64], DType::F32).unwrap();
    let target = g.input("target", &[64, 64], DType::F32).unwrap();
    let mut h = x;
    for i in 0..8 {
        let p = g.param(&format!("p{i}"), &[64, 64]).unwrap();
        h = g.mul(h, p).unwrap();
    }
    let loss = g.mse_loss(h, target).unwrap();
    g.output("loss", loss).unwrap();
    training_graph(&g, "loss", &GradOptions::default()).unwrap()
}

#[test]
fn kernels_over_the_caps_are_split_and_still_compute_the_same_gradients() {
    let graph = product_chain();
    let mut caps = ChipFamily::M4.caps();
    caps.max_axis_size = 128;
    let options = PlanOptions {
        chip: caps,
        precision: Precision::Fp32,
        dw: DwPlacement::Ane,
        abi: Abi::Packed,
        memory_limit: None,
    };
    let small = plan_training_step(&graph, &options).unwrap();
    let roomy = plan_training_step(
        &graph,
        &PlanOptions::new(ChipFamily::M4).with_precision(Precision::Fp32),
    )
    .unwrap();
    let caps_splits: Vec<&GroupLimit> = small
        .dispatches
        .iter()
        .map(|d| &d.limit)
        .filter(|l| matches!(l, GroupLimit::Caps(_)))
        .collect();
    assert!(!caps_splits.is_empty(), "{small}");
    let GroupLimit::Caps(why) = caps_splits[0] else {
        unreachable!()
    };
    assert!(why.contains("128"), "{why}");
    assert!(small.table().contains("caps split before"), "{small}");
    assert!(small.totals.ane_dispatches > roomy.totals.ane_dispatches);
    for kernel in small
        .kernels
        .iter()
        .filter(|k| k.placement == Placement::Ane)
    {
        for (_, ty) in kernel
            .abi
            .input_buffers()
            .iter()
            .chain(kernel.abi.output_buffers())
        {
            let dims = ty.known_shape().unwrap();
            assert!(dims.iter().all(|&d| d <= 128), "{}: {dims:?}", kernel.name);
        }
    }
    let feeds = model_feeds(&graph, 5, 1.0, 1);
    let host = host_feeds(&graph, &feeds);
    let want = reference(&graph, &feeds);
    let got = run_plan(&small, &host);
    for (name, values) in &got {
        let scale = want[name]
            .iter()
            .fold(0f32, |m, v| m.max(v.abs()))
            .max(1e-30);
        let err = values
            .iter()
            .zip(&want[name])
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(err / scale < 1e-5, "{name}: {err} of {scale}");
    }
}

#[test]
fn every_placement_records_its_reason() {
    let graph = models::llama(models::LlamaShape::tiny(2));
    let placements = place(&graph, &options()).unwrap();
    for (n, p) in placements.iter().enumerate() {
        let op = &graph.nodes()[n].op;
        match op {
            ane_compiler::Op::Embedding
            | ane_compiler::Op::EmbeddingBackward { .. }
            | ane_compiler::Op::SoftmaxCrossEntropy
            | ane_compiler::Op::SoftmaxCrossEntropyBackward => {
                assert_eq!(p.placement, Placement::Host, "{op}");
                assert!(matches!(&p.reason, PlaceReason::HostOnly(why) if why.contains("integer")));
            }
            ane_compiler::Op::CausalMask { .. } => {
                assert_eq!(p.reason, PlaceReason::Constant);
                assert!(p.is_kernel_free());
            }
            ane_compiler::Op::MatMul { .. } | ane_compiler::Op::Linear => {
                assert_eq!(p.placement, Placement::Ane, "{op}");
                assert_eq!(p.reason, PlaceReason::FitsAne);
            }
            _ => {}
        }
        assert!(!p.reason.to_string().is_empty());
    }
}

#[test]
fn a_tiny_axis_cap_chunks_the_classifier_and_splits_kernels_without_changing_gradients() {
    // Vocabulary 100 over a cap of 96: the classifier is chunked; the layers' packed inputs
    // (at most 96 × 96 elements) force many caps splits.
    let shape = models::LlamaShape {
        layers: 2,
        dim: 64,
        hidden: 64,
        heads: 4,
        seq: 32,
        vocab: 100,
        batch: 1,
    };
    let graph = models::llama(shape);
    let mut caps = ChipFamily::M1.caps();
    caps.max_axis_size = 96;
    let options = PlanOptions {
        chip: caps,
        precision: Precision::Fp32,
        dw: DwPlacement::Ane,
        abi: Abi::Packed,
        memory_limit: None,
    };
    let plan = plan_training_step(&graph, &options).unwrap();
    assert_eq!(plan.chunked, 3, "{plan}");
    assert!(plan
        .dispatches
        .iter()
        .any(|d| matches!(d.limit, GroupLimit::Caps(_))));
    let four = plan_training_step(
        &models::llama(models::LlamaShape { layers: 4, ..shape }),
        &options,
    )
    .unwrap();
    assert_eq!(
        plan.compiles, four.compiles,
        "splits are the same in every layer"
    );
    let feeds = model_feeds(&graph, 21, 0.2, 100);
    let host = host_feeds(&graph, &feeds);
    let want = plan_support::runner::run_unpartitioned(&graph, &host);
    let got = run_plan(&plan, &host);
    for (name, values) in &got {
        let scale = want[name]
            .iter()
            .fold(0f32, |m, v| m.max(v.abs()))
            .max(1e-30);
        let err = values
            .iter()
            .zip(&want[name])
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(err / scale < 1e-5, "{name}: {err} of {scale}");
    }
}
