//! Quantization (mil-ops §1.14): `quantize` and `dequantize` (iOS17+), and the compile-time
//! `constexpr_affine_dequantize` (iOS16+), whose operands may be written as attributes.

use super::domains::{FLOAT, I32, QUANTIZED, S};
use crate::dtype::DType;
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::shape::{axis_arg, dims_compatible};
use crate::ops::signature::{DTypeDomain, InputSpec, OpSignature, OperandForm};
use crate::program::Opset;
use crate::types::TensorType;

const ZERO_POINT: &[DType] = &[DType::Uint8, DType::Int8, DType::Fp32];

pub(super) fn signatures() -> Vec<OpSignature> {
    let axis = InputSpec::omittable("axis", I32, "scale and zero_point are scalars")
        .constant()
        .scalar();
    vec![
        OpSignature::new(
            "quantize",
            Opset::Ios17,
            vec![
                InputSpec::required("input", DTypeDomain::shared("SrcT", FLOAT)),
                InputSpec::omittable(
                    "zero_point",
                    DTypeDomain::shared("DstT", QUANTIZED),
                    "zero point 0",
                )
                .constant()
                .scalar_or_vector(),
                InputSpec::required("scale", DTypeDomain::shared("SrcT", FLOAT))
                    .constant()
                    .scalar_or_vector(),
                axis,
                InputSpec::required("output_dtype", S).constant().scalar(),
            ],
            quantize_rule,
        ),
        OpSignature::new(
            "dequantize",
            Opset::Ios17,
            vec![
                InputSpec::required("input", DTypeDomain::shared("SrcT", QUANTIZED)),
                InputSpec::omittable(
                    "zero_point",
                    DTypeDomain::shared("SrcT", QUANTIZED),
                    "zero point 0",
                )
                .constant()
                .scalar_or_vector(),
                InputSpec::required("scale", DTypeDomain::shared("DstT", FLOAT))
                    .constant()
                    .scalar_or_vector(),
                axis,
            ],
            dequantize_rule,
        ),
        OpSignature::new(
            "constexpr_affine_dequantize",
            Opset::Ios16,
            vec![
                InputSpec::required("quantized_data", DTypeDomain::shared("SrcT", QUANTIZED))
                    .constant(),
                InputSpec::required("zero_point", DTypeDomain::shared("ZeroPointT", ZERO_POINT))
                    .constant()
                    .scalar_or_vector(),
                InputSpec::required("scale", DTypeDomain::shared("DstT", FLOAT))
                    .constant()
                    .scalar_or_vector(),
                InputSpec::required("axis", I32).constant().scalar(),
            ],
            constexpr_affine_dequantize_rule,
        )
        .with_operand_form(OperandForm::InputsOrAttributes),
    ]
}

/// Checks scale/zero_point shapes against `data` (mil-ops §1.14). With `axis_optional`
/// (quantize/dequantize): both scalars and no `axis`, or both vectors along a given `axis`.
/// Without (constexpr): `axis` is always given, and each vector has length `data.shape[axis]`.
fn check_scale_shapes(
    ctx: &InferCtx<'_, '_>,
    data_name: &str,
    axis_optional: bool,
) -> Result<(), InferError> {
    let data = ctx.tensor(data_name)?;
    if data.rank() == 0 {
        return Err(ctx.shape_error(format!("`{data_name}` must have rank ≥ 1, got {data}")));
    }
    let scale = ctx.tensor("scale")?;
    let zero_point = ctx.opt_tensor("zero_point");
    let has_axis = ctx.inputs.contains("axis");
    if let Some(zp) = zero_point.filter(|_| axis_optional) {
        if zp.rank() != scale.rank() {
            return Err(ctx.shape_error(format!(
                "`zero_point` {zp} and `scale` {scale} must both be scalars or both be vectors"
            )));
        }
    }
    if axis_optional && scale.rank() == 0 {
        if has_axis {
            return Err(ctx.value_error("axis", "must be left out when `scale` is a scalar"));
        }
        return Ok(());
    }
    if axis_optional && !has_axis {
        return Err(ctx.value_error(
            "axis",
            format!("is required when `scale` {scale} is a vector"),
        ));
    }
    let axis = axis_arg(ctx, "axis", ctx.int("axis")?, data.rank())?;
    for (name, t) in [("scale", Some(scale)), ("zero_point", zero_point)] {
        if let Some(t) = t.filter(|t| t.rank() == 1) {
            if !dims_compatible(t.shape[0], data.shape[axis]) {
                return Err(ctx.shape_error(format!(
                    "`{name}` {t} must have one value per element of axis {axis} of `{data_name}` {data}"
                )));
            }
        }
    }
    Ok(())
}

fn quantize_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let input = ctx.tensor("input")?;
    let name = ctx.string("output_dtype")?;
    let dtype = DType::from_name(&name)
        .filter(|d| QUANTIZED.contains(d))
        .ok_or_else(|| {
            ctx.value_error(
                "output_dtype",
                format!("expected \"uint8\" or \"int8\", got \"{name}\""),
            )
        })?;
    if let Some(zp) = ctx.opt_tensor("zero_point") {
        if zp.dtype != dtype {
            return Err(ctx.value_error(
                "zero_point",
                format!("dtype {} must equal output_dtype \"{name}\"", zp.dtype),
            ));
        }
    }
    if ctx
        .opt_floats("scale")
        .is_some_and(|s| s.iter().all(|&v| v == 0.0))
    {
        return Err(ctx.value_error("scale", "must not be all zeros"));
    }
    check_scale_shapes(ctx, "input", true)?;
    Ok(ctx.output(dtype, input.shape.clone()))
}

fn dequantize_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let input = ctx.tensor("input")?;
    check_scale_shapes(ctx, "input", true)?;
    Ok(ctx.output(ctx.tensor("scale")?.dtype, input.shape.clone()))
}

fn constexpr_affine_dequantize_rule(ctx: &InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError> {
    let data = ctx.tensor("quantized_data")?;
    check_scale_shapes(ctx, "quantized_data", false)?;
    Ok(ctx.output(ctx.tensor("scale")?.dtype, data.shape.clone()))
}
