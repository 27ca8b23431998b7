//! A conformance kernel: a catalog case lowered exactly as the ANE will see it
//! (`LowerOptions::ane(dialect)`: fp16, Packed ABI, ANE limits), with deterministic inputs and the
//! outputs the f64 reference evaluator computes from them.
//!
//! Inputs are drawn from the case's ranges by a seeded [`Rng`] and rounded to fp16 *before* the
//! reference sees them: packing them into the fp16 buffer is then exact, and the comparison
//! measures the device's arithmetic, not the rounding of its inputs.

use super::cases::Case;
use super::error::ConformanceError;
use crate::rng::Rng;
use ane_compiler::eval::{evaluate, Feeds, Tensor};
use ane_compiler::lower::{lower_kernel, KernelSpec, LowerOptions, LoweredKernel};
use ane_compiler::Graph;
use ane_mil::Dialect;
use half::f16;

/// The seed `doctor` draws inputs with.
pub const DEFAULT_SEED: u64 = 0xA9E_D0C7;

/// One case, lowered and ready to run on any device.
#[derive(Debug, Clone)]
pub struct ConformanceKernel {
    /// The case's name.
    pub name: &'static str,
    /// The case's family.
    pub family: &'static str,
    /// The dialect its MIL is printed in.
    pub dialect: Dialect,
    /// The case's graph (every node is in the kernel).
    pub graph: Graph,
    /// The lowered kernel: program, constant weight files, ABI.
    pub lowered: LoweredKernel,
    /// Boundary inputs by position, fp16-representable.
    pub inputs: Vec<Vec<f32>>,
    /// Boundary output names by position.
    pub output_names: Vec<String>,
    /// Expected outputs by position (the f64 reference on `inputs`).
    pub reference: Vec<Vec<f64>>,
}

/// Lowers `case` for `dialect` and computes its inputs and expected outputs.
pub fn build_kernel(
    case: &Case,
    dialect: Dialect,
    seed: u64,
) -> Result<ConformanceKernel, ConformanceError> {
    build_kernel_with(case, &LowerOptions::ane(dialect), seed)
}

/// Lowers `case` with `options` (the hardware probes lift the I/O limits) and computes its inputs
/// and expected outputs.
pub fn build_kernel_with(
    case: &Case,
    options: &LowerOptions,
    seed: u64,
) -> Result<ConformanceKernel, ConformanceError> {
    let dialect = options.dialect;
    let graph = case.graph().map_err(|source| ConformanceError::Graph {
        case: case.name.into(),
        source,
    })?;
    let spec = KernelSpec {
        graph: &graph,
        nodes: (0..graph.nodes().len()).collect(),
        inputs: graph.inputs().iter().map(|i| i.value).collect(),
        outputs: graph.outputs().iter().map(|o| o.value).collect(),
    };
    let lowered = lower_kernel(&spec, options).map_err(|source| ConformanceError::Lower {
        case: case.name.into(),
        source,
    })?;
    let mut rng = Rng::derive(seed, case.name);
    let mut feeds = Feeds::new();
    let mut inputs = Vec::with_capacity(graph.inputs().len());
    for input in graph.inputs() {
        let graph_error = |source| ConformanceError::Graph {
            case: case.name.into(),
            source,
        };
        let shape = graph
            .value_type(input.value)
            .map_err(graph_error)?
            .shape
            .clone();
        let (lo, hi) = case.range_of(&input.name);
        let values: Vec<f32> = (0..shape.dims().iter().product::<usize>())
            .map(|_| f16::from_f32(rng.uniform(lo, hi)).to_f32())
            .collect();
        let tensor = Tensor::from_f32(shape.clone(), &values)
            .expect("one value per element of the input's shape");
        feeds.insert(input.name.clone(), tensor);
        inputs.push(values);
    }
    let expected = evaluate(&graph, &feeds).map_err(|source| ConformanceError::Reference {
        case: case.name.into(),
        source,
    })?;
    let output_names: Vec<String> = graph.outputs().iter().map(|o| o.name.clone()).collect();
    let reference = output_names
        .iter()
        .map(|name| expected[name].data().to_vec())
        .collect();
    Ok(ConformanceKernel {
        name: case.name,
        family: case.family,
        dialect,
        graph,
        lowered,
        inputs,
        output_names,
        reference,
    })
}

/// Every case of the catalog, lowered for `dialect`.
pub fn build_suite(
    dialect: Dialect,
    seed: u64,
) -> Result<Vec<ConformanceKernel>, ConformanceError> {
    super::cases::all()
        .iter()
        .map(|case| build_kernel(case, dialect, seed))
        .collect()
}

/// The short name of a dialect as users type it (`ios16`, `ios18`).
pub fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Ios16 => "ios16",
        Dialect::Ios18 => "ios18",
    }
}
