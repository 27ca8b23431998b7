//! Checking one function: parameters, every operation in order (arguments, signature, inference,
//! declared outputs), and the function's outputs.

use super::error::{ValidationError, ValidationErrorKind as Kind};
use super::resolve::{readable_value, resolve_binding, resolve_literal, Def, OpReport, Scope};
use crate::ops::{
    self, shape::shapes_compatible, Constness, OperandForm, ResolvedInput, ResolvedInputs,
};
use crate::program::{Argument, Binding, Function, NamedType, Operation, Opset, SourcePos};
use crate::types::{TensorType, ValueType, MAX_RANK};
use std::collections::{HashMap, HashSet};

/// Whether `name` is a MIL identifier: `[A-Za-z_][A-Za-z0-9_@]*` (mil-ops §0.3).
pub fn is_valid_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
}

/// Whether a declared type agrees with an inferred one: same dtype and rank, and every dim equal
/// where both are known (a declared size may refine an inferred `?`, and the reverse).
pub fn declared_type_matches(declared: &TensorType, inferred: &TensorType) -> bool {
    declared.dtype == inferred.dtype && shapes_compatible(&declared.shape, &inferred.shape)
}

/// Appends every problem of `f` to `errors`.
pub(super) fn check_function(f: &Function, errors: &mut Vec<ValidationError>) {
    let mut scope: Scope<'_> = HashMap::new();
    for p in &f.params {
        check_definition(p, p.pos, &scope, errors, "parameter");
        scope.insert(
            &p.name,
            Def {
                ty: &p.ty,
                constness: Constness::Runtime,
                value: None,
            },
        );
    }
    let mut op_names = HashSet::new();
    for op in &f.body {
        check_operation(op, f.opset, &mut scope, &mut op_names, errors);
    }
    if f.outputs.is_empty() {
        errors.push(ValidationError::new(
            f.pos,
            Kind::NoOutputs,
            format!("function `{}` has no outputs", f.name),
        ));
    }
    for out in &f.outputs {
        if !scope.contains_key(out.as_str()) {
            errors.push(ValidationError::new(
                f.pos,
                Kind::UndefinedOutput,
                format!(
                    "function `{}` returns `{out}`, which is not defined",
                    f.name
                ),
            ));
        }
    }
}

/// Checks a new name (parameter or op output): identifier syntax, uniqueness, tensor type, rank.
fn check_definition(
    def: &NamedType,
    pos: SourcePos,
    scope: &Scope<'_>,
    errors: &mut Vec<ValidationError>,
    what: &str,
) {
    let name = &def.name;
    if !is_valid_identifier(name) {
        errors.push(ValidationError::new(
            pos,
            Kind::InvalidIdentifier,
            format!("{what} name `{name}` is not a valid identifier ([A-Za-z_][A-Za-z0-9_@]*)"),
        ));
    }
    if scope.contains_key(name.as_str()) {
        errors.push(ValidationError::new(
            pos,
            Kind::DuplicateIdentifier,
            format!("`{name}` is defined twice"),
        ));
    }
    match &def.ty {
        ValueType::Tensor(t) if t.rank() > MAX_RANK => errors.push(ValidationError::new(
            pos,
            Kind::UnsupportedType,
            format!(
                "{what} `{name}` has rank {} (at most {MAX_RANK} is supported): {t}",
                t.rank()
            ),
        )),
        ValueType::Tensor(_) => {}
        _ => errors.push(ValidationError::new(
            pos,
            Kind::UnsupportedType,
            format!("{what} `{name}` must be a tensor or scalar"),
        )),
    }
}

fn op_label(op: &Operation) -> String {
    let name = op
        .outputs
        .first()
        .map(|o| o.name.as_str())
        .or_else(|| op.name_attr())
        .unwrap_or("?");
    format!("\"{name}\" ({})", op.op_type)
}

fn check_operation<'p>(
    op: &'p Operation,
    function_opset: Opset,
    scope: &mut Scope<'p>,
    op_names: &mut HashSet<&'p str>,
    errors: &mut Vec<ValidationError>,
) {
    let mut report = OpReport {
        pos: op.pos,
        label: op_label(op),
        errors,
    };
    match (op.attributes.get("name"), op.name_attr()) {
        (None, _) => report.push(
            Kind::MissingName,
            "missing `name = string(\"...\")` attribute",
        ),
        (Some(_), None) => report.push(
            Kind::InvalidValue,
            "the `name` attribute must be a string scalar",
        ),
        (Some(_), Some(name)) => {
            if !op_names.insert(name) {
                report.push(
                    Kind::DuplicateIdentifier,
                    format!("op name \"{name}\" is used twice"),
                );
            }
        }
    }
    let opset = op.opset.unwrap_or(function_opset);
    let inferred = match ops::lookup(&op.op_type, opset) {
        Err(e) => {
            report.push(Kind::of_infer_error(&e), &e);
            check_bindings_defined(op, scope, &mut report);
            None
        }
        Ok(sig) => infer_operation(op, sig, opset, scope, &mut report),
    };
    check_outputs(op, inferred, &mut report);
    let constness = if op.op_type == "const" {
        Constness::Const
    } else if op.op_type.starts_with("constexpr_") {
        Constness::Constexpr
    } else {
        Constness::Runtime
    };
    let value = if op.op_type == "const" {
        op.attributes.get("val").and_then(readable_value)
    } else {
        None
    };
    for out in &op.outputs {
        check_definition(out, op.pos, scope, report.errors, "output");
        // A const's value is only trusted when it matches the declared type.
        let value = value.filter(|v| out.ty.as_tensor() == Some(&v.ty));
        scope.insert(
            &out.name,
            Def {
                ty: &out.ty,
                constness,
                value,
            },
        );
    }
}

/// Reports the undefined names an op uses (for ops whose signature is unavailable).
fn check_bindings_defined(op: &Operation, scope: &Scope<'_>, report: &mut OpReport<'_>) {
    for (arg, argument) in &op.inputs {
        let bindings: &[Binding] = match argument {
            Argument::Single(b) => std::slice::from_ref(b),
            Argument::Tuple(items) => items,
        };
        for b in bindings {
            if let Binding::Var(name) = b {
                if !scope.contains_key(name.as_str()) {
                    report.push(
                        Kind::UndefinedIdentifier,
                        format!(
                            "argument `{arg}` uses `{name}`, which is not defined before this op"
                        ),
                    );
                }
            }
        }
    }
}

/// Resolves the arguments, checks them against `sig`, and infers the output types (`None` when a
/// problem prevented inference; every problem is reported).
fn infer_operation<'p>(
    op: &'p Operation,
    sig: &ops::OpSignature,
    opset: Opset,
    scope: &Scope<'p>,
    report: &mut OpReport<'_>,
) -> Option<Vec<TensorType>> {
    let mut inputs = ResolvedInputs::new();
    let mut broken = HashSet::new();
    let takes_attributes = sig.operand_form != OperandForm::Inputs;
    let takes_inputs = sig.operand_form != OperandForm::Attributes;
    for (name, arg) in &op.inputs {
        if !takes_inputs {
            report.push(
                Kind::UnknownArgument,
                format!(
                    "`{}` takes its operands as attributes; `{name}` in parentheses is not allowed",
                    op.op_type
                ),
            );
            continue;
        }
        let resolved = match arg {
            Argument::Single(b) => {
                resolve_binding(b, name, scope, report).map(ResolvedInput::Single)
            }
            Argument::Tuple(items) => items
                .iter()
                .enumerate()
                .map(|(i, b)| resolve_binding(b, &format!("{name}[{i}]"), scope, report))
                .collect::<Option<Vec<_>>>()
                .map(ResolvedInput::Tuple),
        };
        match resolved {
            Some(r) => inputs.insert(name.clone(), r),
            None => {
                broken.insert(name.as_str());
            }
        }
    }
    for (name, value) in &op.attributes {
        if name == "name" {
            continue;
        }
        if !takes_attributes {
            report.push(Kind::UnknownArgument, format!("unknown attribute `{name}`"));
            continue;
        }
        if op.inputs.contains_key(name) {
            report.push(
                Kind::ArgumentForm,
                format!("`{name}` is given both as an input and as an attribute"),
            );
            continue;
        }
        match resolve_literal(value, name, report) {
            Some(r) => inputs.insert(name.clone(), ResolvedInput::Single(r)),
            None => {
                broken.insert(name.as_str());
            }
        }
    }
    if op.op_type == "const" && !op.attributes.contains_key("val") {
        report.push(Kind::ConstValue, "`const` without a `val` attribute");
        return None;
    }
    let problems: Vec<_> = sig
        .check(&inputs)
        .into_iter()
        .filter(|e| !matches!(e, ops::InferError::MissingArgument { arg, .. } if broken.contains(arg.as_str())))
        .collect();
    let clean = problems.is_empty() && broken.is_empty();
    for e in problems {
        report.push(Kind::of_infer_error(&e), &e);
    }
    if !clean {
        return None;
    }
    match sig.apply_rule(opset, &inputs) {
        Ok(types) => Some(types),
        Err(e) => {
            report.push(Kind::of_infer_error(&e), &e);
            None
        }
    }
}

/// Compares declared outputs with inferred types (when inference ran).
fn check_outputs(op: &Operation, inferred: Option<Vec<TensorType>>, report: &mut OpReport<'_>) {
    let Some(inferred) = inferred else {
        if op.outputs.is_empty() {
            report.push(Kind::OutputCount, "the op declares no outputs");
        }
        return;
    };
    if inferred.len() != op.outputs.len() {
        report.push(
            Kind::OutputCount,
            format!(
                "declares {} outputs but produces {}",
                op.outputs.len(),
                inferred.len()
            ),
        );
        return;
    }
    for (out, ty) in op.outputs.iter().zip(&inferred) {
        let Some(declared) = out.ty.as_tensor() else {
            continue; // reported by check_definition
        };
        if !declared_type_matches(declared, ty) {
            if op.op_type == "const" {
                report.push(
                    Kind::ConstValue,
                    format!(
                        "`val` has type {ty} but the output `{}` is declared {declared}",
                        out.name
                    ),
                );
            } else {
                report.push(
                    Kind::OutputTypeMismatch,
                    format!(
                        "output `{}` is declared {declared} but the op produces {ty}",
                        out.name
                    ),
                );
            }
        }
    }
}
