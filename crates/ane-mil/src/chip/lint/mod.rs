//! The pre-compile lint: checks a MIL program against one chip's capability table and names every
//! op, tensor and limit that would make the ANE compiler fail or the ANE compute wrong values.
//!
//! [`lint`] returns the findings of rejecting rules (an empty list means "compile it");
//! [`lint_all`] adds the advisory ones. The lint reads declared types and constant values only,
//! so it runs on any program, valid or not, and never panics; run [`crate::validate::validate`]
//! beside it for structural errors.

mod checks;
mod scope;
#[cfg(test)]
mod tests;

use super::caps::ChipCaps;
use super::rules::{Enforcement, Rule};
use crate::program::Program;
use std::fmt;

/// One finding: which rule, where, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintError {
    /// The rule broken.
    pub rule: Rule,
    /// The function it was found in.
    pub function: String,
    /// The operation (`matmul` `scores`), if the finding is about one.
    pub op: Option<String>,
    /// The tensor concerned (a parameter, an output or an argument), if any.
    pub tensor: Option<String>,
    /// What is wrong, with the value found and the limit.
    pub message: String,
}

impl LintError {
    /// Whether the finding rejects the program.
    pub fn is_rejection(&self) -> bool {
        self.rule.enforcement() == Enforcement::Reject
    }
}

impl fmt::Display for LintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.rule.enforcement() {
            Enforcement::Reject => "rejected",
            Enforcement::Advisory => "advisory",
        };
        write!(f, "[{} {kind}] {}", self.rule.id(), self.function)?;
        if let Some(op) = &self.op {
            write!(f, ", op {op}")?;
        }
        if let Some(tensor) = &self.tensor {
            write!(f, ", tensor `{tensor}`")?;
        }
        write!(f, ": {} (source: {})", self.message, self.rule.source())
    }
}

/// The findings of rejecting rules: a program with any would fail (or compute wrong values) on a
/// chip with `caps`.
pub fn lint(program: &Program, caps: &ChipCaps) -> Vec<LintError> {
    lint_all(program, caps)
        .into_iter()
        .filter(LintError::is_rejection)
        .collect()
}

/// Every finding, rejecting and advisory, in program order.
pub fn lint_all(program: &Program, caps: &ChipCaps) -> Vec<LintError> {
    let mut findings = Vec::new();
    let expected = caps.dialect;
    if program.version != expected.program_version()
        || program
            .functions
            .iter()
            .any(|f| f.opset != expected.opset())
    {
        let opsets: Vec<&str> = program.functions.iter().map(|f| f.opset.name()).collect();
        findings.push(LintError {
            rule: Rule::Dialect,
            function: program
                .functions
                .first()
                .map_or_else(String::new, |f| f.name.clone()),
            op: None,
            tensor: None,
            message: format!(
                "the program is program({}) with opsets {opsets:?}; {} needs program({}) with {}",
                program.version,
                caps.family,
                expected.program_version(),
                expected.opset()
            ),
        });
    }
    for function in &program.functions {
        checks::check_function(function, caps, &mut findings);
    }
    findings
}
