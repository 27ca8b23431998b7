//! Lowering: any set of IR nodes → one validated MIL kernel (program + constant weight files) and
//! its I/O ABI ([`crate::abi::KernelAbi`]).
//!
//! [`lower_kernel`] takes a [`KernelSpec`] (nodes of a graph in execution order, the boundary
//! values they read and the values needed outside, both by position) and [`LowerOptions`]
//! (precision, dialect, ABI, chip limits). Every IR op lowers to MIL ops in one module per op
//! family (`ops`); the ABI glue (packing boundary tensors into and out of the kernel) lives in
//! `io`. Weights and activations are always kernel inputs; only true constants (causal masks,
//! RoPE tables, pooling divisor tables) become weight files.
//!
//! The MIL text depends only on the kernel's structure (ops, shapes, attributes, boundary
//! positions) — never on value ids or graph names — so identical layers share one compiled kernel.
//!
//! ANE workarounds applied (ane-facts §2 and §6, landscape "ANE constraints to encode"):
//! `reduce_mean` → `reduce_sum` × 1/N; `rsqrt` → `pow(x, −0.5)`; matmul contractions zero-padded
//! to [`LoweringLimits::matmul_inner_multiple`]; concats split into trees of
//! [`LoweringLimits::max_concat_inputs`]; softmax decomposed off power-of-two sizes when
//! [`LoweringLimits::softmax_power_of_two_only`]; attention is never fused SDPA (the IR has no
//! such op; its causal mask is an explicit constant); convolutions are im2col + matmul (runtime-
//! weight `conv` fails on the ANE beyond batch 1 and for groups), in every precision, so host and
//! ANE kernels share one formulation; every axis of every tensor is checked against
//! [`LoweringLimits::max_axis_size`].

mod arith;
mod context;
mod error;
mod flops;
mod io;
pub(crate) mod ops;
mod options;
mod prune;

pub use context::{mil_dims, INLINE_TABLE_LIMIT};
pub use error::LowerError;
pub use flops::node_flops;
pub use ops::check_supported;
pub use options::{Abi, LowerOptions, LoweringLimits, Precision};

use crate::abi::KernelAbi;
use crate::graph::{Graph, Producer, ValueId};
use ane_mil::builder::ProgramBuilder;
use ane_mil::{Program, WeightFiles};
use context::LowerCx;
use std::collections::{BTreeMap, HashSet};

/// A set of graph nodes to lower into one kernel, and its boundary.
#[derive(Debug, Clone)]
pub struct KernelSpec<'g> {
    /// The graph.
    pub graph: &'g Graph,
    /// Indices into `graph.nodes()`, in execution order.
    pub nodes: Vec<usize>,
    /// Values read by these nodes but produced outside, in kernel input order.
    pub inputs: Vec<ValueId>,
    /// Values produced here (or boundary inputs passed through) that are needed outside, in
    /// kernel output order.
    pub outputs: Vec<ValueId>,
}

/// A lowered kernel.
#[derive(Debug, Clone)]
pub struct LoweredKernel {
    /// The MIL program (validated).
    pub program: Program,
    /// Weight files of its constant tables only (masks, RoPE tables, …); weights and activations
    /// are inputs, never baked.
    pub weights: WeightFiles,
    /// How boundary tensors map to the program's inputs and outputs.
    pub abi: KernelAbi,
    /// FLOPs of one run, counted from the IR ops (a multiply-add is 2), see [`node_flops`].
    pub flops: u64,
    /// How many MIL ops of each type the program runs (`const` excluded).
    pub mil_op_counts: BTreeMap<String, usize>,
}

/// Lowers `spec` into one MIL kernel.
pub fn lower_kernel(spec: &KernelSpec, opts: &LowerOptions) -> Result<LoweredKernel, LowerError> {
    check_spec(spec)?;
    for &n in &spec.nodes {
        ops::check_supported(spec.graph, &spec.graph.nodes()[n], opts)?;
    }
    let mut cx = LowerCx::new(spec.graph, opts);
    let inputs = io::bind_inputs(&mut cx, &spec.inputs)?;
    for &n in &spec.nodes {
        let node = &spec.graph.nodes()[n];
        if cx.has(node.output) {
            return Err(LowerError::BadSpec(format!(
                "node {n} ({}) defines {}, which the kernel already has (a boundary input or an \
                 earlier node)",
                node.op, node.output
            )));
        }
        cx.set_current(format!("node {n} ({})", node.op));
        let var = ops::lower_node(&mut cx, node)?;
        let expected = mil_dims(&cx.shape(node.output)?);
        if context::dims(&var) != expected {
            return Err(LowerError::BadSpec(format!(
                "internal: lowering {} produced {} instead of shape {expected:?}",
                node.op, var.ty
            )));
        }
        cx.bind(node.output, var);
    }
    cx.set_current("kernel outputs".to_string());
    let outputs = io::bind_outputs(&mut cx, &spec.outputs)?;
    let (mut function, weights) = cx.finish()?;
    prune::prune_dead_ops(&mut function);
    let program = ProgramBuilder::new(opts.dialect)
        .function(function)
        .build()
        .map_err(|source| LowerError::Build {
            op: "the kernel program".to_string(),
            source: Box::new(source),
        })?;
    if let Some(limit) = opts.limits.max_axis_size {
        check_axes(&program, limit)?;
    }
    let abi = io::assemble_abi(opts.abi, inputs, outputs);
    let flops = spec
        .nodes
        .iter()
        .map(|&n| node_flops(spec.graph, &spec.graph.nodes()[n]))
        .sum();
    Ok(LoweredKernel {
        mil_op_counts: op_counts(&program),
        program,
        weights,
        abi,
        flops,
    })
}

/// Checks node indices, boundary uniqueness and that every output can be defined.
fn check_spec(spec: &KernelSpec) -> Result<(), LowerError> {
    let graph = spec.graph;
    let mut seen = HashSet::new();
    for &v in &spec.inputs {
        graph.value_type(v)?;
        if !seen.insert(v) {
            return Err(LowerError::BadSpec(format!(
                "{v} is listed twice among the kernel inputs"
            )));
        }
    }
    let mut produced: HashSet<ValueId> = seen;
    for &n in &spec.nodes {
        let node = graph.nodes().get(n).ok_or_else(|| {
            LowerError::BadSpec(format!(
                "node index {n} is out of range (the graph has {} nodes)",
                graph.nodes().len()
            ))
        })?;
        produced.insert(node.output);
    }
    for &v in &spec.outputs {
        graph.value_type(v)?;
        if !produced.contains(&v) {
            let origin = match graph.producer(v)? {
                Producer::Input(i) => format!("graph input `{}`", graph.inputs()[i].name),
                Producer::Node(n) => format!("node {n}"),
            };
            return Err(LowerError::BadSpec(format!(
                "kernel output {v} (from {origin}) is neither produced by the kernel's nodes nor \
                 one of its inputs"
            )));
        }
    }
    Ok(())
}

/// Every axis of every tensor (parameters and op outputs) must fit the chip's cap.
fn check_axes(program: &Program, limit: usize) -> Result<(), LowerError> {
    let Some(main) = program.main() else {
        return Ok(());
    };
    let named = main
        .params
        .iter()
        .map(|p| (format!("kernel input `{}`", p.name), &p.ty))
        .chain(main.body.iter().flat_map(|op| {
            op.outputs
                .iter()
                .map(move |o| (format!("`{}` ({})", o.name, op.op_type), &o.ty))
        }));
    for (what, ty) in named {
        let Some(t) = ty.as_tensor() else { continue };
        if let Some(&size) = t
            .shape
            .iter()
            .filter_map(|d| d.known())
            .collect::<Vec<_>>()
            .iter()
            .find(|&&d| d > limit)
        {
            return Err(LowerError::AxisTooLarge {
                what,
                shape: t.to_string(),
                size,
                limit,
            });
        }
    }
    Ok(())
}

/// MIL ops by type, `const` excluded.
fn op_counts(program: &Program) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for f in &program.functions {
        for op in f.body.iter().filter(|op| op.op_type != "const") {
            *counts.entry(op.op_type.clone()).or_insert(0) += 1;
        }
    }
    counts
}
