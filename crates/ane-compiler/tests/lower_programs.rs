//! Lowered programs as programs: every op of the catalog lowers under every configuration that
//! can hold it, validates, round-trips through MIL text and satisfies its weight references;
//! structurally identical kernels print identical text; what cannot be lowered fails with a clear
//! error; the ANE workarounds show up in the emitted ops.

mod common;
mod lowering;

use ane_compiler::lower::{
    lower_kernel, Abi, KernelSpec, LowerError, LowerOptions, LoweringLimits, Precision,
};
use ane_compiler::{DType, Graph, ValueId};
use ane_mil::Dialect;
use lowering::models::transformer_layer;
use lowering::{cases, check_program, configs, supports, whole_spec};

#[test]
fn every_op_lowers_validates_and_round_trips_in_every_configuration() {
    let mut lowered = 0;
    for case in cases::all() {
        let graph = case.graph();
        for config in configs() {
            if !supports(&case, &config.opts) {
                continue;
            }
            let what = format!("{} ({})", case.name, config.name);
            let kernel = lower_kernel(&whole_spec(&graph), &config.opts)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            check_program(&kernel, &what);
            lowered += 1;
        }
        // The verbose M1–M3 dialect too.
        let mut opts = LowerOptions::ane(Dialect::Ios16);
        if case.host_only {
            opts = LowerOptions {
                dialect: Dialect::Ios16,
                ..LowerOptions::host()
            };
        }
        let kernel = lower_kernel(&whole_spec(&graph), &opts)
            .unwrap_or_else(|e| panic!("{} (ios16): {e}", case.name));
        check_program(&kernel, &format!("{} (ios16)", case.name));
    }
    assert!(lowered > 200, "only {lowered} kernels lowered");
}

#[test]
fn host_only_ops_are_rejected_for_ane_kernels_with_a_reason() {
    for case in cases::all().into_iter().filter(|c| c.host_only) {
        let graph = case.graph();
        for config in configs()
            .into_iter()
            .filter(|c| !c.opts.allows_integer_tensors())
        {
            let err = lower_kernel(&whole_spec(&graph), &config.opts).unwrap_err();
            assert!(
                matches!(err, LowerError::Unsupported { .. }),
                "{} ({}): {err}",
                case.name,
                config.name
            );
            assert!(err.to_string().contains("host"), "{err}");
        }
    }
}

#[test]
fn dropout_masks_are_host_ops() {
    let mut g = Graph::new();
    let x = g.input("x", &[4, 4], DType::F32).unwrap();
    let y = g.dropout(x, 0.5).unwrap();
    g.output("y", y).unwrap();
    for opts in [LowerOptions::host(), LowerOptions::ane(Dialect::Ios18)] {
        let err = lower_kernel(&whole_spec(&g), &opts).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("dropout_mask") && text.contains("executor"),
            "{text}"
        );
    }
    // The multiply alone, with the mask as an input, lowers.
    let mask = g.nodes()[0].output;
    let spec = KernelSpec {
        graph: &g,
        nodes: vec![1],
        inputs: vec![x, mask],
        outputs: vec![y],
    };
    lower_kernel(&spec, &LowerOptions::ane(Dialect::Ios18)).unwrap();
}

/// The kernel of nodes `first..last` with boundary inputs in first-read order.
fn layer_spec(g: &Graph, nodes: std::ops::Range<usize>, output: ValueId) -> KernelSpec<'_> {
    let inside: std::collections::HashSet<ValueId> =
        nodes.clone().map(|n| g.nodes()[n].output).collect();
    let mut inputs = Vec::new();
    for n in nodes.clone() {
        for &v in &g.nodes()[n].inputs {
            if !inside.contains(&v) && !inputs.contains(&v) {
                inputs.push(v);
            }
        }
    }
    KernelSpec {
        graph: g,
        nodes: nodes.collect(),
        inputs,
        outputs: vec![output],
    }
}

#[test]
fn identical_layers_print_identical_programs() {
    let mut g = Graph::new();
    let x = g.input("x", &[8, 32], DType::F32).unwrap();
    let y0 = transformer_layer(&mut g, x, 0, 4);
    let boundary = g.nodes().len();
    let y1 = transformer_layer(&mut g, y0, 1, 4);
    g.output("y", y1).unwrap();
    let spec0 = layer_spec(&g, 0..boundary, y0);
    let spec1 = layer_spec(&g, boundary..g.nodes().len(), y1);
    assert_eq!(spec0.inputs.len(), spec1.inputs.len());
    assert_ne!(spec0.inputs, spec1.inputs, "different bindings");
    let all_opts = [
        LowerOptions::ane(Dialect::Ios18),
        LowerOptions::ane(Dialect::Ios16),
        LowerOptions::host(),
    ];
    for opts in all_opts {
        let k0 = lower_kernel(&spec0, &opts).unwrap();
        let k1 = lower_kernel(&spec1, &opts).unwrap();
        check_program(&k0, "layer 0");
        let (t0, t1) = (ane_mil::print(&k0.program), ane_mil::print(&k1.program));
        assert_eq!(t0, t1, "the two layers' programs differ");
        assert_eq!(k0.weights, k1.weights);
        assert_eq!(k0.abi, k1.abi);
        assert!(
            !k0.weights.is_empty(),
            "RoPE tables and the mask are weight files"
        );
        assert!(
            !t0.contains("layers."),
            "graph names leaked into the program"
        );
    }
}

#[test]
fn ane_workarounds_appear_in_the_program() {
    let mut g = Graph::new();
    let x = g.input("x", &[6, 20], DType::F32).unwrap();
    let w = g.param("w", &[5, 20]).unwrap();
    let y = g.linear(x, w, None).unwrap();
    let a = g.input("a", &[2, 3], DType::F32).unwrap();
    let b = g.input("b", &[2, 4], DType::F32).unwrap();
    let c = g.input("c", &[2, 5], DType::F32).unwrap();
    let cat = g.concat(&[a, b, c], 1).unwrap();
    let sm = g.softmax(cat, -1).unwrap();
    let n = g.param("n", &[12]).unwrap();
    let norm = g.rms_norm(sm, n, 1e-5).unwrap();
    g.output("y", y).unwrap();
    g.output("norm", norm).unwrap();
    let ane = lower_kernel(&whole_spec(&g), &LowerOptions::ane(Dialect::Ios18)).unwrap();
    let counts = &ane.mil_op_counts;
    // 3-way concat as two binary concats, plus the output concat of the two results.
    assert_eq!(counts.get("concat"), Some(&3), "{counts:?}");
    // The 20-wide contraction is padded to 32 on both operands.
    assert!(counts.get("pad").copied().unwrap_or(0) >= 2, "{counts:?}");
    // Softmax over 12 is decomposed; no rsqrt, no reduce_mean anywhere.
    assert!(!counts.contains_key("softmax"), "{counts:?}");
    assert!(counts.contains_key("pow") && !counts.contains_key("rsqrt"));
    assert!(!counts.contains_key("reduce_mean"));
    let host = lower_kernel(&whole_spec(&g), &LowerOptions::host()).unwrap();
    assert_eq!(host.mil_op_counts.get("softmax"), Some(&1));
    assert_eq!(host.mil_op_counts.get("pad"), None);
    assert_eq!(host.flops, ane.flops);
    assert_eq!(ane.flops, 2 * 6 * 5 * 20 + 5 * 24 + 6 * 24);
}

#[test]
fn oversized_axes_are_reported() {
    let mut g = Graph::new();
    let x = g.input("x", &[20000], DType::F32).unwrap();
    let y = g.relu(x).unwrap();
    g.output("y", y).unwrap();
    let err = lower_kernel(&whole_spec(&g), &LowerOptions::ane(Dialect::Ios18)).unwrap_err();
    assert!(
        matches!(err, LowerError::AxisTooLarge { size: 20000, .. }),
        "{err}"
    );
    let mut opts = LowerOptions::ane(Dialect::Ios18);
    opts.limits.max_axis_size = Some(65536);
    lower_kernel(&whole_spec(&g), &opts).unwrap();
}

#[test]
fn unpackable_boundaries_are_reported() {
    let mut g = Graph::new();
    let x = g.input("x", &[100, 100], DType::F32).unwrap();
    let y = g.relu(x).unwrap();
    g.output("y", y).unwrap();
    let mut opts = LowerOptions::ane(Dialect::Ios18);
    opts.limits.max_axis_size = Some(64);
    let err = lower_kernel(&whole_spec(&g), &opts).unwrap_err();
    assert!(matches!(err, LowerError::Packing(_)), "{err}");
    opts.abi = Abi::MultiInput;
    assert!(matches!(
        lower_kernel(&whole_spec(&g), &opts),
        Err(LowerError::AxisTooLarge { size: 100, .. })
    ));
}

#[test]
fn bad_specs_are_errors() {
    let mut g = Graph::new();
    let x = g.input("x", &[3], DType::F32).unwrap();
    let y = g.relu(x).unwrap();
    let z = g.tanh(y).unwrap();
    let opts = LowerOptions::host();
    let cases = [
        (vec![1], vec![x], vec![z], "neither a boundary input"),
        (vec![5], vec![x], vec![z], "out of range"),
        (vec![0], vec![x, x], vec![y], "listed twice"),
        (vec![0], vec![x], vec![z], "neither produced"),
        (vec![1, 0], vec![x], vec![z], "neither a boundary input"),
    ];
    for (nodes, inputs, outputs, message) in cases {
        let spec = KernelSpec {
            graph: &g,
            nodes,
            inputs,
            outputs,
        };
        let err = lower_kernel(&spec, &opts).unwrap_err();
        assert!(err.to_string().contains(message), "{err}");
    }
}

#[test]
fn pass_through_and_repeated_outputs_get_their_own_values() {
    let mut g = Graph::new();
    let x = g.input("x", &[3, 4], DType::F32).unwrap();
    let y = g.relu(x).unwrap();
    for opts in [LowerOptions::host(), LowerOptions::ane(Dialect::Ios18)] {
        let spec = KernelSpec {
            graph: &g,
            nodes: vec![0],
            inputs: vec![x],
            outputs: vec![x, y, y],
        };
        let kernel = lower_kernel(&spec, &opts).unwrap();
        check_program(&kernel, "pass-through");
        let names: std::collections::HashSet<_> =
            kernel.abi.output_buffers().iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), kernel.abi.output_buffers().len());
    }
}

#[test]
fn precision_sets_every_float_type() {
    let case = cases::all()
        .into_iter()
        .find(|c| c.name == "layer_norm")
        .unwrap();
    let graph = case.graph();
    for (precision, other) in [(Precision::Fp16, "fp32"), (Precision::Fp32, "fp16")] {
        let opts = LowerOptions {
            precision,
            ..LowerOptions::ane(Dialect::Ios18)
        };
        let kernel = lower_kernel(&whole_spec(&graph), &opts).unwrap();
        let text = ane_mil::print(&kernel.program);
        assert!(!text.contains(&format!("tensor<{other},")), "{text}");
        assert!(!text.contains(&format!("{other}(")), "{text}");
    }
    let _ = LoweringLimits::host();
}

/// The emitted MIL of a small MLP layer (linear + bias + ReLU, 20 → 8 features, batch 3) as an
/// ANE kernel: packed I/O, contraction padded to 32. Reviewed by hand; changes must be deliberate.
#[test]
fn snapshot_of_a_packed_fp16_linear_relu_kernel() {
    let mut g = Graph::new();
    let x = g.input("x", &[3, 20], DType::F32).unwrap();
    let w = g.param("w", &[8, 20]).unwrap();
    let b = g.param("b", &[8]).unwrap();
    let h = g.linear(x, w, Some(b)).unwrap();
    let y = g.relu(h).unwrap();
    g.output("y", y).unwrap();
    let kernel = lower_kernel(&whole_spec(&g), &LowerOptions::ane(Dialect::Ios18)).unwrap();
    insta::assert_snapshot!(ane_mil::print(&kernel.program));
}
