//! Program validation: everything the ANE compiler or the simulator would trip over, reported all
//! at once with source positions — unknown ops and arguments, missing arguments, dtype and shape
//! mismatches, non-const values where constants are required, undefined and duplicate identifiers,
//! undefined function outputs, declared types that disagree with inference, malformed `const`s,
//! missing `name` attributes and opset availability.
//!
//! A value counts as constant when it is an inline literal or the output of a `const` or
//! `constexpr_*` op (see [`crate::ops::Constness`]). Validation never panics, whatever the program.

mod error;
mod function;
mod resolve;

pub use error::{ValidationError, ValidationErrorKind, ValidationErrors};
pub use function::{declared_type_matches, is_valid_identifier};

use crate::program::{Function, Program};
use std::collections::HashSet;

/// Validates every function of `program`; `Err` lists every problem found.
pub fn validate(program: &Program) -> Result<(), ValidationErrors> {
    let mut errors = Vec::new();
    if program.functions.is_empty() {
        errors.push(ValidationError::new(
            Default::default(),
            ValidationErrorKind::NoFunctions,
            "the program has no functions",
        ));
    }
    let mut names = HashSet::new();
    for f in &program.functions {
        if !names.insert(f.name.as_str()) {
            errors.push(ValidationError::new(
                f.pos,
                ValidationErrorKind::DuplicateIdentifier,
                format!("function `{}` is defined twice", f.name),
            ));
        }
        function::check_function(f, &mut errors);
    }
    ValidationErrors::result(errors)
}

/// Validates `program` and checks that every `BLOBFILE` reference resolves in `weights` to a
/// record of the declared dtype and size (what a device needs before compiling).
pub fn validate_with_weights(
    program: &Program,
    weights: &crate::WeightFiles,
) -> Result<(), ValidationErrors> {
    let mut errors = match validate(program) {
        Ok(()) => Vec::new(),
        Err(e) => e.0,
    };
    for e in crate::blob::check_refs(program, weights) {
        errors.push(ValidationError::new(
            e.pos,
            ValidationErrorKind::BlobReference,
            format!(
                "op `{}`, {}: BLOBFILE(path = \"{}\", offset = {}): {}",
                e.op, e.slot, e.blob.path, e.blob.offset, e.error
            ),
        ));
    }
    ValidationErrors::result(errors)
}

/// Validates one function on its own (what `FunctionBuilder::finish` runs).
pub fn validate_function(function: &Function) -> Result<(), ValidationErrors> {
    let mut errors = Vec::new();
    function::check_function(function, &mut errors);
    ValidationErrors::result(errors)
}
