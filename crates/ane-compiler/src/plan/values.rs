//! The values at the plan's edges: what the executor feeds every step, what the step returns, and
//! every value that crosses a kernel boundary (the buffers the executor keeps between dispatches).

use super::kernels::Dispatch;
use crate::autodiff::GRAD_PREFIX;
use crate::dtype::DType;
use crate::error::GraphError;
use crate::graph::{Graph, InputKind, Producer, ValueId};
use crate::op::Op;
use crate::place::{NodePlacement, PlaceReason};
use std::collections::BTreeMap;
use std::fmt;

/// What a step value is.
#[derive(Debug, Clone, PartialEq)]
pub enum StepValueKind {
    /// A float data input (images, activations fed from outside).
    Data,
    /// An integer data input (token ids, labels, the dropout `(seed, step)` pair).
    Ids,
    /// A trainable parameter.
    Param,
    /// A dropout mask the executor computes each step with
    /// [`crate::dropout::keep`] (`0` or `1/(1−p)` per element).
    DropoutMask {
        /// The dropout site.
        site: u32,
        /// The drop probability.
        p: f32,
    },
    /// The loss.
    Loss,
    /// The gradient of the named input.
    Gradient(String),
    /// Any other output.
    Output,
}

impl fmt::Display for StepValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepValueKind::Data => f.write_str("data"),
            StepValueKind::Ids => f.write_str("ids"),
            StepValueKind::Param => f.write_str("param"),
            StepValueKind::DropoutMask { site, p } => {
                write!(f, "dropout mask (site {site}, p {p})")
            }
            StepValueKind::Loss => f.write_str("loss"),
            StepValueKind::Gradient(of) => write!(f, "gradient of {of}"),
            StepValueKind::Output => f.write_str("output"),
        }
    }
}

/// A value the executor provides or receives each step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepValue {
    /// Its name (the graph input or output name; `dropout_mask.<site>` for masks).
    pub name: String,
    /// The graph value.
    pub value: ValueId,
    /// What it is.
    pub kind: StepValueKind,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its element type.
    pub dtype: DType,
}

/// Where a buffer's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferSource {
    /// A step input (graph input or dropout mask).
    StepInput,
    /// An output of dispatch `i`.
    Dispatch(usize),
}

/// A value crossing a kernel boundary: produced by one dispatch (or fed by the executor) and read
/// by others (or returned).
#[derive(Debug, Clone, PartialEq)]
pub struct Buffer {
    /// The graph value.
    pub value: ValueId,
    /// A readable name: the step value's name, else `%id op [scope]`.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its element type.
    pub dtype: DType,
    /// Bytes of its host copy (f32 or i32 elements).
    pub bytes: usize,
    /// Who produces it.
    pub source: BufferSource,
    /// The dispatches reading it, in order.
    pub readers: Vec<usize>,
}

/// The step inputs (graph inputs, then dropout masks) and the step outputs (graph outputs).
pub(super) fn step_values(
    graph: &Graph,
    placements: &[NodePlacement],
) -> Result<(Vec<StepValue>, Vec<StepValue>), GraphError> {
    let mut inputs = Vec::new();
    for input in graph.inputs() {
        let ty = graph.value_type(input.value)?;
        let kind = match (input.kind, ty.dtype) {
            (InputKind::Param, _) => StepValueKind::Param,
            (InputKind::Data, DType::I32) => StepValueKind::Ids,
            (InputKind::Data, DType::F32) => StepValueKind::Data,
        };
        inputs.push(StepValue {
            name: input.name.clone(),
            value: input.value,
            kind,
            shape: ty.shape.dims().to_vec(),
            dtype: ty.dtype,
        });
    }
    for (index, node) in graph.nodes().iter().enumerate() {
        if let (PlaceReason::Executor(_), Op::DropoutMask { p, site, .. }) =
            (&placements[index].reason, &node.op)
        {
            let ty = graph.value_type(node.output)?;
            inputs.push(StepValue {
                name: format!("dropout_mask.{site}"),
                value: node.output,
                kind: StepValueKind::DropoutMask { site: *site, p: *p },
                shape: ty.shape.dims().to_vec(),
                dtype: ty.dtype,
            });
        }
    }
    let mut outputs = Vec::new();
    for output in graph.outputs() {
        let ty = graph.value_type(output.value)?;
        let kind = if let Some(of) = output.name.strip_prefix(GRAD_PREFIX) {
            StepValueKind::Gradient(of.to_string())
        } else if output.name == "loss" {
            StepValueKind::Loss
        } else {
            StepValueKind::Output
        };
        outputs.push(StepValue {
            name: output.name.clone(),
            value: output.value,
            kind,
            shape: ty.shape.dims().to_vec(),
            dtype: ty.dtype,
        });
    }
    Ok((inputs, outputs))
}

/// Every value that is a dispatch input or output, with its producer and readers.
pub(super) fn buffers(
    graph: &Graph,
    placements: &[NodePlacement],
    dispatches: &[Dispatch],
) -> Result<Vec<Buffer>, GraphError> {
    let mut entries: BTreeMap<ValueId, (BufferSource, Vec<usize>)> = BTreeMap::new();
    for (d, dispatch) in dispatches.iter().enumerate() {
        for &v in &dispatch.outputs {
            entries
                .entry(v)
                .or_insert((BufferSource::Dispatch(d), Vec::new()))
                .0 = BufferSource::Dispatch(d);
        }
        for &v in &dispatch.inputs {
            entries
                .entry(v)
                .or_insert((BufferSource::StepInput, Vec::new()))
                .1
                .push(d);
        }
    }
    let mut out = Vec::with_capacity(entries.len());
    for (value, (source, readers)) in entries {
        let ty = graph.value_type(value)?;
        out.push(Buffer {
            value,
            name: value_name(graph, placements, value),
            shape: ty.shape.dims().to_vec(),
            dtype: ty.dtype,
            bytes: ty.shape.numel() * 4,
            source,
            readers,
        });
    }
    Ok(out)
}

/// A readable name of a value: its input or output name, `dropout_mask.<site>`, or
/// `%id op [scope]`.
pub(crate) fn value_name(graph: &Graph, placements: &[NodePlacement], value: ValueId) -> String {
    if let Some(o) = graph.outputs().iter().find(|o| o.value == value) {
        return o.name.clone();
    }
    match graph.producer(value) {
        Ok(Producer::Input(i)) => graph.inputs()[i].name.clone(),
        Ok(Producer::Node(n)) => {
            let node = &graph.nodes()[n];
            if let (PlaceReason::Executor(_), Op::DropoutMask { site, .. }) =
                (&placements[n].reason, &node.op)
            {
                return format!("dropout_mask.{site}");
            }
            match graph.node_origin(n).scope.as_deref() {
                Some(scope) => format!("{value} {} [{scope}]", node.op.name()),
                None => format!("{value} {}", node.op.name()),
            }
        }
        Err(_) => value.to_string(),
    }
}
