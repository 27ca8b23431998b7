//! The reference evaluator: runs a graph on the CPU in f64 with naive loops.
//!
//! **This is a test oracle, not an execution path.** Training executes MIL programs through the
//! simulator (or the ANE); this evaluator exists to define what each IR op means, to check
//! autodiff by finite differences, and later to compare lowered MIL programs against. It favours
//! clarity over speed: every op is a direct transcription of its definition.

mod conv;
mod elementwise;
mod generated;
mod index;
mod linalg;
mod loss;
pub mod math;
mod movement;
mod norm;
mod pool;
mod sequence;
mod tensor;

pub use tensor::Tensor;

use crate::dtype::DType;
use crate::error::GraphError;
use crate::graph::Graph;
use crate::op::Op;
use crate::shape::ValueType;
use std::collections::BTreeMap;
use thiserror::Error;

/// Named input tensors (data and parameters) for one evaluation.
pub type Feeds = BTreeMap<String, Tensor>;

/// Why an evaluation failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EvalError {
    /// A graph input has no tensor in the feeds.
    #[error("no tensor was given for graph input `{0}`")]
    MissingInput(String),
    /// A fed tensor has the wrong shape.
    #[error("input `{name}` must have shape {expected}, got {got}")]
    InputShape {
        /// Input name.
        name: String,
        /// Declared shape.
        expected: String,
        /// Fed shape.
        got: String,
    },
    /// A fed i32 input holds a value that is not an integer in the i32 range.
    #[error("input `{name}` is i32 but element {index} is {value}")]
    NotInteger {
        /// Input name.
        name: String,
        /// Flat element index.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// An id or label outside its valid range.
    #[error("{op}: index {index} is outside 0..{limit}")]
    IndexOutOfRange {
        /// The op reading it.
        op: String,
        /// The index.
        index: i64,
        /// Exclusive bound.
        limit: usize,
    },
    /// The graph itself is inconsistent.
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// Evaluates `graph` and returns its named outputs.
pub fn evaluate(graph: &Graph, feeds: &Feeds) -> Result<BTreeMap<String, Tensor>, EvalError> {
    let values = evaluate_all(graph, feeds)?;
    Ok(graph
        .outputs()
        .iter()
        .map(|o| (o.name.clone(), values[o.value.index()].clone()))
        .collect())
}

/// Evaluates `graph` and returns every value, indexed by [`ValueId::index`](crate::ValueId::index).
pub fn evaluate_all(graph: &Graph, feeds: &Feeds) -> Result<Vec<Tensor>, EvalError> {
    let mut values: Vec<Option<Tensor>> = vec![None; graph.num_values()];
    for input in graph.inputs() {
        let ty = graph.value_type(input.value)?;
        let tensor = feeds
            .get(&input.name)
            .ok_or_else(|| EvalError::MissingInput(input.name.clone()))?;
        check_feed(&input.name, ty, tensor)?;
        values[input.value.index()] = Some(tensor.clone());
    }
    for node in graph.nodes() {
        let args = node
            .inputs
            .iter()
            .map(|v| {
                values[v.index()]
                    .as_ref()
                    .ok_or(GraphError::UnknownValue(v.index()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out_ty = graph.value_type(node.output)?;
        let result = eval_op(&node.op, &args, out_ty)?;
        debug_assert_eq!(
            result.shape(),
            &out_ty.shape,
            "{} produced a wrong shape",
            node.op
        );
        values[node.output.index()] = Some(result);
    }
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| v.ok_or(EvalError::Graph(GraphError::UnknownValue(i))))
        .collect()
}

fn check_feed(name: &str, ty: &ValueType, tensor: &Tensor) -> Result<(), EvalError> {
    if tensor.shape() != &ty.shape {
        return Err(EvalError::InputShape {
            name: name.to_string(),
            expected: ty.shape.to_string(),
            got: tensor.shape().to_string(),
        });
    }
    if ty.dtype == DType::I32 {
        let bad = tensor.data().iter().position(|&v| {
            v.fract() != 0.0 || v < i32::MIN as f64 || v > i32::MAX as f64 || !v.is_finite()
        });
        if let Some(index) = bad {
            return Err(EvalError::NotInteger {
                name: name.to_string(),
                index,
                value: tensor.data()[index],
            });
        }
    }
    Ok(())
}

/// Computes one op on evaluated inputs; `out` is the node's inferred output type.
fn eval_op(op: &Op, x: &[&Tensor], out: &ValueType) -> Result<Tensor, EvalError> {
    Ok(match op {
        Op::Full { .. } | Op::CausalMask { .. } | Op::DropoutMask { .. } => {
            generated::eval(op, x, out)?
        }
        Op::Linear | Op::MatMul { .. } => linalg::eval(op, x, out),
        Op::Conv2d(_) | Op::Conv2dBackwardData { .. } | Op::Conv2dBackwardWeight { .. } => {
            conv::eval(op, x, out)
        }
        Op::MaxPool2d(_)
        | Op::MaxPool2dBackward(_)
        | Op::AvgPool2d { .. }
        | Op::AvgPool2dBackward { .. } => pool::eval(op, x, out),
        Op::Binary(_)
        | Op::ScalarMul(_)
        | Op::ScalarAdd(_)
        | Op::Unary(_)
        | Op::UnaryBackward(_) => elementwise::eval(op, x, out),
        Op::ReduceSum { .. }
        | Op::BroadcastTo { .. }
        | Op::Reshape { .. }
        | Op::Permute { .. }
        | Op::Concat { .. }
        | Op::Slice { .. }
        | Op::Pad { .. } => movement::eval(op, x, out),
        Op::Softmax { .. }
        | Op::LayerNorm { .. }
        | Op::LayerNormBackwardInput { .. }
        | Op::LayerNormBackwardWeight { .. }
        | Op::RmsNorm { .. }
        | Op::RmsNormBackwardInput { .. }
        | Op::RmsNormBackwardWeight { .. } => norm::eval(op, x, out),
        Op::Embedding | Op::EmbeddingBackward { .. } | Op::Rope { .. } => {
            sequence::eval(op, x, out)?
        }
        Op::SoftmaxCrossEntropy | Op::SoftmaxCrossEntropyBackward | Op::MseLoss => {
            loss::eval(op, x, out)?
        }
    })
}
