//! The `Model` protobuf of a package: the inference program as an ML Program for one deployment
//! target, its interface (named, typed, shaped inputs and outputs with descriptions), classifier
//! outputs and metadata.

use super::convert::{self, ValueWriter};
use super::error::ExportError;
use super::program::{InferenceProgram, PROBABILITIES};
use super::proto;
use super::target::DeploymentTarget;
use ane_mil::blob::BlobWriter;
use ane_mil::{DType, NamedType, TensorType};
use std::collections::{BTreeMap, HashMap};

/// The predicted-label output of classifiers (coremltools' name).
pub const CLASS_LABEL: &str = "classLabel";
/// The label → probability dictionary output of classifiers.
pub const CLASS_PROBS: &str = "classLabel_probs";

/// Who made the model, under which licence, and what else to record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportMetadata {
    /// One-line description.
    pub short_description: String,
    /// `Metadata.author`.
    pub author: String,
    /// `Metadata.license`.
    pub license: String,
    /// `Metadata.versionString`.
    pub version: String,
    /// `Metadata.userDefined`: training settings, source checkpoint, normalization, …
    pub user_defined: BTreeMap<String, String>,
    /// What the data input holds (its feature description).
    pub input_description: String,
}

/// A package's contents before they are written: the `Model` message and the weight file.
#[derive(Debug, Clone)]
pub struct PackageContents {
    /// The `model.mlmodel` message.
    pub model: proto::Model,
    /// `weights/weight.bin`.
    pub weights: Vec<u8>,
}

/// Builds the `Model` message and weight file of `program` for `target`. `class_labels`
/// (classifiers: one per logit) adds a `classify` op and the `classLabel` / `classLabel_probs`
/// outputs. Fails with [`ExportError::UnsupportedTarget`] when an op is missing from the
/// target's opset.
pub fn package_contents(
    program: &InferenceProgram,
    target: DeploymentTarget,
    class_labels: Option<&[String]>,
    metadata: &ExportMetadata,
) -> Result<PackageContents, ExportError> {
    let mut mil = program.program.clone();
    for f in &mut mil.functions {
        f.opset = target.opset();
    }
    check_opset(&mil, target)?;
    let function = mil
        .main()
        .ok_or_else(|| ExportError::Internal("the program has no main".into()))?;
    let mut writer = ValueWriter {
        blobs: BlobWriter::new(),
        sources: &program.weights,
    };
    let mut operations = function
        .body
        .iter()
        .map(|op| writer.operation(op))
        .collect::<Result<Vec<_>, _>>()?;
    let mut block_outputs = function.outputs.clone();
    let mut outputs = vec![feature(
        &program.outputs[0],
        "The model's raw scores (logits)",
    )?];
    let mut description = proto::ModelDescription::default();
    if let Some(labels) = class_labels {
        let probs = program
            .outputs
            .iter()
            .find(|o| o.name == PROBABILITIES)
            .ok_or_else(|| ExportError::Internal("classifier without probabilities".into()))?;
        let classes = probs
            .ty
            .as_tensor()
            .and_then(TensorType::num_elements)
            .unwrap_or(0);
        if classes != labels.len() {
            return Err(ExportError::Internal(format!(
                "{} class labels for {classes} probabilities",
                labels.len()
            )));
        }
        operations.push(classify_op(labels)?);
        block_outputs.retain(|o| o != PROBABILITIES);
        block_outputs.splice(0..0, [CLASS_LABEL.to_string(), CLASS_PROBS.to_string()]);
        let string = || proto::FeatureType {
            r#type: Some(proto::FeatureKind::String(proto::Empty {})),
            is_optional: false,
        };
        outputs.splice(
            0..0,
            [
                proto::FeatureDescription {
                    name: CLASS_LABEL.into(),
                    short_description: "The most likely class".into(),
                    r#type: Some(string()),
                },
                proto::FeatureDescription {
                    name: CLASS_PROBS.into(),
                    short_description: "The probability of each class".into(),
                    r#type: Some(proto::FeatureType {
                        r#type: Some(proto::FeatureKind::Dictionary(
                            proto::DictionaryFeatureType {
                                key_type: Some(proto::DictionaryKey::String(proto::Empty {})),
                            },
                        )),
                        is_optional: false,
                    }),
                },
            ],
        );
        description.predicted_feature_name = CLASS_LABEL.into();
        description.predicted_probabilities_name = CLASS_PROBS.into();
    }
    description.input = vec![feature(&program.input, &metadata.input_description)?];
    description.output = outputs;
    description.metadata = Some(proto::Metadata {
        short_description: metadata.short_description.clone(),
        version_string: metadata.version.clone(),
        author: metadata.author.clone(),
        license: metadata.license.clone(),
        user_defined: metadata
            .user_defined
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    });
    let opset = target.proto_opset().to_string();
    let block = proto::Block {
        inputs: Vec::new(),
        outputs: block_outputs,
        operations,
        attributes: HashMap::new(),
    };
    let main = proto::Function {
        inputs: function
            .params
            .iter()
            .map(convert::named_type)
            .collect::<Result<_, _>>()?,
        opset: opset.clone(),
        block_specializations: HashMap::from([(opset, block)]),
        attributes: HashMap::new(),
    };
    let build_info = writer.value(&ane_mil::program::string_dict(&[(
        "ane-trainer-version",
        env!("CARGO_PKG_VERSION"),
    )]))?;
    let ml_program = proto::Program {
        version: 1,
        functions: HashMap::from([("main".to_string(), main)]),
        doc_string: String::new(),
        attributes: HashMap::from([("buildInfo".to_string(), build_info)]),
    };
    Ok(PackageContents {
        model: proto::Model {
            specification_version: target.specification_version(),
            description: Some(description),
            is_updatable: false,
            r#type: Some(proto::ModelType::MlProgram(ml_program)),
        },
        weights: writer.blobs.finish(),
    })
}

/// Validates the program in the target's opset. The inference program already validated in
/// the newest opset, so whatever fails here is an op, argument or dtype the target's opset
/// lacks: an [`ExportError::UnsupportedTarget`].
pub fn check_opset(
    program: &ane_mil::Program,
    target: DeploymentTarget,
) -> Result<(), ExportError> {
    ane_mil::validate::validate(program).map_err(|errors| {
        let reasons: Vec<String> = errors.0.iter().map(|e| e.message.clone()).collect();
        ExportError::UnsupportedTarget {
            target: target.to_string(),
            reason: format!(
                "{} (choose a newer --deployment-target)",
                reasons.join("; ")
            ),
        }
    })
}

/// A feature description of a multi-array input or output.
fn feature(n: &NamedType, description: &str) -> Result<proto::FeatureDescription, ExportError> {
    let ty =
        n.ty.as_tensor()
            .ok_or_else(|| ExportError::Internal(format!("`{}` is no tensor", n.name)))?;
    let data_type = match ty.dtype {
        DType::Fp32 => proto::ARRAY_FLOAT32,
        DType::Fp16 => proto::ARRAY_FLOAT16,
        DType::Int32 => proto::ARRAY_INT32,
        other => {
            return Err(ExportError::Internal(format!(
                "`{}` has dtype {other}, which Core ML multi-arrays lack",
                n.name
            )))
        }
    };
    let shape = ty
        .known_shape()
        .ok_or_else(|| ExportError::Internal(format!("`{}` has an unknown shape", n.name)))?;
    Ok(proto::FeatureDescription {
        name: n.name.clone(),
        short_description: description.to_string(),
        r#type: Some(proto::FeatureType {
            r#type: Some(proto::FeatureKind::MultiArray(proto::ArrayFeatureType {
                shape: shape.iter().map(|&d| d as i64).collect(),
                data_type,
            })),
            is_optional: false,
        }),
    })
}

/// `classLabel, classLabel_probs = classify(probabilities = probabilities, classes = [...])`,
/// the labels bound inline as a list literal as coremltools writes them.
fn classify_op(labels: &[String]) -> Result<proto::Operation, ExportError> {
    let string = || TensorType::scalar(DType::String);
    let items = labels
        .iter()
        .map(|l| proto::Value {
            doc_string: String::new(),
            r#type: Some(convert::tensor_type(&string())),
            value: Some(proto::ValueKind::Immediate(proto::ImmediateValue {
                value: Some(proto::ImmediateKind::Tensor(proto::TensorValue {
                    value: Some(proto::TensorValueKind::Strings(proto::RepeatedStrings {
                        values: vec![l.clone()],
                    })),
                })),
            })),
        })
        .collect();
    let list_type = proto::ValueType {
        r#type: Some(proto::ValueTypeKind::List(Box::new(proto::ListType {
            r#type: Some(Box::new(convert::tensor_type(&string()))),
            length: Some(proto::Dimension {
                dimension: Some(proto::DimensionKind::Constant(proto::ConstantDimension {
                    size: labels.len() as u64,
                })),
            }),
        }))),
    };
    let classes = proto::Value {
        doc_string: String::new(),
        r#type: Some(list_type),
        value: Some(proto::ValueKind::Immediate(proto::ImmediateValue {
            value: Some(proto::ImmediateKind::List(proto::ListValue {
                values: items,
            })),
        })),
    };
    let bind_name = |n: &str| proto::Argument {
        arguments: vec![proto::Binding {
            binding: Some(proto::BindingKind::Name(n.to_string())),
        }],
    };
    let scalar = |dtype: DType| convert::tensor_type(&TensorType::scalar(dtype));
    let dict = proto::ValueType {
        r#type: Some(proto::ValueTypeKind::Dictionary(Box::new(
            proto::DictionaryType {
                key_type: Some(Box::new(scalar(DType::String))),
                value_type: Some(Box::new(proto::ValueType {
                    r#type: Some(proto::ValueTypeKind::Tensor(proto::TensorType {
                        data_type: proto::data_type::FLOAT64,
                        rank: 0,
                        dimensions: Vec::new(),
                    })),
                })),
            },
        ))),
    };
    let name = convert::immediate(&ane_mil::TensorValue::string(CLASS_LABEL))?;
    Ok(proto::Operation {
        r#type: "classify".into(),
        inputs: HashMap::from([
            ("probabilities".to_string(), bind_name(PROBABILITIES)),
            (
                "classes".to_string(),
                proto::Argument {
                    arguments: vec![proto::Binding {
                        binding: Some(proto::BindingKind::Value(classes)),
                    }],
                },
            ),
        ]),
        outputs: vec![
            proto::NamedValueType {
                name: CLASS_LABEL.into(),
                r#type: Some(scalar(DType::String)),
            },
            proto::NamedValueType {
                name: CLASS_PROBS.into(),
                r#type: Some(dict),
            },
        ],
        attributes: HashMap::from([("name".to_string(), name)]),
    })
}
