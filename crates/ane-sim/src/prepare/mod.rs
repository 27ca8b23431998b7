//! Preparing a program: validation, the function's inputs, one pass over its operations
//! (constants decoded, omitted defaults filled from the op signatures, output types inferred with
//! every known constant, each op compiled into a kernel), its outputs, and the buffer plan.

pub(crate) mod consts;
pub(crate) mod op_cx;
pub(crate) mod plan;
pub(crate) mod values;

use crate::error::SimError;
use crate::ops;
use crate::options::{pool_for, SimOptions};
use crate::prepared::{Port, PreparedProgram};
use crate::storage::Kind;
use ane_mil::ops::{Constness, OperandForm, ResolvedArg, ResolvedInput, ResolvedInputs};
use ane_mil::program::{Argument, Binding, Function, Operation};
use ane_mil::{Opset, Program, TensorType, ValueType, WeightFiles};
use op_cx::{ArgSlot, OpCx, OutputType};
use plan::PlanBuilder;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use values::{ConstValue, Source, ValueInfo};

/// Prepares MIL programs for execution.
#[derive(Debug, Clone, Copy, Default)]
pub struct Simulator;

impl Simulator {
    /// Validates `program` and its weight references, then resolves the chosen function
    /// (`main` unless [`SimOptions::function`] says otherwise) into kernels over planned
    /// buffers. Constants are decoded once here; [`PreparedProgram::run`] only computes.
    pub fn prepare(
        program: &Program,
        weights: &WeightFiles,
        options: SimOptions,
    ) -> Result<PreparedProgram, SimError> {
        ane_mil::validate::validate(program).map_err(SimError::Invalid)?;
        if let Some(caps) = &options.hardware_rules {
            let broken = ane_mil::chip::lint(program, caps);
            if !broken.is_empty() {
                return Err(SimError::HardwareRules(broken));
            }
        }
        let refs = ane_mil::blob::check_refs(program, weights);
        if !refs.is_empty() {
            return Err(SimError::WeightRefs(refs));
        }
        let name = options.function.as_deref().unwrap_or("main");
        let function = program.function(name).ok_or_else(|| SimError::NoFunction {
            name: name.to_string(),
            available: program
                .functions
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        check_declared_sizes(function, options.fp32_like_ane, options.memory_limit)?;
        let pool = pool_for(options.threads)?;
        let threads = pool
            .as_ref()
            .map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
        let mut prep = Preparer {
            plan: PlanBuilder::default(),
            values: HashMap::new(),
            weights,
            ane_fp32: options.fp32_like_ane,
            threads,
        };
        let inputs = prep.inputs(function)?;
        for op in &function.body {
            prep.operation(op, op.opset.unwrap_or(function.opset))?;
        }
        let outputs = prep.outputs(function)?;
        let plan = prep.plan.finish()?;
        Ok(PreparedProgram::new(
            function.name.clone(),
            inputs,
            outputs,
            plan,
            pool,
            options.memory_limit,
        ))
    }
}

/// Refuses, before anything is allocated, a function whose inputs or op results declare a tensor
/// that could never fit: larger than the memory limit (or the available memory), or so large
/// its size overflows. Shapes inferred from the declared ones are no larger (validation checks
/// that declared and inferred types agree).
fn check_declared_sizes(
    function: &Function,
    ane_fp32: bool,
    limit: Option<u64>,
) -> Result<(), SimError> {
    let limit = crate::memory::effective_limit(limit);
    let declared = function
        .params
        .iter()
        .map(|p| (format!("input `{}`", p.name), &p.ty))
        .chain(function.body.iter().flat_map(|op| {
            op.outputs
                .iter()
                .map(move |o| (format!("{} output `{}`", op_label(op), o.name), &o.ty))
        }));
    for (what, ty) in declared {
        let Some(t) = ty.as_tensor() else { continue };
        let Some(shape) = t.known_shape() else {
            continue; // refused with a clearer message where it is used
        };
        let Some(kind) = Kind::of(t.dtype, ane_fp32) else {
            continue;
        };
        let bytes = crate::memory::tensor_bytes(&shape, kind.bytes());
        crate::memory::check_tensor(&what, &t.to_string(), bytes, limit)?;
    }
    Ok(())
}

struct Preparer<'w> {
    plan: PlanBuilder,
    values: HashMap<String, ValueInfo>,
    weights: &'w WeightFiles,
    ane_fp32: bool,
    threads: usize,
}

fn known_tensor(ty: &ValueType, what: &str) -> Result<(TensorType, Vec<usize>), SimError> {
    let unsupported = |message: String| SimError::Unsupported {
        op: what.to_string(),
        message,
    };
    let t = ty
        .as_tensor()
        .ok_or_else(|| unsupported("only tensors can be inputs and outputs".into()))?;
    let shape = t.known_shape().ok_or_else(|| {
        unsupported(format!(
            "{t} has unknown dims; the simulator needs every shape when preparing"
        ))
    })?;
    Ok((t.clone(), shape))
}

fn op_label(op: &Operation) -> String {
    let name = op
        .name_attr()
        .map(str::to_string)
        .or_else(|| op.outputs.first().map(|o| o.name.clone()))
        .unwrap_or_else(|| "?".into());
    format!("\"{name}\" ({})", op.op_type)
}

impl Preparer<'_> {
    fn inputs(&mut self, function: &Function) -> Result<Vec<Port>, SimError> {
        let mut ports = Vec::new();
        for p in &function.params {
            let what = format!("input `{}`", p.name);
            let (ty, shape) = known_tensor(&p.ty, &what)?;
            let kind = Kind::require(ty.dtype, self.ane_fp32, &what, "the input")?;
            // `check_declared_sizes` has shown the product fits.
            let lid = self.plan.tensor(kind, shape.iter().product());
            self.plan.pin(lid);
            self.values.insert(
                p.name.clone(),
                ValueInfo {
                    dtype: ty.dtype,
                    shape,
                    source: Source::Runtime(lid),
                },
            );
            ports.push(Port::new(p.name.clone(), ty, lid, kind));
        }
        Ok(ports)
    }

    fn outputs(&mut self, function: &Function) -> Result<Vec<Port>, SimError> {
        let mut ports = Vec::new();
        for name in &function.outputs {
            let what = format!("output `{name}`");
            let v = self
                .values
                .get(name)
                .cloned()
                .ok_or_else(|| SimError::Internal(format!("{what} is not defined")))?;
            let lid = v.lid(&mut self.plan, self.ane_fp32, &what)?;
            self.plan.pin(lid);
            let ty = TensorType::new(v.dtype, v.shape.iter().copied());
            ports.push(Port::new(name.clone(), ty, lid, self.plan.kind(lid)));
        }
        Ok(ports)
    }

    fn constant(
        &self,
        value: ane_mil::TensorValue,
        constness: Constness,
        what: &str,
    ) -> Result<ValueInfo, SimError> {
        let shape = value
            .ty
            .known_shape()
            .ok_or_else(|| SimError::Unsupported {
                op: what.to_string(),
                message: format!("constant of type {} has unknown dims", value.ty),
            })?;
        Ok(ValueInfo {
            dtype: value.ty.dtype,
            shape,
            source: Source::Const(ConstValue::new(value, constness)),
        })
    }

    fn binding(&self, b: &Binding, what: &str) -> Result<ValueInfo, SimError> {
        match b {
            Binding::Var(name) => self
                .values
                .get(name)
                .cloned()
                .ok_or_else(|| SimError::Internal(format!("{what} uses undefined `{name}`"))),
            Binding::Value(v) => {
                let value = consts::literal(v, self.weights, what)?;
                self.constant(value, Constness::Const, what)
            }
        }
    }

    fn operation(&mut self, op: &Operation, opset: Opset) -> Result<(), SimError> {
        let label = op_label(op);
        let sig = ane_mil::ops::lookup(&op.op_type, opset)
            .map_err(|e| SimError::Internal(format!("{label}: {e}")))?;
        if op.op_type == "const" {
            let val = op
                .attributes
                .get("val")
                .ok_or_else(|| SimError::Internal(format!("{label} has no `val`")))?;
            let value = consts::literal(val, self.weights, &label)?;
            let info = self.constant(value, Constness::Const, &label)?;
            let out = op
                .outputs
                .first()
                .ok_or_else(|| SimError::Internal(format!("{label} has no output")))?;
            self.values.insert(out.name.clone(), info);
            return Ok(());
        }
        let mut args: BTreeMap<String, ArgSlot> = BTreeMap::new();
        for (name, arg) in &op.inputs {
            let what = format!("{label} `{name}`");
            let slot = match arg {
                Argument::Single(b) => ArgSlot::Single(self.binding(b, &what)?),
                Argument::Tuple(items) => ArgSlot::Tuple(
                    items
                        .iter()
                        .map(|b| self.binding(b, &what))
                        .collect::<Result<_, _>>()?,
                ),
            };
            args.insert(name.clone(), slot);
        }
        if sig.operand_form != OperandForm::Inputs {
            for (name, value) in op.attributes.iter().filter(|(n, _)| *n != "name") {
                let what = format!("{label} `{name}`");
                let value = consts::literal(value, self.weights, &what)?;
                args.insert(
                    name.clone(),
                    ArgSlot::Single(self.constant(value, Constness::Const, &what)?),
                );
            }
        }
        let missing = sig.missing_defaults(&resolved(&args));
        for (name, value) in missing {
            let info = self.constant(value, Constness::Const, &label)?;
            args.insert(name.to_string(), ArgSlot::Single(info));
        }
        let types = sig
            .infer(opset, &resolved(&args))
            .map_err(|e| SimError::Internal(format!("{label}: {e}")))?;
        let outputs = self.output_types(op, &types, &label)?;
        if op.op_type.starts_with("constexpr_") {
            return self.constexpr(op, &args, &outputs, &label);
        }
        let mut cx = OpCx::new(
            label,
            op.op_type.clone(),
            opset,
            (self.ane_fp32, self.threads),
            args,
            outputs.clone(),
            &mut self.plan,
        );
        ops::compile(&mut cx)?;
        let lids = cx.finish()?;
        for ((out, t), lid) in op.outputs.iter().zip(outputs).zip(lids) {
            self.values.insert(
                out.name.clone(),
                ValueInfo {
                    dtype: t.dtype,
                    shape: t.shape,
                    source: Source::Runtime(lid),
                },
            );
        }
        Ok(())
    }

    /// Concrete output types: inferred dims, refined by declared ones where inference could not
    /// know them.
    fn output_types(
        &self,
        op: &Operation,
        inferred: &[TensorType],
        label: &str,
    ) -> Result<Vec<OutputType>, SimError> {
        if inferred.len() != op.outputs.len() {
            return Err(SimError::Internal(format!(
                "{label}: output count mismatch"
            )));
        }
        inferred
            .iter()
            .zip(&op.outputs)
            .map(|(t, declared)| {
                let declared = declared.ty.as_tensor();
                let shape = t
                    .shape
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        d.known()
                            .or_else(|| declared.and_then(|dt| dt.shape.get(i)?.known()))
                    })
                    .collect::<Option<Vec<usize>>>()
                    .ok_or_else(|| SimError::Unsupported {
                        op: label.to_string(),
                        message: format!(
                            "the output shape {t} depends on run-time values; the simulator needs every shape when preparing"
                        ),
                    })?;
                Ok(OutputType {
                    dtype: t.dtype,
                    shape,
                })
            })
            .collect()
    }

    fn constexpr(
        &mut self,
        op: &Operation,
        args: &BTreeMap<String, ArgSlot>,
        outputs: &[OutputType],
        label: &str,
    ) -> Result<(), SimError> {
        let value = |name: &str| -> Result<&ane_mil::TensorValue, SimError> {
            match args.get(name) {
                Some(ArgSlot::Single(v)) => {
                    v.konst()
                        .map(|c| &c.value)
                        .ok_or_else(|| SimError::Unsupported {
                            op: label.to_string(),
                            message: format!("`{name}` must be a constant"),
                        })
                }
                _ => Err(SimError::Internal(format!("{label}: `{name}` is missing"))),
            }
        };
        let result = match op.op_type.as_str() {
            "constexpr_affine_dequantize" => {
                let axis = value("axis")?
                    .as_int()
                    .ok_or_else(|| SimError::Unsupported {
                        op: label.to_string(),
                        message: "`axis` must be an integer scalar".into(),
                    })?;
                consts::affine_dequantize(
                    value("quantized_data")?,
                    value("zero_point")?,
                    value("scale")?,
                    axis,
                    label,
                )?
            }
            other => {
                return Err(SimError::Unsupported {
                    op: label.to_string(),
                    message: format!("the simulator does not implement `{other}`"),
                })
            }
        };
        let (out, t) = op
            .outputs
            .first()
            .zip(outputs.first())
            .ok_or_else(|| SimError::Internal(format!("{label} has no output")))?;
        if result.ty.known_shape().as_deref() != Some(t.shape.as_slice())
            || result.ty.dtype != t.dtype
        {
            return Err(SimError::Internal(format!(
                "{label}: constexpr result has type {}",
                result.ty
            )));
        }
        let info = self.constant(result, Constness::Constexpr, label)?;
        self.values.insert(out.name.clone(), info);
        Ok(())
    }
}

/// The arguments as shape inference sees them: types, const-ness and known values.
fn resolved(args: &BTreeMap<String, ArgSlot>) -> ResolvedInputs<'_> {
    fn arg(v: &ValueInfo) -> ResolvedArg<'_> {
        match &v.source {
            Source::Runtime(_) => {
                ResolvedArg::runtime(TensorType::new(v.dtype, v.shape.iter().copied()))
            }
            Source::Const(c) => ResolvedArg {
                ty: c.value.ty.clone(),
                constness: c.constness,
                value: Some(Cow::Borrowed(&c.value)),
            },
        }
    }
    let mut inputs = ResolvedInputs::new();
    for (name, slot) in args {
        let input = match slot {
            ArgSlot::Single(v) => ResolvedInput::Single(arg(v)),
            ArgSlot::Tuple(items) => ResolvedInput::Tuple(items.iter().map(arg).collect()),
        };
        inputs.insert(name.clone(), input);
    }
    inputs
}
