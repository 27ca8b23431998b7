//! What the lint knows about the names of one function: each name's declared type, the operation
//! defining it, and constant values, resolved without type inference.

use crate::program::{Argument, Binding, Function, Operation};
use crate::types::{TensorType, ValueType};
use crate::value::{TensorValue, Value};
use std::collections::HashMap;

/// Where a name is defined.
enum Def<'f> {
    Param(&'f TensorType),
    Output(&'f Operation, &'f TensorType),
}

/// Name lookup for one function.
pub(super) struct Scope<'f> {
    defs: HashMap<&'f str, Def<'f>>,
}

impl<'f> Scope<'f> {
    /// Indexes the parameters and operation outputs of `function` (later definitions of a
    /// duplicated name win; validation reports duplicates).
    pub fn new(function: &'f Function) -> Self {
        let mut defs = HashMap::new();
        for p in &function.params {
            if let ValueType::Tensor(t) = &p.ty {
                defs.insert(p.name.as_str(), Def::Param(t));
            }
        }
        for op in &function.body {
            for out in &op.outputs {
                if let ValueType::Tensor(t) = &out.ty {
                    defs.insert(out.name.as_str(), Def::Output(op, t));
                }
            }
        }
        Scope { defs }
    }

    /// The declared tensor type of a name.
    pub fn type_of(&self, name: &str) -> Option<&'f TensorType> {
        match self.defs.get(name)? {
            Def::Param(t) | Def::Output(_, t) => Some(t),
        }
    }

    /// The operation defining a name (`None` for parameters and unknown names).
    pub fn producer(&self, name: &str) -> Option<&'f Operation> {
        match self.defs.get(name)? {
            Def::Output(op, _) => Some(op),
            Def::Param(_) => None,
        }
    }

    /// The tensor type an argument binds (a single binding only).
    pub fn arg_type(&self, arg: Option<&'f Argument>) -> Option<TensorType> {
        match arg? {
            Argument::Single(Binding::Var(name)) => self.type_of(name).cloned(),
            Argument::Single(Binding::Value(v)) => v.value_type().as_tensor().cloned(),
            Argument::Tuple(_) => None,
        }
    }

    /// The name an argument refers to, if it is a single variable.
    pub fn arg_name(arg: Option<&Argument>) -> Option<&str> {
        match arg? {
            Argument::Single(Binding::Var(name)) => Some(name),
            _ => None,
        }
    }

    /// Whether an argument is a compile-time constant: a literal or the output of a `const` /
    /// `constexpr_*` op.
    pub fn is_const(&self, arg: Option<&Argument>) -> bool {
        match arg {
            Some(Argument::Single(b)) => self.binding_is_const(b),
            Some(Argument::Tuple(items)) => items.iter().all(|b| self.binding_is_const(b)),
            None => false,
        }
    }

    fn binding_is_const(&self, binding: &Binding) -> bool {
        match binding {
            Binding::Value(_) => true,
            Binding::Var(name) => self.producer(name).is_some_and(is_const_op),
        }
    }

    /// The inline value of a constant argument (a literal, or a `const` op's `val`).
    pub fn const_value(&self, arg: Option<&'f Argument>) -> Option<&'f TensorValue> {
        match arg? {
            Argument::Single(Binding::Value(Value::Tensor(t))) => Some(t),
            Argument::Single(Binding::Var(name)) => {
                let op = self.producer(name)?;
                if op.op_type != "const" {
                    return None;
                }
                op.attributes.get("val")?.as_tensor()
            }
            _ => None,
        }
    }
}

/// True for ops whose outputs are compile-time constants.
pub(super) fn is_const_op(op: &Operation) -> bool {
    op.op_type == "const" || op.op_type.starts_with("constexpr_")
}
