//! Resolving an op's arguments against the values defined so far in its function: each binding
//! becomes a typed [`ResolvedArg`] with its const-ness and, for literals and `const` outputs, its
//! value. Problems (undefined names, malformed literals) are reported here.

use super::error::{ValidationError, ValidationErrorKind};
use crate::ops::{literal_problem, Constness, ResolvedArg};
use crate::program::{Binding, SourcePos};
use crate::types::ValueType;
use crate::value::{TensorValue, Value};
use std::borrow::Cow;
use std::collections::HashMap;

/// A value defined earlier in the function.
pub(super) struct Def<'p> {
    /// Its declared type.
    pub ty: &'p ValueType,
    /// Whether it is a compile-time constant.
    pub constness: Constness,
    /// Its value, for `const` ops with a well-formed inline `val`.
    pub value: Option<&'p TensorValue>,
}

/// The values visible at some point of a function, by name.
pub(super) type Scope<'p> = HashMap<&'p str, Def<'p>>;

/// Collects errors for one op, prefixing messages with the op's label.
pub(super) struct OpReport<'e> {
    pub pos: SourcePos,
    pub label: String,
    pub errors: &'e mut Vec<ValidationError>,
}

impl OpReport<'_> {
    /// Adds an error about this op.
    pub fn push(&mut self, kind: ValidationErrorKind, message: impl std::fmt::Display) {
        self.errors.push(ValidationError::new(
            self.pos,
            kind,
            format!("in {}: {message}", self.label),
        ));
    }
}

/// Resolves one binding of argument `arg`; `None` (after reporting) when it cannot be used.
pub(super) fn resolve_binding<'p>(
    binding: &'p Binding,
    arg: &str,
    scope: &Scope<'p>,
    report: &mut OpReport<'_>,
) -> Option<ResolvedArg<'p>> {
    match binding {
        Binding::Var(name) => {
            let Some(def) = scope.get(name.as_str()) else {
                report.push(
                    ValidationErrorKind::UndefinedIdentifier,
                    format!("argument `{arg}` uses `{name}`, which is not defined before this op"),
                );
                return None;
            };
            let Some(ty) = def.ty.as_tensor() else {
                report.push(
                    ValidationErrorKind::UnsupportedType,
                    format!("argument `{arg}` uses `{name}`, which is not a tensor"),
                );
                return None;
            };
            Some(ResolvedArg {
                ty: ty.clone(),
                constness: def.constness,
                value: def.value.map(Cow::Borrowed),
            })
        }
        Binding::Value(value) => resolve_literal(value, arg, report),
    }
}

/// Resolves an inline literal (an argument or an attribute operand).
pub(super) fn resolve_literal<'p>(
    value: &'p Value,
    arg: &str,
    report: &mut OpReport<'_>,
) -> Option<ResolvedArg<'p>> {
    match value {
        Value::Tensor(t) => match literal_problem(t, &t.ty) {
            Some(problem) => {
                report.push(
                    ValidationErrorKind::MalformedLiteral,
                    format!("argument `{arg}`: {problem}"),
                );
                None
            }
            None => Some(ResolvedArg::known(Cow::Borrowed(t))),
        },
        Value::Blob(b) => {
            if b.ty.num_elements().is_none() {
                report.push(
                    ValidationErrorKind::MalformedLiteral,
                    format!(
                        "argument `{arg}`: a BLOBFILE value needs a fully known shape, got {}",
                        b.ty
                    ),
                );
                return None;
            }
            Some(ResolvedArg::opaque_const(b.ty.clone(), Constness::Const))
        }
        Value::Dict { .. } => {
            report.push(
                ValidationErrorKind::UnsupportedType,
                format!("argument `{arg}`: a dictionary literal cannot be an op operand"),
            );
            None
        }
    }
}

/// Whether `literal` is a well-formed inline tensor whose value later ops may read.
pub(super) fn readable_value(literal: &Value) -> Option<&TensorValue> {
    match literal {
        Value::Tensor(t) if literal_problem(t, &t.ty).is_none() => Some(t),
        _ => None,
    }
}
