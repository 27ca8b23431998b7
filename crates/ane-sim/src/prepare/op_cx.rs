//! What an op compiler sees: the op's arguments (each with its dtype, concrete shape and, for
//! constants, its value), its output types, and the plan it adds its kernel to. Tensors an op
//! compiler asks for are recorded as the step's reads and writes, so the buffer plan's liveness
//! is right by construction.

use crate::buffers::Lid;
use crate::error::SimError;
use crate::kernel::{Kernel, ScratchNeed};
use crate::prepare::consts;
use crate::prepare::plan::PlanBuilder;
use crate::prepare::values::{ConstValue, ValueInfo};
use crate::storage::Kind;
use ane_mil::{DType, Opset, TensorValue};
use std::collections::BTreeMap;
use std::rc::Rc;

/// An argument: one value or a tuple of values.
#[derive(Debug, Clone)]
pub(crate) enum ArgSlot {
    Single(ValueInfo),
    Tuple(Vec<ValueInfo>),
}

/// A tensor an op reads.
#[derive(Debug, Clone)]
pub(crate) struct TensorIn {
    pub lid: Lid,
    pub kind: Kind,
    pub dtype: DType,
    pub shape: Vec<usize>,
}

impl TensorIn {
    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A tensor an op writes.
#[derive(Debug, Clone)]
pub(crate) struct TensorOut {
    pub lid: Lid,
    pub kind: Kind,
    pub dtype: DType,
    pub shape: Vec<usize>,
}

impl TensorOut {
    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.shape.iter().product()
    }
}

/// The type of one output, from shape inference.
#[derive(Debug, Clone)]
pub(crate) struct OutputType {
    pub dtype: DType,
    pub shape: Vec<usize>,
}

/// The compile context of one op.
pub(crate) struct OpCx<'p> {
    /// `"name" (op_type)`, for messages.
    pub label: String,
    /// The op type.
    pub op_type: String,
    /// The opset the op is interpreted in.
    pub opset: Opset,
    /// fp32 tensors are stored and computed as fp16.
    pub ane_fp32: bool,
    /// Threads of the pool the program will run in (kernels size per-thread scratch with it).
    pub threads: usize,
    args: BTreeMap<String, ArgSlot>,
    outputs: Vec<OutputType>,
    out_lids: Vec<Option<Lid>>,
    plan: &'p mut PlanBuilder,
    reads: Vec<Lid>,
    writes: Vec<Lid>,
}

impl<'p> OpCx<'p> {
    /// A context for one op.
    pub(crate) fn new(
        label: String,
        op_type: String,
        opset: Opset,
        (ane_fp32, threads): (bool, usize),
        args: BTreeMap<String, ArgSlot>,
        outputs: Vec<OutputType>,
        plan: &'p mut PlanBuilder,
    ) -> Self {
        let n = outputs.len();
        OpCx {
            label,
            op_type,
            opset,
            ane_fp32,
            threads,
            args,
            outputs,
            out_lids: vec![None; n],
            plan,
            reads: Vec::new(),
            writes: Vec::new(),
        }
    }

    /// An "unsupported" error about this op.
    pub(crate) fn unsupported(&self, message: impl Into<String>) -> SimError {
        SimError::Unsupported {
            op: self.label.clone(),
            message: message.into(),
        }
    }

    /// An internal error about this op.
    pub(crate) fn internal(&self, message: impl Into<String>) -> SimError {
        SimError::Internal(format!("{}: {}", self.label, message.into()))
    }

    /// Whether argument `name` is present.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.args.contains_key(name)
    }

    /// The value bound to single argument `name`.
    pub(crate) fn value(&self, name: &str) -> Result<&ValueInfo, SimError> {
        match self.args.get(name) {
            Some(ArgSlot::Single(v)) => Ok(v),
            Some(ArgSlot::Tuple(_)) => Err(self.internal(format!("`{name}` is a tuple"))),
            None => Err(self.internal(format!("argument `{name}` is missing"))),
        }
    }

    fn read(&mut self, v: &ValueInfo, what: &str) -> Result<TensorIn, SimError> {
        let label = format!("{} `{what}`", self.label);
        let lid = v.lid(self.plan, self.ane_fp32, &label)?;
        self.reads.push(lid);
        Ok(TensorIn {
            lid,
            kind: self.plan.kind(lid),
            dtype: v.dtype,
            shape: v.shape.clone(),
        })
    }

    /// Argument `name` as a tensor the kernel reads at run time.
    pub(crate) fn input(&mut self, name: &str) -> Result<TensorIn, SimError> {
        let v = self.value(name)?.clone();
        self.read(&v, name)
    }

    /// Optional argument `name` as a tensor.
    pub(crate) fn opt_input(&mut self, name: &str) -> Result<Option<TensorIn>, SimError> {
        if self.has(name) {
            self.input(name).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The tensors of tuple argument `name`.
    pub(crate) fn tuple_inputs(&mut self, name: &str) -> Result<Vec<TensorIn>, SimError> {
        let items = match self.args.get(name) {
            Some(ArgSlot::Tuple(items)) => items.clone(),
            Some(ArgSlot::Single(v)) => vec![v.clone()],
            None => return Err(self.internal(format!("argument `{name}` is missing"))),
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| self.read(v, &format!("{name}[{i}]")))
            .collect()
    }

    /// The constant behind argument `name`, which must be known while preparing.
    pub(crate) fn konst(&self, name: &str) -> Result<Rc<ConstValue>, SimError> {
        self.value(name)?.konst().cloned().ok_or_else(|| {
            self.unsupported(format!(
                "`{name}` must be a constant: the simulator needs its value when preparing"
            ))
        })
    }

    /// Whether argument `name` is a constant.
    pub(crate) fn is_const(&self, name: &str) -> bool {
        self.value(name).is_ok_and(|v| v.konst().is_some())
    }

    fn const_value(&self, name: &str) -> Result<TensorValue, SimError> {
        Ok(self.konst(name)?.value.clone())
    }

    /// Integer elements of constant `name`.
    pub(crate) fn ints(&self, name: &str) -> Result<Vec<i64>, SimError> {
        self.const_value(name)?
            .as_ints()
            .ok_or_else(|| self.unsupported(format!("`{name}` must hold integers")))
    }

    /// Integer scalar constant `name`.
    pub(crate) fn int(&self, name: &str) -> Result<i64, SimError> {
        match self.ints(name)?.as_slice() {
            [v] => Ok(*v),
            other => Err(self.unsupported(format!("`{name}` must be one integer, got {other:?}"))),
        }
    }

    /// Bool scalar constant `name`.
    pub(crate) fn bool(&self, name: &str) -> Result<bool, SimError> {
        match self.bools(name)?.as_slice() {
            [v] => Ok(*v),
            other => Err(self.unsupported(format!("`{name}` must be one bool, got {other:?}"))),
        }
    }

    /// Bool elements of constant `name`.
    pub(crate) fn bools(&self, name: &str) -> Result<Vec<bool>, SimError> {
        self.const_value(name)?
            .as_bools()
            .map(<[bool]>::to_vec)
            .ok_or_else(|| self.unsupported(format!("`{name}` must hold bools")))
    }

    /// String scalar constant `name`.
    pub(crate) fn string(&self, name: &str) -> Result<String, SimError> {
        self.const_value(name)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| self.unsupported(format!("`{name}` must be a string")))
    }

    /// Numeric elements of constant `name` as f32, as the op computes with them: fp32 values
    /// are first rounded to fp16 when fp32 is computed the ANE way.
    pub(crate) fn floats(&self, name: &str) -> Result<Vec<f32>, SimError> {
        let v = self.const_value(name)?;
        let mut values = consts::floats(&v)
            .ok_or_else(|| self.unsupported(format!("`{name}` must be numeric")))?;
        if v.ty.dtype == DType::Fp32 && self.ane_fp32 {
            consts::round_to_f16(&mut values);
        }
        Ok(values)
    }

    /// Numeric scalar constant `name` as f32 (see [`OpCx::floats`]).
    pub(crate) fn float(&self, name: &str) -> Result<f32, SimError> {
        match self.floats(name)?.as_slice() {
            [v] => Ok(*v),
            other => Err(self.unsupported(format!(
                "`{name}` must be one number, got {} values",
                other.len()
            ))),
        }
    }

    /// The inferred type of output `index`.
    pub(crate) fn output_type(&self, index: usize) -> Result<&OutputType, SimError> {
        self.outputs
            .get(index)
            .ok_or_else(|| self.internal(format!("no output {index}")))
    }

    /// Number of outputs.
    pub(crate) fn output_count(&self) -> usize {
        self.outputs.len()
    }

    /// Output `index` as a new tensor the kernel writes.
    pub(crate) fn output(&mut self, index: usize) -> Result<TensorOut, SimError> {
        let t = self.output_type(index)?.clone();
        let kind = Kind::require(t.dtype, self.ane_fp32, &self.label, "the output")?;
        let lid = self.plan.tensor(kind, t.shape.iter().product());
        self.out_lids[index] = Some(lid);
        self.writes.push(lid);
        Ok(TensorOut {
            lid,
            kind,
            dtype: t.dtype,
            shape: t.shape,
        })
    }

    /// Makes output `index` share `source`'s buffer (an op that only reinterprets the shape).
    pub(crate) fn alias_output(&mut self, index: usize, source: &TensorIn) -> Result<(), SimError> {
        let t = self.output_type(index)?.clone();
        let kind = Kind::require(t.dtype, self.ane_fp32, &self.label, "the output")?;
        if kind != source.kind || t.shape.iter().product::<usize>() != source.len() {
            return Err(self.internal("an alias must keep the storage kind and element count"));
        }
        self.out_lids[index] = Some(self.plan.alias(source.lid));
        Ok(())
    }

    /// A temporary tensor between two kernels of this op (written by the next `push`); later
    /// kernels read it after [`OpCx::read_temp`].
    pub(crate) fn temp(&mut self, kind: Kind, len: usize) -> Lid {
        let lid = self.plan.tensor(kind, len);
        self.writes.push(lid);
        lid
    }

    /// Records that the next kernel reads temporary (or earlier) tensor `lid`.
    pub(crate) fn read_temp(&mut self, lid: Lid) {
        self.reads.push(lid);
    }

    /// Adds the op's kernel, reading and writing the tensors asked for so far.
    pub(crate) fn push(&mut self, kernel: impl Kernel + 'static, scratch: ScratchNeed) {
        let reads = std::mem::take(&mut self.reads);
        let writes = std::mem::take(&mut self.writes);
        self.plan
            .push(Box::new(kernel), self.label.clone(), reads, writes, scratch);
    }

    /// The tensors of the outputs, after compilation; an error if one was never produced.
    pub(crate) fn finish(self) -> Result<Vec<Lid>, SimError> {
        if !self.writes.is_empty() {
            return Err(SimError::Internal(format!(
                "{}: outputs were created but no kernel writes them",
                self.label
            )));
        }
        self.out_lids
            .iter()
            .enumerate()
            .map(|(i, l)| {
                l.ok_or_else(|| {
                    SimError::Internal(format!("{}: output {i} was not produced", self.label))
                })
            })
            .collect()
    }
}
