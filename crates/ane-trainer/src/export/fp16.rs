//! fp32 → fp16 compute precision for programs the compiler can only lower in fp32.
//!
//! Integer tensors (token ids, the embedding's `gather`) exist only in fp32 kernels, so a
//! language model is lowered in fp32 and then rewritten here the way coremltools'
//! `FP16ComputePrecision` pass does it: every fp32 tensor (parameters, op outputs, constants,
//! inline literals and `cast` targets) becomes fp16; integers and booleans stay. The exporter
//! then widens the boundary back to fp32 with `cast` ops and validates the result.

use super::error::ExportError;
use ane_mil::{
    Argument, Binding, DType, Function, TensorData, TensorType, TensorValue, Value, ValueType,
    WeightFiles,
};

/// Rewrites every fp32 value of `function` as fp16; `BLOBFILE` constants are read from
/// `weights` and become inline fp16 tensors.
pub fn to_fp16(function: &mut Function, weights: &WeightFiles) -> Result<(), ExportError> {
    for p in &mut function.params {
        narrow_type(&mut p.ty);
    }
    for op in &mut function.body {
        for out in &mut op.outputs {
            narrow_type(&mut out.ty);
        }
        for value in op.attributes.values_mut() {
            narrow_value(value, weights)?;
        }
        let is_cast = op.op_type == "cast";
        for (name, arg) in op.inputs.iter_mut() {
            let bindings: &mut [Binding] = match arg {
                Argument::Single(b) => std::slice::from_mut(b),
                Argument::Tuple(bs) => bs,
            };
            for b in bindings {
                if let Binding::Value(v) = b {
                    if is_cast && name == "dtype" {
                        retarget_cast(v);
                    } else {
                        narrow_value(v, weights)?;
                    }
                }
            }
        }
    }
    // `cast` targets bound through a named string const.
    let cast_consts: Vec<String> = function
        .body
        .iter()
        .filter(|op| op.op_type == "cast")
        .filter_map(|op| match op.inputs.get("dtype") {
            Some(Argument::Single(Binding::Var(name))) => Some(name.clone()),
            _ => None,
        })
        .collect();
    for op in &mut function.body {
        if op.op_type == "const" && op.outputs.iter().any(|o| cast_consts.contains(&o.name)) {
            if let Some(v) = op.attributes.get_mut("val") {
                retarget_cast(v);
            }
        }
    }
    Ok(())
}

fn narrow_type(ty: &mut ValueType) {
    if let ValueType::Tensor(t) = ty {
        if t.dtype == DType::Fp32 {
            t.dtype = DType::Fp16;
        }
    }
}

fn narrow_value(value: &mut Value, weights: &WeightFiles) -> Result<(), ExportError> {
    match value {
        Value::Tensor(t) => {
            if let TensorData::Fp32(v) = &t.data {
                *t = TensorValue {
                    ty: TensorType {
                        dtype: DType::Fp16,
                        shape: t.ty.shape.clone(),
                    },
                    data: TensorData::Fp16(v.iter().map(|&x| half::f16::from_f32(x)).collect()),
                };
            }
        }
        Value::Blob(b) if b.ty.dtype == DType::Fp32 => {
            let data = ane_mil::blob::read_tensor(weights, b).map_err(|e| {
                ExportError::Internal(format!("reading constant table {}: {e}", b.path))
            })?;
            let mut t = TensorValue {
                ty: b.ty.clone(),
                data,
            };
            let mut inline = Value::Tensor(t.clone());
            narrow_value(&mut inline, weights)?;
            if let Value::Tensor(narrowed) = inline {
                t = narrowed;
            }
            *value = Value::Tensor(t);
        }
        _ => {}
    }
    Ok(())
}

/// `cast(dtype = "fp32")` becomes `cast(dtype = "fp16")`.
fn retarget_cast(value: &mut Value) {
    if let Value::Tensor(t) = value {
        if t.as_str() == Some("fp32") {
            *t = TensorValue::string("fp16");
        }
    }
}
