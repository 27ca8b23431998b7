//! Reading an exported package back: its `Model` message, and its ML Program as an ane-mil
//! program the simulator can run, with the package's weight file.
//!
//! Core ML's `classify` op (probabilities → label and dictionary) has no tensor form and no
//! place in the simulator; the reader takes it out, keeps its class labels, and returns its
//! `probabilities` input as an output instead, so the simulator computes everything the
//! package computes except the mapping of indices to labels.

use super::convert::{read_named_type, read_operation};
use super::error::ExportError;
use super::package::read_model;
use super::proto;
use super::target::opset_of_proto;
use ane_mil::{Dialect, Function, Program, WeightFiles};
use std::path::Path;

/// A package as read back.
#[derive(Debug, Clone)]
pub struct ReadPackage {
    /// The root `Model` message.
    pub model: proto::Model,
    /// The `main` function as an ane-mil program (without `classify`).
    pub program: Program,
    /// The weight files the program references, by the path it uses.
    pub weights: WeightFiles,
    /// The classifier's labels, when the package is a classifier.
    pub class_labels: Option<Vec<String>>,
}

/// Reads the package at `dir`.
pub fn read_package(dir: &Path) -> Result<ReadPackage, ExportError> {
    let (model_path, model) = read_model(dir)?;
    let bad = |reason: String| ExportError::BadPackage {
        path: model_path.clone(),
        reason,
    };
    let Some(proto::ModelType::MlProgram(program)) = &model.r#type else {
        return Err(bad("it is not an ML Program".into()));
    };
    if program.version != 1 {
        return Err(bad(format!(
            "program version {} (expected 1)",
            program.version
        )));
    }
    let main = program
        .functions
        .get("main")
        .ok_or_else(|| bad("it has no `main` function".into()))?;
    let opset = opset_of_proto(&main.opset)
        .ok_or_else(|| bad(format!("unknown opset `{}`", main.opset)))?;
    let block = main
        .block_specializations
        .get(&main.opset)
        .ok_or_else(|| bad(format!("no block for opset `{}`", main.opset)))?;
    let with_context = |e: ExportError| match e {
        ExportError::Internal(reason) => bad(reason),
        other => other,
    };
    let params = main
        .inputs
        .iter()
        .map(read_named_type)
        .collect::<Result<Vec<_>, _>>()
        .map_err(with_context)?;
    let mut body = Vec::with_capacity(block.operations.len());
    let mut outputs = block.outputs.clone();
    let mut class_labels = None;
    for op in &block.operations {
        if op.r#type == "classify" {
            class_labels = Some(classify_labels(op).map_err(bad)?);
            let produced: Vec<&str> = op.outputs.iter().map(|o| o.name.as_str()).collect();
            outputs.retain(|o| !produced.contains(&o.as_str()));
            if let Some(proto::BindingKind::Name(p)) = op
                .inputs
                .get("probabilities")
                .and_then(|a| a.arguments.first())
                .and_then(|b| b.binding.as_ref())
            {
                outputs.push(p.clone());
            }
            continue;
        }
        body.push(read_operation(op).map_err(with_context)?);
    }
    let mut ane = Program::new(Dialect::Ios18);
    ane.functions.push(Function {
        name: "main".into(),
        opset,
        params,
        attributes: Default::default(),
        body,
        outputs,
        pos: Default::default(),
    });
    let model_dir = model_path.parent().unwrap_or(dir);
    let (weights, missing) = WeightFiles::load_referenced(&ane, model_dir);
    if let Some((path, e)) = missing.first() {
        return Err(bad(format!("weight file {path}: {e}")));
    }
    Ok(ReadPackage {
        model,
        program: ane,
        weights,
        class_labels,
    })
}

/// The string labels bound to `classify`'s `classes`.
fn classify_labels(op: &proto::Operation) -> Result<Vec<String>, String> {
    let value = match op
        .inputs
        .get("classes")
        .and_then(|a| a.arguments.first())
        .and_then(|b| b.binding.as_ref())
    {
        Some(proto::BindingKind::Value(v)) => v,
        _ => return Err("classify's classes are not an inline list".into()),
    };
    let Some(proto::ValueKind::Immediate(proto::ImmediateValue {
        value: Some(proto::ImmediateKind::List(list)),
    })) = &value.value
    else {
        return Err("classify's classes are not a list".into());
    };
    list.values
        .iter()
        .map(|v| match &v.value {
            Some(proto::ValueKind::Immediate(proto::ImmediateValue {
                value:
                    Some(proto::ImmediateKind::Tensor(proto::TensorValue {
                        value: Some(proto::TensorValueKind::Strings(s)),
                    })),
            })) if s.values.len() == 1 => Ok(s.values[0].clone()),
            _ => Err("a class label is not a string".to_string()),
        })
        .collect()
}
