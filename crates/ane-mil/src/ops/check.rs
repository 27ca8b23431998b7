//! Signature checking: do the given arguments fit an op's signature (names, presence, tuple form,
//! dtypes and shared domain letters, ranks, const-ness)? Shape rules run only after this passes.

use crate::dtype::DType;
use crate::ops::error::InferError;
use crate::ops::resolved::{ResolvedArg, ResolvedInput, ResolvedInputs};
use crate::ops::signature::{InputSpec, OpSignature};
use crate::types::TensorType;
use crate::value::TensorValue;

/// Every signature problem, in a stable order: unknown arguments first (sorted by name), then each
/// slot of the signature in order.
pub(crate) fn check_arguments(sig: &OpSignature, inputs: &ResolvedInputs<'_>) -> Vec<InferError> {
    let op = sig.op_type;
    let mut errors = Vec::new();
    for name in inputs.names() {
        if sig.input(name).is_none() {
            errors.push(InferError::UnknownArgument {
                op: op.to_string(),
                arg: name.to_string(),
            });
        }
    }
    // The first (argument, dtype) seen for each domain letter.
    let mut letters: Vec<(&'static str, String, DType)> = Vec::new();
    for spec in &sig.inputs {
        match inputs.get(spec.name) {
            None if spec.is_required() => errors.push(InferError::MissingArgument {
                op: op.to_string(),
                arg: spec.name.to_string(),
            }),
            None => {}
            Some(ResolvedInput::Single(arg)) => {
                if spec.variadic {
                    errors.push(form_error(op, spec, "a tuple of values, e.g. `(a, b)`"));
                }
                check_value(op, spec, spec.name, arg, &mut letters, &mut errors);
            }
            Some(ResolvedInput::Tuple(items)) => {
                if !spec.variadic {
                    errors.push(form_error(op, spec, "a single value, not a tuple"));
                } else if items.is_empty() {
                    errors.push(InferError::InvalidValue {
                        op: op.to_string(),
                        arg: spec.name.to_string(),
                        message: "the tuple needs at least one value".to_string(),
                    });
                }
                for (i, item) in items.iter().enumerate() {
                    let label = format!("{}[{i}]", spec.name);
                    check_value(op, spec, &label, item, &mut letters, &mut errors);
                }
            }
        }
    }
    errors
}

fn form_error(op: &str, spec: &InputSpec, expected: &'static str) -> InferError {
    InferError::ArgumentForm {
        op: op.to_string(),
        arg: spec.name.to_string(),
        expected,
    }
}

fn check_value(
    op: &str,
    spec: &InputSpec,
    label: &str,
    arg: &ResolvedArg<'_>,
    letters: &mut Vec<(&'static str, String, DType)>,
    errors: &mut Vec<InferError>,
) {
    let dtype = arg.ty.dtype;
    if !spec.dtypes.accepts(dtype) {
        errors.push(InferError::DTypeNotAllowed {
            op: op.to_string(),
            arg: label.to_string(),
            dtype,
            allowed: spec.dtypes.allowed.to_vec(),
        });
    } else if let Some(letter) = spec.dtypes.letter {
        match letters.iter().find(|(l, _, _)| *l == letter) {
            Some((_, first, first_dtype)) if *first_dtype != dtype => {
                errors.push(InferError::DTypeMismatch {
                    op: op.to_string(),
                    letter: letter.to_string(),
                    first: first.clone(),
                    first_dtype: *first_dtype,
                    second: label.to_string(),
                    second_dtype: dtype,
                });
            }
            Some(_) => {}
            None => letters.push((letter, label.to_string(), dtype)),
        }
    }
    if !spec.rank.accepts(arg.ty.rank()) {
        errors.push(InferError::Rank {
            op: op.to_string(),
            arg: label.to_string(),
            expected: spec.rank.describe(),
            ty: arg.ty.clone(),
        });
    }
    if let Some(value) = &arg.value {
        if let Some(problem) = literal_problem(value, &arg.ty) {
            errors.push(InferError::InvalidValue {
                op: op.to_string(),
                arg: label.to_string(),
                message: problem,
            });
        }
    }
    if spec.must_be_const && !arg.constness.is_const() {
        errors.push(InferError::NotConst {
            op: op.to_string(),
            arg: label.to_string(),
        });
    }
}

/// Why a literal's elements do not fit its declared type (or the argument's type), if they do not.
pub(crate) fn literal_problem(value: &TensorValue, ty: &TensorType) -> Option<String> {
    if value.ty != *ty {
        return Some(format!(
            "literal of type {} bound where {ty} was declared",
            value.ty
        ));
    }
    if !value.data.matches_dtype(ty.dtype) {
        return Some(format!(
            "literal elements do not match its dtype {}",
            ty.dtype
        ));
    }
    match ty.num_elements() {
        Some(n) if n == value.data.len() => None,
        Some(n) => Some(format!(
            "literal of type {ty} holds {} elements, expected {n}",
            value.data.len()
        )),
        None => Some(format!(
            "literal of type {ty} must have a fully known shape"
        )),
    }
}
