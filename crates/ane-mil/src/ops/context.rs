//! What a shape rule sees: the op's signature, the opset, and accessors that read argument types
//! and constant values (falling back to the signature's defaults) with clear errors.

use crate::dtype::DType;
use crate::ops::error::InferError;
use crate::ops::resolved::{ResolvedArg, ResolvedInput, ResolvedInputs};
use crate::ops::signature::OpSignature;
use crate::program::Opset;
use crate::types::TensorType;
use crate::value::TensorValue;
use std::borrow::Cow;

/// The arguments of one op being inferred.
pub struct InferCtx<'s, 'a> {
    /// The signature revision in use.
    pub sig: &'s OpSignature,
    /// The opset of the function (or the op's own opset suffix).
    pub opset: Opset,
    /// The arguments.
    pub inputs: &'s ResolvedInputs<'a>,
}

impl<'s, 'a> InferCtx<'s, 'a> {
    /// The op type.
    pub fn op(&self) -> &'static str {
        self.sig.op_type
    }

    /// A shape error naming this op.
    pub fn shape_error(&self, message: impl Into<String>) -> InferError {
        InferError::Shape {
            op: self.op().to_string(),
            message: message.into(),
        }
    }

    /// A value error naming this op and argument `arg`.
    pub fn value_error(&self, arg: &str, message: impl Into<String>) -> InferError {
        InferError::InvalidValue {
            op: self.op().to_string(),
            arg: arg.to_string(),
            message: message.into(),
        }
    }

    /// The single-valued argument `name`, if present.
    pub fn arg(&self, name: &str) -> Option<&'s ResolvedArg<'a>> {
        self.inputs.get(name).and_then(ResolvedInput::single)
    }

    /// The type of the required argument `name`.
    pub fn tensor(&self, name: &str) -> Result<&'s TensorType, InferError> {
        self.arg(name)
            .map(|a| &a.ty)
            .ok_or_else(|| InferError::MissingArgument {
                op: self.op().to_string(),
                arg: name.to_string(),
            })
    }

    /// The type of the optional argument `name`.
    pub fn opt_tensor(&self, name: &str) -> Option<&'s TensorType> {
        self.arg(name).map(|a| &a.ty)
    }

    /// The elements of the tuple argument `name`.
    pub fn tuple(&self, name: &str) -> Result<&'s [ResolvedArg<'a>], InferError> {
        match self.inputs.get(name) {
            Some(ResolvedInput::Tuple(items)) => Ok(items),
            _ => Err(InferError::MissingArgument {
                op: self.op().to_string(),
                arg: name.to_string(),
            }),
        }
    }

    /// The constant value of `name`: the given value if known, else the signature's default when
    /// the argument is absent; `None` for runtime values, opaque constants and absent arguments
    /// without a default.
    pub fn value(&self, name: &str) -> Option<Cow<'s, TensorValue>> {
        match self.inputs.get(name) {
            Some(ResolvedInput::Single(a)) => a.value.as_deref().map(Cow::Borrowed),
            Some(ResolvedInput::Tuple(_)) => None,
            None => self
                .sig
                .input(name)?
                .default_value(self.sig, self.inputs)
                .map(Cow::Owned),
        }
    }

    fn unknown_value(&self, name: &str) -> InferError {
        self.value_error(
            name,
            "its value must be known at compile time (an inline literal or a `const` with an inline value)",
        )
    }

    /// The value of `name`, which the shape rule needs: error when it is not known.
    pub fn known_value(&self, name: &str) -> Result<Cow<'s, TensorValue>, InferError> {
        self.value(name).ok_or_else(|| self.unknown_value(name))
    }

    /// The integer elements of `name`, or `None` when its value is not known.
    pub fn opt_ints(&self, name: &str) -> Result<Option<Vec<i64>>, InferError> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => v
                .as_ints()
                .map(Some)
                .ok_or_else(|| self.value_error(name, "expected integer values")),
        }
    }

    /// The integer elements of `name`, which must be known.
    pub fn ints(&self, name: &str) -> Result<Vec<i64>, InferError> {
        self.opt_ints(name)?.ok_or_else(|| self.unknown_value(name))
    }

    /// The integer scalar `name`, which must be known.
    pub fn int(&self, name: &str) -> Result<i64, InferError> {
        let v = self.known_value(name)?;
        v.as_int().ok_or_else(|| {
            self.value_error(name, format!("expected an integer scalar, got {}", v.ty))
        })
    }

    /// The bool scalar `name`, which must be known.
    pub fn bool(&self, name: &str) -> Result<bool, InferError> {
        let v = self.known_value(name)?;
        v.as_bool()
            .ok_or_else(|| self.value_error(name, format!("expected a bool scalar, got {}", v.ty)))
    }

    /// The bool elements of `name`, which must be known.
    pub fn bools(&self, name: &str) -> Result<Vec<bool>, InferError> {
        let v = self.known_value(name)?;
        v.as_bools()
            .map(<[bool]>::to_vec)
            .ok_or_else(|| self.value_error(name, format!("expected bool values, got {}", v.ty)))
    }

    /// The string scalar `name`, which must be known.
    pub fn string(&self, name: &str) -> Result<String, InferError> {
        let v = self.known_value(name)?;
        v.as_str().map(str::to_string).ok_or_else(|| {
            self.value_error(name, format!("expected a string scalar, got {}", v.ty))
        })
    }

    /// The float elements of `name` widened to f32, or `None` when not known.
    pub fn opt_floats(&self, name: &str) -> Option<Vec<f32>> {
        self.value(name).and_then(|v| v.as_f32s())
    }

    /// A one-output result of `dtype` and `shape`.
    pub fn output(&self, dtype: DType, shape: Vec<crate::types::Dim>) -> Vec<TensorType> {
        vec![TensorType { dtype, shape }]
    }
}
