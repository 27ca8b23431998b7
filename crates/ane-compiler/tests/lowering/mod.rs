//! Shared helpers for the lowering tests: the op catalog, whole-graph kernel specs, the four
//! kernel configurations, feeds and program checks.
#![allow(dead_code)]

pub mod cases;
pub mod models;
pub mod run;

use crate::common::TestRng;
use ane_compiler::eval::{Feeds, Tensor};
use ane_compiler::lower::{
    Abi, KernelSpec, LowerOptions, LoweredKernel, LoweringLimits, Precision,
};
use ane_compiler::{DType, Graph};
use ane_mil::Dialect;
use cases::Case;

/// A kernel holding every node of `graph`, its inputs in declaration order and its outputs in
/// declaration order.
pub fn whole_spec(graph: &Graph) -> KernelSpec<'_> {
    KernelSpec {
        graph,
        nodes: (0..graph.nodes().len()).collect(),
        inputs: graph.inputs().iter().map(|i| i.value).collect(),
        outputs: graph.outputs().iter().map(|o| o.value).collect(),
    }
}

/// A named kernel configuration.
pub struct Config {
    pub name: &'static str,
    pub opts: LowerOptions,
}

/// fp32 multi-input (host), fp32 packed, fp16 multi-input and fp16 packed (ANE limits for fp16).
pub fn configs() -> Vec<Config> {
    let with = |precision, abi, limits| LowerOptions {
        precision,
        dialect: Dialect::Ios18,
        abi,
        limits,
    };
    vec![
        Config {
            name: "fp32 multi-input",
            opts: LowerOptions::host(),
        },
        Config {
            name: "fp32 packed",
            opts: with(Precision::Fp32, Abi::Packed, LoweringLimits::host()),
        },
        Config {
            name: "fp16 multi-input",
            opts: with(Precision::Fp16, Abi::MultiInput, LoweringLimits::ane()),
        },
        Config {
            name: "fp16 packed",
            opts: LowerOptions::ane(Dialect::Ios18),
        },
    ]
}

/// Whether a case can lower under `opts`.
pub fn supports(case: &Case, opts: &LowerOptions) -> bool {
    !case.host_only || opts.allows_integer_tensors()
}

/// Random feeds for a case: its ids below their limits, its ranges, (−1, 1) otherwise.
pub fn case_feeds(case: &Case, graph: &Graph, seed: u64) -> Feeds {
    let mut rng = TestRng::new(seed);
    let mut feeds = Feeds::new();
    for input in graph.inputs() {
        let ty = graph.value_type(input.value).unwrap();
        let dims = ty.shape.dims();
        let tensor = if ty.dtype == DType::I32 {
            let limit = case
                .ids
                .iter()
                .find(|(n, _)| *n == input.name)
                .map(|(_, l)| *l)
                .unwrap_or_else(|| panic!("{}: no id limit for `{}`", case.name, input.name));
            rng.ids(dims, limit)
        } else {
            let (lo, hi) = case
                .ranges
                .iter()
                .find(|(n, _, _)| *n == input.name)
                .map(|&(_, lo, hi)| (lo, hi))
                .unwrap_or((-1.0, 1.0));
            rng.tensor(dims, lo, hi)
        };
        feeds.insert(input.name.clone(), tensor);
    }
    feeds
}

/// The kernel's program validates, prints and parses back to itself, its weight files satisfy
/// every BLOBFILE reference, and its ABI names the program's parameters and outputs.
pub fn check_program(kernel: &LoweredKernel, what: &str) {
    let program = &kernel.program;
    ane_mil::validate::validate(program)
        .unwrap_or_else(|e| panic!("{what}: does not validate:\n{e}"));
    let text = ane_mil::print(program);
    let parsed = ane_mil::parse(&text).unwrap_or_else(|e| panic!("{what}: parse: {e}\n{text}"));
    assert_eq!(
        &parsed, program,
        "{what}: text round trip changed the program"
    );
    let problems = ane_mil::blob::check_refs(program, &kernel.weights);
    assert!(problems.is_empty(), "{what}: weight refs: {problems:?}");
    let main = program.main().expect("a main function");
    let params: Vec<_> = main
        .params
        .iter()
        .map(|p| (p.name.clone(), p.ty.as_tensor().unwrap().clone()))
        .collect();
    assert_eq!(params, kernel.abi.input_buffers(), "{what}: input buffers");
    let outputs: Vec<_> = kernel
        .abi
        .output_buffers()
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(outputs, main.outputs, "{what}: output buffers");
}

/// The f64 reference tensor of `name` as f32s.
pub fn reference(outputs: &std::collections::BTreeMap<String, Tensor>, name: &str) -> Vec<f32> {
    outputs[name].to_f32()
}
