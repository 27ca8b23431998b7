//! The inference program: a model's evaluation graph (dropout off, batch 1) lowered by the same
//! compiler as training into one MIL function with the multi-input ABI, then made
//! self-contained for Core ML — every parameter becomes a `const` holding the trained weights,
//! the data input and the logits get readable names, fp16 programs get fp32 inputs and outputs
//! through `cast` ops at the boundary, and classifiers get a `probabilities` softmax.

use super::error::ExportError;
use super::names::Names;
use crate::executor::eval_graph;
use crate::nn::{InputSpec, Model};
use crate::params::ParamStore;
use ane_compiler::lower::{lower_kernel, Abi, KernelSpec, LowerOptions, Precision};
use ane_mil::{
    Argument, Binding, DType, Function, NamedType, Operation, Program, TensorData, TensorType,
    TensorValue, Value, ValueType, WeightFiles,
};
use std::collections::BTreeMap;

/// Name of the logits output (every model).
pub const LOGITS: &str = "logits";
/// Name of the softmax output classifiers feed to `classify`.
pub const PROBABILITIES: &str = "probabilities";

/// A lowered, self-contained inference function and the constant tables it references.
#[derive(Debug, Clone)]
pub struct InferenceProgram {
    /// The MIL program (one function, `main`): weights as consts, named I/O.
    pub program: Program,
    /// Weight files of the compiler's constant tables (causal masks, RoPE tables, …).
    pub weights: WeightFiles,
    /// The data input: its name, the type Core ML sees, and what it holds.
    pub input: NamedType,
    /// The outputs in order (`logits`, then `probabilities` for classifiers).
    pub outputs: Vec<NamedType>,
}

/// Lowers `model`'s evaluation graph for one example in `precision`, with `params` baked in as
/// constants. `classifier` appends the softmax `probabilities` output.
pub fn inference_program(
    model: &Model,
    params: &ParamStore,
    precision: Precision,
    classifier: bool,
) -> Result<InferenceProgram, ExportError> {
    let graph = eval_graph(model, 1)?;
    let g = &graph.graph;
    let logits = g
        .output_value(crate::nn::LOGITS_OUTPUT)
        .map_err(|e| ExportError::Internal(format!("the evaluation graph has no logits: {e}")))?;
    let spec = KernelSpec {
        graph: g,
        nodes: (0..g.nodes().len()).collect(),
        inputs: g.inputs().iter().map(|i| i.value).collect(),
        outputs: vec![logits],
    };
    // Integer inputs (token ids) lower only in fp32; such programs are narrowed afterwards.
    let narrow_after =
        precision == Precision::Fp16 && matches!(model.input_spec(), InputSpec::Tokens { .. });
    let opts = LowerOptions {
        precision: if narrow_after {
            Precision::Fp32
        } else {
            precision
        },
        abi: Abi::MultiInput,
        ..LowerOptions::host()
    };
    let kernel = lower_kernel(&spec, &opts)?;
    let mut program = kernel.program;
    let function = program
        .functions
        .iter_mut()
        .find(|f| f.name == "main")
        .ok_or_else(|| ExportError::Internal("the lowered program has no main".into()))?;
    if narrow_after {
        super::fp16::to_fp16(function, &kernel.weights)?;
    }
    let graph_inputs: Vec<String> = g.inputs().iter().map(|i| i.name.clone()).collect();
    if function.params.len() != graph_inputs.len() {
        return Err(ExportError::Internal(format!(
            "the kernel has {} parameters for {} graph inputs",
            function.params.len(),
            graph_inputs.len()
        )));
    }
    let mut names = Names::of_function(function);
    let data_name = model.input_spec().name().to_string();
    let mut consts = Vec::new();
    for (param, graph_name) in function.params.clone().iter().zip(&graph_inputs) {
        if *graph_name == data_name {
            continue;
        }
        let stored = params.get(graph_name).ok_or_else(|| {
            ExportError::Internal(format!("the checkpoint has no parameter `{graph_name}`"))
        })?;
        let ty = param
            .ty
            .as_tensor()
            .ok_or_else(|| ExportError::Internal(format!("parameter `{graph_name}` is no tensor")))?
            .clone();
        if ty.num_elements() != Some(stored.len()) {
            return Err(ExportError::Internal(format!(
                "parameter `{graph_name}` has {} values for kernel type {ty}",
                stored.len()
            )));
        }
        let data = match ty.dtype {
            DType::Fp16 => TensorData::Fp16(
                stored
                    .master()
                    .iter()
                    .map(|&x| half::f16::from_f32(x))
                    .collect(),
            ),
            DType::Fp32 => TensorData::Fp32(stored.master().to_vec()),
            other => {
                return Err(ExportError::Internal(format!(
                    "parameter `{graph_name}` has dtype {other}"
                )))
            }
        };
        let new_name = names.fresh(&format!("param_{graph_name}"));
        rename_var(function, &param.name, &new_name);
        consts.push(const_op(&new_name, Value::Tensor(TensorValue { ty, data })));
    }
    let baked: std::collections::HashSet<String> = consts
        .iter()
        .filter_map(|op| op.outputs.first())
        .map(|o| o.name.clone())
        .collect();
    function.params.retain(|p| !baked.contains(&p.name));
    function.body.splice(0..0, consts);
    let data_param = function
        .params
        .first()
        .cloned()
        .ok_or_else(|| ExportError::Internal("the kernel has no data input".into()))?;
    claim(function, &mut names, &data_name);
    rename_var(function, &data_param.name, &data_name);
    let output = function
        .outputs
        .first()
        .cloned()
        .ok_or_else(|| ExportError::Internal("the kernel has no output".into()))?;
    claim(function, &mut names, LOGITS);
    rename_var(function, &output, LOGITS);
    if precision == Precision::Fp16 {
        widen_boundary(function, &mut names, &data_name)?;
    }
    let mut outputs = vec![LOGITS.to_string()];
    if classifier {
        function.body.push(Operation {
            op_type: "softmax".into(),
            opset: None,
            outputs: vec![NamedType::tensor(
                PROBABILITIES,
                tensor_of(function, LOGITS)?,
            )],
            inputs: BTreeMap::from([
                ("x".to_string(), Argument::var(LOGITS)),
                (
                    "axis".to_string(),
                    Argument::Single(Binding::Value(TensorValue::int32(-1).into())),
                ),
            ]),
            attributes: name_attr(PROBABILITIES),
            pos: Default::default(),
        });
        outputs.push(PROBABILITIES.to_string());
    }
    function.outputs = outputs.clone();
    ane_mil::validate::validate(&program).map_err(|e| {
        ExportError::Internal(format!("the inference program does not validate: {e}"))
    })?;
    let function = &program.functions[0];
    let input = function
        .params
        .first()
        .cloned()
        .ok_or_else(|| ExportError::Internal("the program lost its input".into()))?;
    let outputs = outputs
        .iter()
        .map(|name| Ok(NamedType::tensor(name.clone(), tensor_of(function, name)?)))
        .collect::<Result<Vec<_>, ExportError>>()?;
    check_input_kind(model.input_spec(), &input)?;
    Ok(InferenceProgram {
        program,
        weights: kernel.weights,
        input,
        outputs,
    })
}

/// Reserves `name` for a boundary value, first renaming whatever inside already uses it.
fn claim(function: &mut Function, names: &mut Names, name: &str) {
    if names.contains(name) {
        let moved = names.fresh(&format!("{name}_inner"));
        rename_var(function, name, &moved);
    }
    names.insert(name);
}

/// fp16 programs: the data input (if float) and the logits become fp32, with `cast` ops at the
/// boundary, as Core ML apps feed and read fp32 multi-arrays.
fn widen_boundary(
    function: &mut Function,
    names: &mut Names,
    data_name: &str,
) -> Result<(), ExportError> {
    let input_ty = tensor_of(function, data_name)?;
    if input_ty.dtype == DType::Fp16 {
        let inner = names.fresh(&format!("{data_name}_fp16"));
        rename_var(function, data_name, &inner);
        let param = function
            .params
            .iter_mut()
            .find(|p| p.name == inner)
            .ok_or_else(|| ExportError::Internal("the data input vanished".into()))?;
        param.name = data_name.to_string();
        param.ty = ValueType::Tensor(TensorType {
            dtype: DType::Fp32,
            ..input_ty.clone()
        });
        function
            .body
            .insert(0, cast_op(data_name, &inner, &input_ty, "fp16"));
    }
    let out_ty = tensor_of(function, LOGITS)?;
    if out_ty.dtype == DType::Fp16 {
        let inner = names.fresh("logits_fp16");
        rename_var(function, LOGITS, &inner);
        let wide = TensorType {
            dtype: DType::Fp32,
            ..out_ty
        };
        function.body.push(cast_op(&inner, LOGITS, &wide, "fp32"));
    }
    Ok(())
}

/// `out = cast(x = x, dtype = "<dtype>")` with output type `ty` retyped to `dtype`.
fn cast_op(x: &str, out: &str, ty: &TensorType, dtype: &str) -> Operation {
    let out_ty = TensorType {
        dtype: if dtype == "fp16" {
            DType::Fp16
        } else {
            DType::Fp32
        },
        shape: ty.shape.clone(),
    };
    Operation {
        op_type: "cast".into(),
        opset: None,
        outputs: vec![NamedType::tensor(out, out_ty)],
        inputs: BTreeMap::from([
            ("x".to_string(), Argument::var(x)),
            (
                "dtype".to_string(),
                Argument::Single(Binding::Value(TensorValue::string(dtype).into())),
            ),
        ]),
        attributes: name_attr(out),
        pos: Default::default(),
    }
}

/// `name = const()[name = "name", val = value]`.
fn const_op(name: &str, value: Value) -> Operation {
    let ty = match value.value_type() {
        ValueType::Tensor(t) => t,
        _ => TensorType::scalar(DType::Fp32),
    };
    let mut attributes = name_attr(name);
    attributes.insert("val".into(), value);
    Operation {
        op_type: "const".into(),
        opset: None,
        outputs: vec![NamedType::tensor(name, ty)],
        inputs: BTreeMap::new(),
        attributes,
        pos: Default::default(),
    }
}

fn name_attr(name: &str) -> BTreeMap<String, Value> {
    BTreeMap::from([("name".to_string(), TensorValue::string(name).into())])
}

/// The tensor type of the parameter or op output called `name`.
pub(crate) fn tensor_of(function: &Function, name: &str) -> Result<TensorType, ExportError> {
    function
        .params
        .iter()
        .chain(function.body.iter().flat_map(|op| op.outputs.iter()))
        .find(|v| v.name == name)
        .and_then(|v| v.ty.as_tensor().cloned())
        .ok_or_else(|| ExportError::Internal(format!("no tensor `{name}` in the program")))
}

/// Renames the value `old` to `new` everywhere in `function`: parameters, op outputs (and their
/// `name` attributes), op arguments and the function outputs.
pub(crate) fn rename_var(function: &mut Function, old: &str, new: &str) {
    let fix = |name: &mut String| {
        if name == old {
            *name = new.to_string();
        }
    };
    function.params.iter_mut().for_each(|p| fix(&mut p.name));
    function.outputs.iter_mut().for_each(fix);
    for op in &mut function.body {
        let renamed_attr = op.name_attr() == Some(old);
        let mut defines = false;
        for out in &mut op.outputs {
            if out.name == old {
                out.name = new.to_string();
                defines = true;
            }
        }
        if defines && renamed_attr {
            op.attributes
                .insert("name".into(), TensorValue::string(new).into());
        }
        for arg in op.inputs.values_mut() {
            let bindings: &mut [Binding] = match arg {
                Argument::Single(b) => std::slice::from_mut(b),
                Argument::Tuple(bs) => bs,
            };
            for b in bindings {
                if let Binding::Var(name) = b {
                    fix(name);
                }
            }
        }
    }
}

/// The lowered input must be what the model reads: floats for dense inputs, int32 token ids.
fn check_input_kind(spec: &InputSpec, input: &NamedType) -> Result<(), ExportError> {
    let dtype = input.ty.as_tensor().map(|t| t.dtype);
    let ok = match spec {
        InputSpec::Dense { .. } => matches!(dtype, Some(DType::Fp32) | Some(DType::Fp16)),
        InputSpec::Tokens { .. } => dtype == Some(DType::Int32),
    };
    if ok {
        Ok(())
    } else {
        Err(ExportError::Internal(format!(
            "the data input `{}` was lowered as {:?}",
            input.name, dtype
        )))
    }
}
