//! Constants, decoded once when a program is prepared: inline literals, `BLOBFILE` references
//! (through `ane_mil::blob::read_tensor`), and `constexpr_affine_dequantize`, which is evaluated
//! here (`scale · (data − zero_point)` in f32, rounded once to the scale's dtype).

use crate::error::SimError;
use crate::storage::{Buf, Kind};
use ane_cpu::convert::{f16_to_f32_vec, f32_to_f16_vec};
use ane_mil::{DType, TensorData, TensorType, TensorValue, Value, WeightFiles};

/// The tensor a literal stands for: inline tensors as written, blob references decoded.
pub(crate) fn literal(
    value: &Value,
    weights: &WeightFiles,
    what: &str,
) -> Result<TensorValue, SimError> {
    match value {
        Value::Tensor(t) => Ok(t.clone()),
        Value::Blob(blob) => {
            let data =
                ane_mil::blob::read_tensor(weights, blob).map_err(|e| SimError::Unsupported {
                    op: what.to_string(),
                    message: format!("cannot read BLOBFILE {} at {}: {e}", blob.path, blob.offset),
                })?;
            Ok(TensorValue {
                ty: blob.ty.clone(),
                data,
            })
        }
        Value::Dict { .. } => Err(SimError::Unsupported {
            op: what.to_string(),
            message: "a dictionary cannot be a tensor value".into(),
        }),
    }
}

/// The storage buffer holding constant `v` as `kind`.
pub(crate) fn to_buf(v: &TensorValue, kind: Kind, what: &str) -> Result<Buf, SimError> {
    let bad = |message: String| SimError::Unsupported {
        op: what.to_string(),
        message,
    };
    Ok(match (&v.data, kind) {
        (TensorData::Fp16(x), Kind::F16) => Buf::F16(x.clone()),
        (TensorData::Fp16(x), Kind::F32) => Buf::F32(f16_to_f32_vec(x)),
        (TensorData::Fp32(x), Kind::F32) => Buf::F32(x.clone()),
        (TensorData::Fp32(x), Kind::F16) => Buf::F16(f32_to_f16_vec(x)),
        (TensorData::Int(x), Kind::I32) => Buf::I32(
            x.iter()
                .map(|&i| {
                    i32::try_from(i).map_err(|_| bad(format!("value {i} does not fit int32")))
                })
                .collect::<Result<_, _>>()?,
        ),
        (TensorData::Bool(x), Kind::Bool) => Buf::Bool(x.iter().map(|&b| u8::from(b)).collect()),
        _ => {
            return Err(bad(format!(
                "a {} constant cannot be held as a simulator tensor",
                v.ty
            )))
        }
    })
}

/// Float or integer elements widened to f32 (`None` for bools and strings).
pub(crate) fn floats(v: &TensorValue) -> Option<Vec<f32>> {
    match &v.data {
        TensorData::Int(x) => Some(x.iter().map(|&i| i as f32).collect()),
        _ => v.as_f32s(),
    }
}

/// Rounds f32 values to the nearest fp16 value (kept as f32).
pub(crate) fn round_to_f16(values: &mut [f32]) {
    ane_cpu::convert::round_to_f16(values);
}

/// `constexpr_affine_dequantize`: `scale · (data − zero_point)` along `axis` (scalars apply
/// everywhere), computed in f32 and rounded once to the dtype of `scale`.
pub(crate) fn affine_dequantize(
    data: &TensorValue,
    zero_point: &TensorValue,
    scale: &TensorValue,
    axis: i64,
    what: &str,
) -> Result<TensorValue, SimError> {
    let bad = |message: String| SimError::Unsupported {
        op: what.to_string(),
        message,
    };
    let shape = data
        .ty
        .known_shape()
        .ok_or_else(|| bad("`quantized_data` needs a known shape".into()))?;
    let q = floats(data).ok_or_else(|| bad("`quantized_data` must be integers".into()))?;
    let zp = floats(zero_point).ok_or_else(|| bad("`zero_point` must be numeric".into()))?;
    let s = scale
        .as_f32s()
        .ok_or_else(|| bad("`scale` must be fp16 or fp32".into()))?;
    let axis = ane_mil::ops::shape::normalize_axis(axis, shape.len())
        .ok_or_else(|| bad(format!("axis {axis} is out of range for {}", data.ty)))?;
    let inner: usize = shape[axis + 1..].iter().product();
    let dim = shape[axis];
    let pick = |v: &[f32], a: usize| -> Result<f32, SimError> {
        match v.len() {
            1 => Ok(v[0]),
            n if n == dim => Ok(v[a]),
            n => Err(bad(format!(
                "{n} values do not match axis {axis} of size {dim}"
            ))),
        }
    };
    let mut out = Vec::with_capacity(q.len());
    for (i, &qi) in q.iter().enumerate() {
        let a = i.checked_div(inner).map_or(0, |q| q % dim.max(1));
        out.push(pick(&s, a)? * (qi - pick(&zp, a)?));
    }
    let dtype = scale.ty.dtype;
    let values = match dtype {
        DType::Fp16 => TensorData::Fp16(f32_to_f16_vec(&out)),
        DType::Fp32 => TensorData::Fp32(out),
        other => {
            return Err(bad(format!(
                "`scale` has dtype {other}; expected fp16 or fp32"
            )))
        }
    };
    Ok(TensorValue {
        ty: TensorType::new(dtype, shape),
        data: values,
    })
}
