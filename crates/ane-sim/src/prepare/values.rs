//! The values of the function being prepared, by name: run-time tensors (function inputs and op
//! outputs, each a logical tensor of the plan) and constants (decoded literals, materialized as
//! constant buffers only when an op reads them as tensors).

use crate::buffers::Lid;
use crate::error::SimError;
use crate::prepare::consts;
use crate::prepare::plan::PlanBuilder;
use crate::storage::Kind;
use ane_mil::ops::Constness;
use ane_mil::{DType, TensorValue};
use std::cell::Cell;
use std::rc::Rc;

/// A constant value and, once an op has read it as a tensor, its buffer.
#[derive(Debug)]
pub(crate) struct ConstValue {
    /// The value in its declared type.
    pub value: TensorValue,
    /// `Const` for literals and `const` outputs, `Constexpr` for `constexpr_*` outputs.
    pub constness: Constness,
    lid: Cell<Option<Lid>>,
}

impl ConstValue {
    /// A constant not yet materialized.
    pub(crate) fn new(value: TensorValue, constness: Constness) -> Rc<Self> {
        Rc::new(ConstValue {
            value,
            constness,
            lid: Cell::new(None),
        })
    }

    /// The constant's buffer, created on first use.
    pub(crate) fn lid(
        &self,
        plan: &mut PlanBuilder,
        ane_fp32: bool,
        what: &str,
    ) -> Result<Lid, SimError> {
        if let Some(lid) = self.lid.get() {
            return Ok(lid);
        }
        let kind = Kind::require(self.value.ty.dtype, ane_fp32, what, "a constant")?;
        let lid = plan.constant(consts::to_buf(&self.value, kind, what)?)?;
        self.lid.set(Some(lid));
        Ok(lid)
    }
}

/// Where a value comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Computed at run time (or written as an input) into this tensor.
    Runtime(Lid),
    /// Known while preparing.
    Const(Rc<ConstValue>),
}

/// A value of the function: declared dtype, concrete shape, source.
#[derive(Debug, Clone)]
pub(crate) struct ValueInfo {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub source: Source,
}

impl ValueInfo {
    /// The value's tensor, materializing a constant on first use.
    pub(crate) fn lid(
        &self,
        plan: &mut PlanBuilder,
        ane_fp32: bool,
        what: &str,
    ) -> Result<Lid, SimError> {
        match &self.source {
            Source::Runtime(lid) => Ok(*lid),
            Source::Const(c) => c.lid(plan, ane_fp32, what),
        }
    }

    /// The constant, if the value is known while preparing.
    pub(crate) fn konst(&self) -> Option<&Rc<ConstValue>> {
        match &self.source {
            Source::Const(c) => Some(c),
            Source::Runtime(_) => None,
        }
    }
}
