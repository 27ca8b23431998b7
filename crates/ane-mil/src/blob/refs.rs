//! Checking every `BLOBFILE` reference of a program against the weight files it will be
//! compiled with: file present, offset naming a record, dtype and byte size matching the
//! declared tensor type.

use super::reader::check_blob_ref;
use super::BlobError;
use crate::program::{Argument, Binding, Operation, Program, SourcePos};
use crate::value::{BlobRef, Value};
use crate::weights::WeightFiles;
use std::fmt;

/// A `BLOBFILE` reference that does not resolve, with where it appears in the program.
#[derive(Debug, Clone, PartialEq)]
pub struct BlobRefError {
    /// The function holding the operation.
    pub function: String,
    /// The operation's `name` attribute, else its first output, else its op type.
    pub op: String,
    /// Where the operation starts in the source text (if it was parsed).
    pub pos: SourcePos,
    /// Which slot holds the reference, e.g. ``attribute `val` `` or ``input `values`[1]``.
    pub slot: String,
    /// The reference itself.
    pub blob: BlobRef,
    /// What is wrong with it.
    pub error: BlobError,
}

impl fmt::Display for BlobRefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: op `{}` at {}, {}: BLOBFILE(path = \"{}\", offset = {}): {}",
            self.function,
            self.op,
            self.pos,
            self.slot,
            self.blob.path,
            self.blob.offset,
            self.error
        )
    }
}

impl std::error::Error for BlobRefError {}

/// Every unresolvable `BLOBFILE` reference in `program` (empty when all resolve), in program
/// order. Looks at operation attributes (`const` values, iOS16/17 `constexpr_*` operands) and
/// at inputs bound to inline values, including tuple elements. Paths are looked up exactly as
/// written (`@model_path/weights/w.bin`).
pub fn check_refs(program: &Program, files: &WeightFiles) -> Vec<BlobRefError> {
    let mut errors = Vec::new();
    for function in &program.functions {
        for op in &function.body {
            for (slot, blob) in blob_slots(op) {
                if let Err(error) = check_blob_ref(files, blob) {
                    errors.push(BlobRefError {
                        function: function.name.clone(),
                        op: op_label(op),
                        pos: op.pos,
                        slot,
                        blob: blob.clone(),
                        error,
                    });
                }
            }
        }
    }
    errors
}

/// The blob references of one operation with a description of the slot holding each.
fn blob_slots(op: &Operation) -> Vec<(String, &BlobRef)> {
    let mut slots = Vec::new();
    for (name, value) in &op.attributes {
        if let Value::Blob(blob) = value {
            slots.push((format!("attribute `{name}`"), blob));
        }
    }
    for (name, argument) in &op.inputs {
        match argument {
            Argument::Single(Binding::Value(Value::Blob(blob))) => {
                slots.push((format!("input `{name}`"), blob));
            }
            Argument::Tuple(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Binding::Value(Value::Blob(blob)) = item {
                        slots.push((format!("input `{name}`[{i}]"), blob));
                    }
                }
            }
            Argument::Single(_) => {}
        }
    }
    slots
}

fn op_label(op: &Operation) -> String {
    op.name_attr()
        .map(str::to_string)
        .or_else(|| op.outputs.first().map(|o| o.name.clone()))
        .unwrap_or_else(|| op.op_type.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::{BlobDType, BlobWriter};
    use crate::dtype::DType;
    use crate::program::{Dialect, Function, NamedType, Opset};
    use crate::types::TensorType;
    use crate::value::TensorValue;
    use half::f16;
    use std::collections::BTreeMap;

    const PATH: &str = "@model_path/weights/w.bin";

    fn blob(dtype: DType, shape: &[usize], offset: u64) -> Value {
        Value::Blob(BlobRef {
            ty: TensorType::new(dtype, shape.iter().copied()),
            path: PATH.to_string(),
            offset,
        })
    }

    fn const_op(name: &str, val: Value, line: usize) -> Operation {
        let ty = val.value_type();
        let mut attributes = BTreeMap::new();
        attributes.insert("name".to_string(), Value::Tensor(TensorValue::string(name)));
        attributes.insert("val".to_string(), val);
        Operation {
            op_type: "const".into(),
            opset: None,
            outputs: vec![NamedType {
                name: name.into(),
                ty,
                pos: SourcePos::default(),
            }],
            inputs: BTreeMap::new(),
            attributes,
            pos: SourcePos::at(line, 5),
        }
    }

    fn program(body: Vec<Operation>) -> Program {
        let mut p = Program::new(Dialect::Ios18);
        p.functions.push(Function {
            name: "main".into(),
            opset: Opset::Ios18,
            params: vec![],
            attributes: BTreeMap::new(),
            body,
            outputs: vec![],
            pos: SourcePos::default(),
        });
        p
    }

    fn weights() -> (WeightFiles, u64, u64) {
        let mut w = BlobWriter::new();
        let a = w.append_fp16(&[f16::ONE; 8]).unwrap();
        let b = w.append_int8(&[1, 2, 3, 4]).unwrap();
        let mut files = WeightFiles::new();
        files.insert(PATH, w.finish());
        (files, a, b)
    }

    #[test]
    fn resolving_references_give_no_errors() {
        let (files, a, b) = weights();
        let p = program(vec![
            const_op("w", blob(DType::Fp16, &[2, 4], a), 3),
            const_op("q", blob(DType::Int8, &[4], b), 4),
        ]);
        assert_eq!(check_refs(&p, &files), vec![]);
    }

    #[test]
    fn every_kind_of_bad_reference_is_reported_with_its_op() {
        let (files, a, b) = weights();
        let mut dequant = const_op("dq", blob(DType::Int8, &[4], b), 9);
        dequant.op_type = "constexpr_affine_dequantize".into();
        dequant.attributes.remove("val");
        dequant
            .attributes
            .insert("quantized_data".into(), blob(DType::Int8, &[5], b));
        let mut concat = const_op("cat", blob(DType::Fp16, &[8], a), 10);
        concat.op_type = "concat".into();
        concat.attributes.remove("val");
        concat.inputs.insert(
            "values".into(),
            Argument::Tuple(vec![
                Binding::Var("x".into()),
                Binding::Value(blob(DType::Fp16, &[8], 7)),
            ]),
        );
        let mut missing = blob(DType::Fp16, &[8], a);
        if let Value::Blob(r) = &mut missing {
            r.path = "@model_path/weights/none.bin".into();
        }
        let p = program(vec![
            const_op("ok", blob(DType::Fp16, &[8], a), 2),
            const_op("wrong_dtype", blob(DType::Fp32, &[4], a), 3),
            const_op("wrong_size", blob(DType::Fp16, &[3, 3], a), 4),
            const_op("not_record", blob(DType::Fp16, &[8], 128), 5),
            const_op("missing", missing, 6),
            dequant,
            concat,
        ]);
        let errors = check_refs(&p, &files);
        let summary: Vec<(String, String, usize)> = errors
            .iter()
            .map(|e| (e.op.clone(), e.slot.clone(), e.pos.0.unwrap().0))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("wrong_dtype".into(), "attribute `val`".into(), 3),
                ("wrong_size".into(), "attribute `val`".into(), 4),
                ("not_record".into(), "attribute `val`".into(), 5),
                ("missing".into(), "attribute `val`".into(), 6),
                ("dq".into(), "attribute `quantized_data`".into(), 9),
                ("cat".into(), "input `values`[1]".into(), 10),
            ]
        );
        assert!(matches!(
            errors[0].error,
            BlobError::DTypeMismatch {
                found: BlobDType::Fp16,
                expected: DType::Fp32,
                ..
            }
        ));
        assert!(matches!(errors[1].error, BlobError::SizeMismatch { .. }));
        assert!(matches!(errors[2].error, BlobError::BadSentinel { .. }));
        assert!(matches!(errors[3].error, BlobError::MissingFile { .. }));
        assert!(matches!(errors[4].error, BlobError::SizeMismatch { .. }));
        assert!(matches!(errors[5].error, BlobError::NotARecord { .. }));
        let message = errors[1].to_string();
        assert!(
            message.starts_with("main: op `wrong_size` at 4:5, attribute `val`: BLOBFILE("),
            "{message}"
        );
        assert!(message.contains("needs 18"), "{message}");
    }
}
