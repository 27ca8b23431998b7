//! Shape and dtype inference: the output type of every op from its inputs' types, or a
//! [`GraphError`] naming the op, what it got and what it expected. One module per op family.

mod conv;
mod elementwise;
mod generated;
mod linalg;
mod loss;
mod movement;
mod norm;
mod pool;
mod sequence;

use crate::dtype::DType;
use crate::error::GraphError;
use crate::op::Op;
use crate::shape::{Shape, ValueType};

/// The type of the value `op` produces from inputs of types `inputs`.
pub fn infer_output_type(op: &Op, inputs: &[&ValueType]) -> Result<ValueType, GraphError> {
    let cx = Ctx { op, inputs };
    match op {
        Op::Full { .. } | Op::CausalMask { .. } | Op::DropoutMask { .. } => generated::infer(&cx),
        Op::Linear | Op::MatMul { .. } => linalg::infer(&cx),
        Op::Conv2d(_) | Op::Conv2dBackwardData { .. } | Op::Conv2dBackwardWeight { .. } => {
            conv::infer(&cx)
        }
        Op::MaxPool2d(_)
        | Op::MaxPool2dBackward(_)
        | Op::AvgPool2d { .. }
        | Op::AvgPool2dBackward { .. } => pool::infer(&cx),
        Op::Binary(_)
        | Op::ScalarMul(_)
        | Op::ScalarAdd(_)
        | Op::Unary(_)
        | Op::UnaryBackward(_) => elementwise::infer(&cx),
        Op::ReduceSum { .. }
        | Op::BroadcastTo { .. }
        | Op::Reshape { .. }
        | Op::Permute { .. }
        | Op::Concat { .. }
        | Op::Slice { .. }
        | Op::Pad { .. } => movement::infer(&cx),
        Op::Softmax { .. }
        | Op::LayerNorm { .. }
        | Op::LayerNormBackwardInput { .. }
        | Op::LayerNormBackwardWeight { .. }
        | Op::RmsNorm { .. }
        | Op::RmsNormBackwardInput { .. }
        | Op::RmsNormBackwardWeight { .. } => norm::infer(&cx),
        Op::Embedding | Op::EmbeddingBackward { .. } | Op::Rope { .. } => sequence::infer(&cx),
        Op::SoftmaxCrossEntropy | Op::SoftmaxCrossEntropyBackward | Op::MseLoss => loss::infer(&cx),
    }
}

/// An op and its input types, with helpers that turn mismatches into errors naming both.
pub(crate) struct Ctx<'a> {
    pub op: &'a Op,
    pub inputs: &'a [&'a ValueType],
}

impl Ctx<'_> {
    /// A [`GraphError::BadInputs`] describing the inputs and what was expected.
    pub fn fail(&self, expected: impl Into<String>) -> GraphError {
        let inputs = if self.inputs.is_empty() {
            "no inputs".to_string()
        } else {
            self.inputs
                .iter()
                .enumerate()
                .map(|(i, t)| format!("{}: {t}", self.op.input_name(i)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        GraphError::BadInputs {
            op: self.op.to_string(),
            inputs,
            expected: expected.into(),
        }
    }

    /// A [`GraphError::BadAttribute`].
    pub fn bad_attribute(&self, message: impl Into<String>) -> GraphError {
        GraphError::BadAttribute {
            op: self.op.to_string(),
            message: message.into(),
        }
    }

    /// Checks the number of inputs is in `min..=max`.
    pub fn arity(&self, min: usize, max: usize) -> Result<(), GraphError> {
        let n = self.inputs.len();
        if n < min || n > max {
            let names = self.op.input_names().join(", ");
            let count = if min == max {
                format!("{min}")
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(self.fail(format!("{count} inputs ({names})")));
        }
        Ok(())
    }

    /// The shape of input `i`, which must be f32.
    pub fn f32(&self, i: usize) -> Result<&Shape, GraphError> {
        self.typed(i, DType::F32)
    }

    /// The shape of input `i`, which must be i32.
    pub fn i32(&self, i: usize) -> Result<&Shape, GraphError> {
        self.typed(i, DType::I32)
    }

    fn typed(&self, i: usize, dtype: DType) -> Result<&Shape, GraphError> {
        let t = self.inputs[i];
        if t.dtype != dtype {
            return Err(self.fail(format!("{} to be {dtype}", self.op.input_name(i))));
        }
        Ok(&t.shape)
    }
}

/// An f32 result of the given shape.
pub(crate) fn f32_out(shape: impl Into<Shape>) -> Result<ValueType, GraphError> {
    Ok(ValueType::f32(shape))
}
