//! The function builder core: inputs, outputs, naming, deduplicated `const`s, and the generic
//! [`FunctionBuilder::op`] that every typed helper goes through.

use super::error::BuildError;
use crate::ops::{
    self, Constness, InputSpec, OpSignature, OperandForm, ResolvedArg, ResolvedInput,
    ResolvedInputs,
};
use crate::program::{Argument, Binding, Function, NamedType, Operation, Opset, SourcePos};
use crate::types::{TensorType, MAX_RANK};
use crate::validate::{is_valid_identifier, validate_function};
use crate::value::{BlobRef, TensorValue, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A value defined in a function: its name and inferred type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Var {
    /// The identifier.
    pub name: String,
    /// Its type.
    pub ty: TensorType,
}

/// One argument of [`FunctionBuilder::op`].
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A value of the function.
    Var(Var),
    /// A literal (inline tensor or weight blob reference), emitted through a `const`.
    Value(Value),
    /// A numeric scalar whose dtype follows the argument's domain (the dtype of another argument
    /// with the same letter, else of `x`): e.g. epsilons in `x`'s dtype.
    Number(f64),
    /// A tuple of values (`concat`'s `values`).
    Tuple(Vec<Var>),
}

impl Arg {
    /// An `int32` scalar.
    pub fn int(v: i32) -> Arg {
        Arg::Value(TensorValue::int32(v).into())
    }
    /// A rank-1 `int32` tensor.
    pub fn ints(v: &[i32]) -> Arg {
        Arg::Value(TensorValue::int32_vec(v).into())
    }
    /// A `bool` scalar.
    pub fn bool(v: bool) -> Arg {
        Arg::Value(TensorValue::bool(v).into())
    }
    /// A rank-1 `bool` tensor.
    pub fn bools(v: &[bool]) -> Arg {
        Arg::Value(TensorValue::bool_vec(v).into())
    }
    /// A `string` scalar.
    pub fn string(v: &str) -> Arg {
        Arg::Value(TensorValue::string(v).into())
    }
}

impl From<&Var> for Arg {
    fn from(v: &Var) -> Self {
        Arg::Var(v.clone())
    }
}

impl From<TensorValue> for Arg {
    fn from(v: TensorValue) -> Self {
        Arg::Value(Value::Tensor(v))
    }
}

impl From<BlobRef> for Arg {
    fn from(b: BlobRef) -> Self {
        Arg::Value(Value::Blob(b))
    }
}

/// What the builder knows about each defined name.
#[derive(Debug, Clone)]
struct VarInfo {
    ty: TensorType,
    constness: Constness,
    /// The inline value of a `const`.
    value: Option<TensorValue>,
}

/// An argument after planning, before anything is committed to the function.
enum Planned {
    Var(String),
    Literal(Value),
    Tuple(Vec<String>),
}

/// Builds one function op by op.
#[derive(Debug, Clone)]
pub struct FunctionBuilder {
    name: String,
    opset: Opset,
    params: Vec<NamedType>,
    body: Vec<Operation>,
    outputs: Vec<String>,
    vars: HashMap<String, VarInfo>,
    /// Every identifier and op name in use.
    taken: HashSet<String>,
    counter: usize,
    /// Deduplicated inline consts: by type, each value with the const's name.
    consts: HashMap<TensorType, Vec<(TensorValue, String)>>,
    /// Deduplicated blob consts.
    blob_consts: HashMap<(String, u64, TensorType), String>,
}

impl FunctionBuilder {
    /// An empty function `name` in `opset`.
    pub fn new(name: impl Into<String>, opset: Opset) -> Self {
        FunctionBuilder {
            name: name.into(),
            opset,
            params: Vec::new(),
            body: Vec::new(),
            outputs: Vec::new(),
            vars: HashMap::new(),
            taken: HashSet::new(),
            counter: 0,
            consts: HashMap::new(),
            blob_consts: HashMap::new(),
        }
    }

    /// The function's opset.
    pub fn opset(&self) -> Opset {
        self.opset
    }

    /// Adds a parameter (a kernel input).
    pub fn input(&mut self, name: &str, ty: TensorType) -> Result<Var, BuildError> {
        if !is_valid_identifier(name) {
            return Err(BuildError::InvalidIdentifier {
                name: name.to_string(),
            });
        }
        if self.taken.contains(name) {
            return Err(self.duplicate(name));
        }
        check_rank(&ty, name)?;
        self.taken.insert(name.to_string());
        self.params.push(NamedType::tensor(name, ty.clone()));
        self.define(name, ty.clone(), Constness::Runtime, None);
        Ok(Var {
            name: name.to_string(),
            ty,
        })
    }

    /// Adds `var` to the function's outputs (`-> (...)`).
    pub fn output(&mut self, var: &Var) -> Result<(), BuildError> {
        self.check_var(var)?;
        self.outputs.push(var.name.clone());
        Ok(())
    }

    /// An inline constant; the same value and type give the same `const` (and `Var`).
    pub fn constant(
        &mut self,
        hint: &str,
        value: impl Into<TensorValue>,
    ) -> Result<Var, BuildError> {
        let value = value.into();
        if let Some(problem) = ops::literal_problem(&value, &value.ty) {
            return Err(BuildError::InvalidLiteral {
                op: "const".to_string(),
                arg: "val".to_string(),
                message: problem,
            });
        }
        check_rank(&value.ty, hint)?;
        Ok(self.intern_inline(hint, value))
    }

    /// A constant stored in a weight blob file; the same path, offset and type give the same
    /// `const`.
    pub fn blob_constant(&mut self, hint: &str, blob: BlobRef) -> Result<Var, BuildError> {
        if blob.ty.num_elements().is_none() {
            return Err(BuildError::InvalidLiteral {
                op: "const".to_string(),
                arg: "val".to_string(),
                message: format!(
                    "a BLOBFILE value needs a fully known shape, got {}",
                    blob.ty
                ),
            });
        }
        check_rank(&blob.ty, hint)?;
        Ok(self.intern_blob(hint, blob))
    }

    /// A scalar constant of `dtype` (ints truncate, bools are `v != 0`).
    pub fn scalar(&mut self, value: f64, dtype: crate::DType) -> Result<Var, BuildError> {
        let literal = ops::number_literal(dtype, &[], &[value]).ok_or_else(|| {
            BuildError::InvalidLiteral {
                op: "const".to_string(),
                arg: "val".to_string(),
                message: format!("{value} cannot be a {dtype} scalar"),
            }
        })?;
        self.constant("scalar", literal)
    }

    /// Adds any op: checks `args` against its signature, adds every omitted default, binds every
    /// literal through a deduplicated `const`, infers the output types and names the outputs after
    /// `hint`. Returns the outputs (several for `split`). On error nothing is added.
    pub fn op(
        &mut self,
        op_type: &str,
        hint: &str,
        args: &[(&str, Arg)],
    ) -> Result<Vec<Var>, BuildError> {
        let sig = ops::lookup(op_type, self.opset)?;
        if sig.operand_form == OperandForm::Attributes {
            return self.const_op(hint, args);
        }
        let mut planned: BTreeMap<&'static str, Planned> = BTreeMap::new();
        let mut numbers: Vec<(&InputSpec, f64)> = Vec::new();
        for (name, arg) in args {
            let spec = sig
                .input(name)
                .ok_or_else(|| ops::InferError::UnknownArgument {
                    op: op_type.to_string(),
                    arg: name.to_string(),
                })?;
            if planned.contains_key(spec.name) || numbers.iter().any(|(s, _)| s.name == spec.name) {
                return Err(BuildError::DuplicateArgument {
                    op: op_type.to_string(),
                    arg: name.to_string(),
                });
            }
            match arg {
                Arg::Var(v) => {
                    self.check_var(v)?;
                    planned.insert(spec.name, Planned::Var(v.name.clone()));
                }
                Arg::Value(v) => {
                    check_literal(op_type, name, v)?;
                    planned.insert(spec.name, Planned::Literal(v.clone()));
                }
                Arg::Number(n) => numbers.push((spec, *n)),
                Arg::Tuple(vars) => {
                    for v in vars {
                        self.check_var(v)?;
                    }
                    planned.insert(
                        spec.name,
                        Planned::Tuple(vars.iter().map(|v| v.name.clone()).collect()),
                    );
                }
            }
        }
        let mut inputs = self.resolve(&planned);
        // Numbers take their domain's dtype, then omitted defaults are filled from what is known.
        for (spec, n) in numbers {
            let dtype = spec.default_dtype(sig, &inputs);
            let literal = ops::number_literal(dtype, &[], &[n]).ok_or_else(|| {
                BuildError::InvalidLiteral {
                    op: op_type.to_string(),
                    arg: spec.name.to_string(),
                    message: format!("{n} cannot be a {dtype} scalar"),
                }
            })?;
            inputs.insert(
                spec.name,
                ResolvedInput::Single(ResolvedArg::known(Cow::Owned(literal.clone()))),
            );
            planned.insert(spec.name, Planned::Literal(literal.into()));
        }
        for (name, default) in sig.missing_defaults(&inputs) {
            let arg = ResolvedArg::known(Cow::Owned(default.clone()));
            inputs.insert(name, ResolvedInput::Single(arg));
            planned.insert(name, Planned::Literal(default.into()));
        }
        let types = sig.infer(self.opset, &inputs)?;
        drop(inputs);
        Ok(self.commit(sig, hint, planned, types))
    }

    /// `const` through the generic entry point: `args` must be `[("val", literal)]`.
    fn const_op(&mut self, hint: &str, args: &[(&str, Arg)]) -> Result<Vec<Var>, BuildError> {
        match args {
            [("val", Arg::Value(Value::Tensor(t)))] => Ok(vec![self.constant(hint, t.clone())?]),
            [("val", Arg::Value(Value::Blob(b)))] => Ok(vec![self.blob_constant(hint, b.clone())?]),
            _ => Err(BuildError::InvalidLiteral {
                op: "const".to_string(),
                arg: "val".to_string(),
                message:
                    "const takes exactly one argument, `val`, bound to a tensor or blob literal"
                        .to_string(),
            }),
        }
    }

    /// The single output of an op.
    pub(super) fn single(
        &mut self,
        op_type: &str,
        args: &[(&str, Arg)],
    ) -> Result<Var, BuildError> {
        let mut outs = self.op(op_type, op_type, args)?;
        match outs.len() {
            1 => Ok(outs.remove(0)),
            count => Err(BuildError::OutputCount {
                op: op_type.to_string(),
                count,
            }),
        }
    }

    /// Finishes and validates the function.
    pub fn finish(self) -> Result<Function, BuildError> {
        let function = Function {
            name: self.name,
            opset: self.opset,
            params: self.params,
            attributes: BTreeMap::new(),
            body: self.body,
            outputs: self.outputs,
            pos: SourcePos::default(),
        };
        validate_function(&function).map_err(BuildError::Invalid)?;
        Ok(function)
    }

    fn duplicate(&self, name: &str) -> BuildError {
        BuildError::DuplicateName {
            name: name.to_string(),
            function: self.name.clone(),
        }
    }

    fn check_var(&self, var: &Var) -> Result<(), BuildError> {
        match self.vars.get(&var.name) {
            Some(info) if info.ty == var.ty => Ok(()),
            _ => Err(BuildError::ForeignVar {
                name: var.name.clone(),
                ty: var.ty.clone(),
                function: self.name.clone(),
            }),
        }
    }

    fn define(
        &mut self,
        name: &str,
        ty: TensorType,
        constness: Constness,
        value: Option<TensorValue>,
    ) {
        self.vars.insert(
            name.to_string(),
            VarInfo {
                ty,
                constness,
                value,
            },
        );
    }

    /// A fresh identifier `<hint>_<n>`.
    fn fresh(&mut self, hint: &str) -> String {
        let mut base: String = hint
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if !base.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            base.insert(0, 'v');
        }
        loop {
            let candidate = format!("{base}_{}", self.counter);
            self.counter += 1;
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
    }

    /// The resolved form of planned arguments, for inference.
    fn resolve(&self, planned: &BTreeMap<&'static str, Planned>) -> ResolvedInputs<'static> {
        let var_arg = |name: &String| {
            let info = &self.vars[name];
            ResolvedArg {
                ty: info.ty.clone(),
                constness: info.constness,
                value: info.value.clone().map(Cow::Owned),
            }
        };
        let mut inputs = ResolvedInputs::new();
        for (name, p) in planned {
            let input = match p {
                Planned::Var(v) => ResolvedInput::Single(var_arg(v)),
                Planned::Tuple(vs) => ResolvedInput::Tuple(vs.iter().map(var_arg).collect()),
                Planned::Literal(Value::Tensor(t)) => {
                    ResolvedInput::Single(ResolvedArg::known(Cow::Owned(t.clone())))
                }
                Planned::Literal(Value::Blob(b)) => {
                    ResolvedInput::Single(ResolvedArg::opaque_const(b.ty.clone(), Constness::Const))
                }
                // Rejected by `check_literal` before planning.
                Planned::Literal(Value::Dict { .. }) => continue,
            };
            inputs.insert(*name, input);
        }
        inputs
    }

    /// Adds the op (and the consts its literals need) once inference has succeeded.
    fn commit(
        &mut self,
        sig: &OpSignature,
        hint: &str,
        planned: BTreeMap<&'static str, Planned>,
        types: Vec<TensorType>,
    ) -> Vec<Var> {
        let as_attributes = sig.operand_form == OperandForm::InputsOrAttributes;
        let mut inputs = BTreeMap::new();
        let mut attributes = BTreeMap::new();
        for (name, p) in planned {
            match p {
                Planned::Literal(v) if as_attributes => {
                    attributes.insert(name.to_string(), v);
                }
                Planned::Literal(Value::Tensor(t)) => {
                    let var = self.intern_inline(name, t);
                    inputs.insert(name.to_string(), Argument::var(var.name));
                }
                Planned::Literal(Value::Blob(b)) => {
                    let var = self.intern_blob(name, b);
                    inputs.insert(name.to_string(), Argument::var(var.name));
                }
                Planned::Literal(Value::Dict { .. }) => {}
                Planned::Var(v) => {
                    inputs.insert(name.to_string(), Argument::var(v));
                }
                Planned::Tuple(vs) => {
                    inputs.insert(
                        name.to_string(),
                        Argument::Tuple(vs.into_iter().map(Binding::Var).collect()),
                    );
                }
            }
        }
        let op_name = self.fresh(hint);
        let names: Vec<String> = if types.len() == 1 {
            vec![op_name.clone()]
        } else {
            (0..types.len())
                .map(|i| {
                    let exact = format!("{op_name}_{i}");
                    if self.taken.insert(exact.clone()) {
                        exact
                    } else {
                        self.fresh(&exact)
                    }
                })
                .collect()
        };
        attributes.insert("name".to_string(), TensorValue::string(op_name).into());
        let constness = if sig.op_type.starts_with("constexpr_") {
            Constness::Constexpr
        } else {
            Constness::Runtime
        };
        let mut outputs = Vec::with_capacity(types.len());
        for (name, ty) in names.iter().zip(&types) {
            self.define(name, ty.clone(), constness, None);
            outputs.push(NamedType::tensor(name.clone(), ty.clone()));
        }
        self.body.push(Operation {
            op_type: sig.op_type.to_string(),
            opset: None,
            outputs,
            inputs,
            attributes,
            pos: SourcePos::default(),
        });
        names
            .into_iter()
            .zip(types)
            .map(|(name, ty)| Var { name, ty })
            .collect()
    }

    fn push_const(&mut self, name: &str, ty: TensorType, val: Value) {
        let mut attributes = BTreeMap::new();
        attributes.insert("name".to_string(), TensorValue::string(name).into());
        attributes.insert("val".to_string(), val);
        self.body.push(Operation {
            op_type: "const".to_string(),
            opset: None,
            outputs: vec![NamedType::tensor(name, ty)],
            inputs: BTreeMap::new(),
            attributes,
            pos: SourcePos::default(),
        });
    }

    fn intern_inline(&mut self, hint: &str, value: TensorValue) -> Var {
        if let Some(name) = self
            .consts
            .get(&value.ty)
            .and_then(|vs| vs.iter().find(|(v, _)| *v == value))
            .map(|(_, n)| n.clone())
        {
            return Var { name, ty: value.ty };
        }
        let name = self.fresh(hint);
        let ty = value.ty.clone();
        self.push_const(&name, ty.clone(), Value::Tensor(value.clone()));
        self.define(&name, ty.clone(), Constness::Const, Some(value.clone()));
        self.consts
            .entry(ty.clone())
            .or_default()
            .push((value, name.clone()));
        Var { name, ty }
    }

    fn intern_blob(&mut self, hint: &str, blob: BlobRef) -> Var {
        let key = (blob.path.clone(), blob.offset, blob.ty.clone());
        if let Some(name) = self.blob_consts.get(&key) {
            return Var {
                name: name.clone(),
                ty: blob.ty,
            };
        }
        let name = self.fresh(hint);
        let ty = blob.ty.clone();
        self.push_const(&name, ty.clone(), Value::Blob(blob));
        self.define(&name, ty.clone(), Constness::Const, None);
        self.blob_consts.insert(key, name.clone());
        Var { name, ty }
    }
}

/// Rejects literals that cannot be bound through a `const`.
fn check_literal(op: &str, arg: &str, value: &Value) -> Result<(), BuildError> {
    let problem = match value {
        Value::Tensor(t) => ops::literal_problem(t, &t.ty),
        Value::Blob(b) if b.ty.num_elements().is_none() => Some(format!(
            "a BLOBFILE value needs a fully known shape, got {}",
            b.ty
        )),
        Value::Blob(_) => None,
        Value::Dict { .. } => Some("a dictionary cannot be an op operand".to_string()),
    };
    match problem {
        None => Ok(()),
        Some(message) => Err(BuildError::InvalidLiteral {
            op: op.to_string(),
            arg: arg.to_string(),
            message,
        }),
    }
}

fn check_rank(ty: &TensorType, what: &str) -> Result<(), BuildError> {
    if ty.rank() > MAX_RANK {
        return Err(BuildError::InvalidLiteral {
            op: "function".to_string(),
            arg: what.to_string(),
            message: format!(
                "rank {} exceeds the supported maximum {MAX_RANK}: {ty}",
                ty.rank()
            ),
        });
    }
    Ok(())
}
