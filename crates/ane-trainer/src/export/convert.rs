//! ane-mil values, types and operations ↔ their `MIL.proto` messages (mil-ops.md §4.2).
//!
//! Writing: tensors of at least [`BLOB_MIN_ELEMENTS`] fp16/fp32/int8/uint8 elements go to the
//! package's one weight file (as coremltools does), everything else is an immediate value
//! encoded like coremltools' `helper.py` rules: fp32 → `floats`, int32/int16/uint16 → `ints`,
//! uint64 → `longInts`, bool → `bools`, string → `strings`, fp16/int8/uint8 → `bytes`.
//! Reading is the inverse, blob references kept as references.

use super::error::ExportError;
use super::proto::{self, data_type};
use ane_mil::blob::BlobWriter;
use ane_mil::{
    Argument, Binding, BlobRef, DType, Dim, Function, NamedType, Operation, TensorData, TensorType,
    TensorValue, Value, ValueType, WeightFiles,
};
use std::collections::{BTreeMap, HashMap};

/// Where every blob-file value of an exported program points.
pub const WEIGHT_FILE: &str = "@model_path/weights/weight.bin";
/// Tensors with at least this many elements are stored in the weight file.
pub const BLOB_MIN_ELEMENTS: usize = 10;

/// The `DataType` enum value of a dtype.
pub fn proto_dtype(dtype: DType) -> i32 {
    match dtype {
        DType::Fp16 => data_type::FLOAT16,
        DType::Fp32 => data_type::FLOAT32,
        DType::Int32 => data_type::INT32,
        DType::Int16 => data_type::INT16,
        DType::Int8 => data_type::INT8,
        DType::Uint8 => data_type::UINT8,
        DType::Uint16 => data_type::UINT16,
        DType::Uint64 => data_type::UINT64,
        DType::Bool => data_type::BOOL,
        DType::String => data_type::STRING,
    }
}

/// The dtype of a `DataType` enum value, when ane-mil has it.
pub fn dtype_of_proto(code: i32) -> Option<DType> {
    DType::ALL.into_iter().find(|d| proto_dtype(*d) == code)
}

/// A tensor (or scalar) type.
pub fn tensor_type(ty: &TensorType) -> proto::ValueType {
    proto::ValueType {
        r#type: Some(proto::ValueTypeKind::Tensor(tensor_type_message(ty))),
    }
}

fn tensor_type_message(ty: &TensorType) -> proto::TensorType {
    proto::TensorType {
        data_type: proto_dtype(ty.dtype),
        rank: ty.rank() as i64,
        dimensions: ty
            .shape
            .iter()
            .map(|d| proto::Dimension {
                dimension: Some(match d {
                    Dim::Known(n) => {
                        proto::DimensionKind::Constant(proto::ConstantDimension { size: *n as u64 })
                    }
                    Dim::Unknown => {
                        proto::DimensionKind::Unknown(proto::UnknownDimension { variadic: false })
                    }
                }),
            })
            .collect(),
    }
}

/// Any value type ane-mil has (tensors and dictionaries; tuples have no proto form here).
pub fn value_type(ty: &ValueType) -> Result<proto::ValueType, ExportError> {
    match ty {
        ValueType::Tensor(t) => Ok(tensor_type(t)),
        ValueType::Dict(k, v) => Ok(proto::ValueType {
            r#type: Some(proto::ValueTypeKind::Dictionary(Box::new(
                proto::DictionaryType {
                    key_type: Some(Box::new(value_type(k)?)),
                    value_type: Some(Box::new(value_type(v)?)),
                },
            ))),
        }),
        ValueType::Tuple(_) => Err(ExportError::Internal(
            "tuple types have no Core ML form here".into(),
        )),
    }
}

/// The immediate encoding of a tensor literal's elements.
pub fn tensor_value(t: &TensorValue) -> Result<proto::TensorValue, ExportError> {
    use proto::TensorValueKind as K;
    let kind = match (&t.data, t.ty.dtype) {
        (TensorData::Fp32(v), _) => K::Floats(proto::RepeatedFloats { values: v.clone() }),
        (TensorData::Fp16(v), _) => K::Bytes(proto::RepeatedBytes {
            values: v.iter().flat_map(|x| x.to_bits().to_le_bytes()).collect(),
        }),
        (TensorData::Int(v), DType::Int8) => K::Bytes(proto::RepeatedBytes {
            values: v.iter().map(|&x| x as i8 as u8).collect(),
        }),
        (TensorData::Int(v), DType::Uint8) => K::Bytes(proto::RepeatedBytes {
            values: v.iter().map(|&x| x as u8).collect(),
        }),
        (TensorData::Int(v), _) => K::Ints(proto::RepeatedInts {
            values: v.iter().map(|&x| x as i32).collect(),
        }),
        (TensorData::UInt64(v), _) => K::LongInts(proto::RepeatedLongInts {
            values: v.iter().map(|&x| x as i64).collect(),
        }),
        (TensorData::Bool(v), _) => K::Bools(proto::RepeatedBools { values: v.clone() }),
        (TensorData::Str(v), _) => K::Strings(proto::RepeatedStrings { values: v.clone() }),
    };
    Ok(proto::TensorValue { value: Some(kind) })
}

/// An inline tensor value.
pub fn immediate(t: &TensorValue) -> Result<proto::Value, ExportError> {
    Ok(proto::Value {
        doc_string: String::new(),
        r#type: Some(tensor_type(&t.ty)),
        value: Some(proto::ValueKind::Immediate(proto::ImmediateValue {
            value: Some(proto::ImmediateKind::Tensor(tensor_value(t)?)),
        })),
    })
}

/// Writes program values, moving large tensors into one weight file.
pub struct ValueWriter<'a> {
    /// The weight file being built.
    pub blobs: BlobWriter,
    /// Where the lowered program's own `BLOBFILE` references point.
    pub sources: &'a WeightFiles,
}

impl ValueWriter<'_> {
    /// The proto form of `value`.
    pub fn value(&mut self, value: &Value) -> Result<proto::Value, ExportError> {
        match value {
            Value::Tensor(t) if stored_in_blob(t) => self.blob(t),
            Value::Tensor(t) => immediate(t),
            Value::Blob(b) => {
                let data = ane_mil::blob::read_tensor(self.sources, b).map_err(|e| {
                    ExportError::Internal(format!("reading constant table {}: {e}", b.path))
                })?;
                self.blob(&TensorValue {
                    ty: b.ty.clone(),
                    data,
                })
            }
            Value::Dict {
                key_type,
                value_type: vt,
                entries,
            } => {
                let values = entries
                    .iter()
                    .map(|(k, v)| {
                        Ok(proto::KeyValuePair {
                            key: Some(immediate(k)?),
                            value: Some(immediate(v)?),
                        })
                    })
                    .collect::<Result<Vec<_>, ExportError>>()?;
                Ok(proto::Value {
                    doc_string: String::new(),
                    r#type: Some(value_type(&ValueType::Dict(
                        Box::new(key_type.clone()),
                        Box::new(vt.clone()),
                    ))?),
                    value: Some(proto::ValueKind::Immediate(proto::ImmediateValue {
                        value: Some(proto::ImmediateKind::Dictionary(proto::DictionaryValue {
                            values,
                        })),
                    })),
                })
            }
        }
    }

    fn blob(&mut self, t: &TensorValue) -> Result<proto::Value, ExportError> {
        let offset = self
            .blobs
            .append_tensor(t)
            .map_err(|e| ExportError::Internal(format!("writing a weight blob: {e}")))?;
        Ok(proto::Value {
            doc_string: String::new(),
            r#type: Some(tensor_type(&t.ty)),
            value: Some(proto::ValueKind::BlobFile(proto::BlobFileValue {
                file_name: WEIGHT_FILE.to_string(),
                offset,
            })),
        })
    }

    /// The proto form of one operation.
    pub fn operation(&mut self, op: &Operation) -> Result<proto::Operation, ExportError> {
        let mut inputs = HashMap::new();
        for (name, arg) in &op.inputs {
            let bindings: &[Binding] = match arg {
                Argument::Single(b) => std::slice::from_ref(b),
                Argument::Tuple(bs) => bs,
            };
            let arguments = bindings
                .iter()
                .map(|b| {
                    Ok(proto::Binding {
                        binding: Some(match b {
                            Binding::Var(v) => proto::BindingKind::Name(v.clone()),
                            Binding::Value(v) => proto::BindingKind::Value(self.value(v)?),
                        }),
                    })
                })
                .collect::<Result<Vec<_>, ExportError>>()?;
            inputs.insert(name.clone(), proto::Argument { arguments });
        }
        let mut attributes = HashMap::new();
        for (name, value) in &op.attributes {
            attributes.insert(name.clone(), self.value(value)?);
        }
        Ok(proto::Operation {
            r#type: op.op_type.clone(),
            inputs,
            outputs: op
                .outputs
                .iter()
                .map(named_type)
                .collect::<Result<_, _>>()?,
            attributes,
        })
    }
}

/// A named value type.
pub fn named_type(n: &NamedType) -> Result<proto::NamedValueType, ExportError> {
    Ok(proto::NamedValueType {
        name: n.name.clone(),
        r#type: Some(value_type(&n.ty)?),
    })
}

fn stored_in_blob(t: &TensorValue) -> bool {
    matches!(
        t.ty.dtype,
        DType::Fp16 | DType::Fp32 | DType::Int8 | DType::Uint8
    ) && t.data.len() >= BLOB_MIN_ELEMENTS
}

// ---- reading ----

fn bad(reason: impl Into<String>) -> ExportError {
    ExportError::Internal(reason.into())
}

/// The ane-mil type of a proto value type (tensors and dictionaries).
pub fn read_value_type(ty: &proto::ValueType) -> Result<ValueType, ExportError> {
    match &ty.r#type {
        Some(proto::ValueTypeKind::Tensor(t)) => Ok(ValueType::Tensor(read_tensor_type(t)?)),
        Some(proto::ValueTypeKind::Dictionary(d)) => {
            let k = d
                .key_type
                .as_deref()
                .ok_or_else(|| bad("dictionary without key type"))?;
            let v = d
                .value_type
                .as_deref()
                .ok_or_else(|| bad("dictionary without value type"))?;
            Ok(ValueType::Dict(
                Box::new(read_value_type(k)?),
                Box::new(read_value_type(v)?),
            ))
        }
        Some(proto::ValueTypeKind::List(_)) => Err(bad("list types are not supported")),
        None => Err(bad("a value type is missing")),
    }
}

/// The ane-mil tensor type of a proto tensor type.
pub fn read_tensor_type(t: &proto::TensorType) -> Result<TensorType, ExportError> {
    let dtype = dtype_of_proto(t.data_type)
        .ok_or_else(|| bad(format!("unsupported data type {}", t.data_type)))?;
    if t.rank != t.dimensions.len() as i64 {
        return Err(bad(format!(
            "rank {} with {} dimensions",
            t.rank,
            t.dimensions.len()
        )));
    }
    let shape = t
        .dimensions
        .iter()
        .map(|d| match &d.dimension {
            Some(proto::DimensionKind::Constant(c)) => usize::try_from(c.size)
                .map(Dim::Known)
                .map_err(|_| bad("dimension too large")),
            _ => Ok(Dim::Unknown),
        })
        .collect::<Result<_, _>>()?;
    Ok(TensorType { dtype, shape })
}

/// The ane-mil value of a proto value; blob-file values become `BLOBFILE` references.
pub fn read_value(v: &proto::Value) -> Result<Value, ExportError> {
    let ty = read_value_type(v.r#type.as_ref().ok_or_else(|| bad("value without type"))?)?;
    match (&v.value, ty) {
        (Some(proto::ValueKind::BlobFile(b)), ValueType::Tensor(ty)) => Ok(Value::Blob(BlobRef {
            ty,
            path: b.file_name.clone(),
            offset: b.offset,
        })),
        (Some(proto::ValueKind::Immediate(i)), ValueType::Tensor(ty)) => match &i.value {
            Some(proto::ImmediateKind::Tensor(t)) => Ok(Value::Tensor(read_tensor_value(t, ty)?)),
            _ => Err(bad("a tensor value is not a tensor literal")),
        },
        (Some(proto::ValueKind::Immediate(i)), ValueType::Dict(k, vt)) => match &i.value {
            Some(proto::ImmediateKind::Dictionary(d)) => {
                let mut entries = Vec::new();
                for pair in &d.values {
                    let key = pair.key.as_ref().map(read_value).transpose()?;
                    let value = pair.value.as_ref().map(read_value).transpose()?;
                    match (key, value) {
                        (Some(Value::Tensor(k)), Some(Value::Tensor(v))) => entries.push((k, v)),
                        _ => return Err(bad("a dictionary entry is not two literals")),
                    }
                }
                Ok(Value::Dict {
                    key_type: *k,
                    value_type: *vt,
                    entries,
                })
            }
            _ => Err(bad("a dictionary value is not a dictionary literal")),
        },
        _ => Err(bad("a value has no data")),
    }
}

fn read_tensor_value(t: &proto::TensorValue, ty: TensorType) -> Result<TensorValue, ExportError> {
    use proto::TensorValueKind as K;
    let data = match (&t.value, ty.dtype) {
        (Some(K::Floats(f)), DType::Fp32) => TensorData::Fp32(f.values.clone()),
        (Some(K::Bytes(b)), DType::Fp16) => TensorData::Fp16(
            b.values
                .chunks_exact(2)
                .map(|c| half::f16::from_bits(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
        ),
        (Some(K::Bytes(b)), DType::Int8) => {
            TensorData::Int(b.values.iter().map(|&x| x as i8 as i64).collect())
        }
        (Some(K::Bytes(b)), DType::Uint8) => {
            TensorData::Int(b.values.iter().map(|&x| x as i64).collect())
        }
        (Some(K::Ints(i)), DType::Int32 | DType::Int16 | DType::Uint16) => {
            TensorData::Int(i.values.iter().map(|&x| x as i64).collect())
        }
        (Some(K::LongInts(l)), DType::Uint64) => {
            TensorData::UInt64(l.values.iter().map(|&x| x as u64).collect())
        }
        (Some(K::Bools(b)), DType::Bool) => TensorData::Bool(b.values.clone()),
        (Some(K::Strings(s)), DType::String) => TensorData::Str(s.values.clone()),
        (_, dtype) => {
            return Err(bad(format!(
                "a {dtype} literal is stored in the wrong field"
            )))
        }
    };
    if let Some(n) = ty.num_elements() {
        if n != data.len() {
            return Err(bad(format!("{ty} literal has {} elements", data.len())));
        }
    }
    Ok(TensorValue { ty, data })
}

/// The ane-mil form of a proto operation.
pub fn read_operation(op: &proto::Operation) -> Result<Operation, ExportError> {
    let mut inputs = BTreeMap::new();
    for (name, arg) in &op.inputs {
        let bindings = arg
            .arguments
            .iter()
            .map(|b| match &b.binding {
                Some(proto::BindingKind::Name(n)) => Ok(Binding::Var(n.clone())),
                Some(proto::BindingKind::Value(v)) => Ok(Binding::Value(read_value(v)?)),
                None => Err(bad(format!("`{}` has an empty binding", op.r#type))),
            })
            .collect::<Result<Vec<_>, ExportError>>()?;
        let arg = match <[Binding; 1]>::try_from(bindings) {
            Ok([single]) => Argument::Single(single),
            Err(many) => Argument::Tuple(many),
        };
        inputs.insert(name.clone(), arg);
    }
    let mut attributes = BTreeMap::new();
    for (name, value) in &op.attributes {
        attributes.insert(name.clone(), read_value(value)?);
    }
    Ok(Operation {
        op_type: op.r#type.clone(),
        opset: None,
        outputs: op
            .outputs
            .iter()
            .map(read_named_type)
            .collect::<Result<_, _>>()?,
        inputs,
        attributes,
        pos: Default::default(),
    })
}

/// The ane-mil form of a named value type.
pub fn read_named_type(n: &proto::NamedValueType) -> Result<NamedType, ExportError> {
    let ty = n
        .r#type
        .as_ref()
        .ok_or_else(|| bad(format!("`{}` has no type", n.name)))?;
    Ok(NamedType {
        name: n.name.clone(),
        ty: read_value_type(ty)?,
        pos: Default::default(),
    })
}

/// The names every op of `function` defines, in order.
pub fn defined_names(function: &Function) -> impl Iterator<Item = &str> {
    function
        .body
        .iter()
        .flat_map(|op| op.outputs.iter().map(|o| o.name.as_str()))
}
