//! The [`Module`] trait every layer implements, the naming context [`Ctx`] that gives parameters
//! their PyTorch-style hierarchical names, and [`ParamSpec`], a declared parameter.
//!
//! A module does two things: it *declares* its parameters (full name, shape, initializer) and it
//! *traces* its forward computation into a [`Graph`]. Declaration happens once, when a
//! [`Model`](super::Model) is built; the model then adds every declared parameter to each graph it
//! traces, in declaration order, before calling `forward`. Inside `forward` a module fetches its
//! parameters by name with [`Ctx::param`], which checks the shape against the declaration, so a
//! module can never use a parameter it did not declare, nor with another shape.

use super::error::NnError;
use super::init::Init;
use ane_compiler::{Graph, GraphError, InputKind, ValueId};
use std::fmt::Debug;

/// One declared parameter: full name, PyTorch-layout shape, initializer, and whether optimizers
/// should apply weight decay to it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// Hierarchical name, e.g. `layers.3.attention.wq.weight`.
    pub name: String,
    /// Shape in PyTorch layout (`[out, in]` for Linear, `[out, in/groups, kh, kw]` for Conv2d).
    pub shape: Vec<usize>,
    /// How to fill it at initialization.
    pub init: Init,
    /// Whether weight decay applies (the llama2.c / nanoGPT rule: tensors of rank ≥ 2 decay,
    /// biases and norm weights do not).
    pub weight_decay: bool,
}

impl ParamSpec {
    /// A parameter with the default weight-decay rule (decay iff rank ≥ 2).
    pub fn new(name: String, shape: Vec<usize>, init: Init) -> Self {
        let weight_decay = shape.len() >= 2;
        ParamSpec {
            name,
            shape,
            init,
            weight_decay,
        }
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// Where a module sits in the model tree: its hierarchical name prefix (`""` at the root,
/// `layers.3.attention` deeper down).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ctx {
    prefix: String,
}

impl Ctx {
    /// The context of the top-level module (empty prefix).
    pub fn root() -> Self {
        Ctx::default()
    }

    /// The context of a child module named `name` (`"0"` for the first child of a
    /// `Sequential`, `"attention"` for a named field).
    pub fn child(&self, name: &str) -> Ctx {
        Ctx {
            prefix: self.full_name(name),
        }
    }

    /// This module's hierarchical name (empty at the root).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The module path for messages: the prefix, or `<root>` at the top.
    pub fn module_path(&self) -> &str {
        if self.prefix.is_empty() {
            "<root>"
        } else {
            &self.prefix
        }
    }

    /// The full name of `suffix` under this module: `weight` → `0.weight`.
    pub fn full_name(&self, suffix: &str) -> String {
        if self.prefix.is_empty() {
            suffix.to_string()
        } else {
            format!("{}.{suffix}", self.prefix)
        }
    }

    /// A parameter declaration for `suffix` under this module.
    pub fn spec(&self, suffix: &str, shape: Vec<usize>, init: Init) -> ParamSpec {
        ParamSpec::new(self.full_name(suffix), shape, init)
    }

    /// The graph value of this module's parameter `suffix`, checking that it was declared with
    /// `shape`.
    pub fn param(&self, g: &Graph, suffix: &str, shape: &[usize]) -> Result<ValueId, NnError> {
        let name = self.full_name(suffix);
        let input = g
            .inputs()
            .iter()
            .find(|i| i.name == name && i.kind == InputKind::Param)
            .ok_or_else(|| NnError::UndeclaredParam {
                module: self.module_path().to_string(),
                name: name.clone(),
            })?;
        let declared = g.shape(input.value).in_module(self)?.dims();
        if declared != shape {
            return Err(NnError::ParamShape {
                module: self.module_path().to_string(),
                name,
                declared: declared.to_vec(),
                used: shape.to_vec(),
            });
        }
        Ok(input.value)
    }

    /// A configuration error of this module.
    pub fn bad_module(&self, message: impl Into<String>) -> NnError {
        NnError::BadModule {
            module: self.module_path().to_string(),
            message: message.into(),
        }
    }
}

/// Attaches the module path to graph-builder errors: `g.relu(x).in_module(ctx)?`.
pub trait InModule<T> {
    /// Turns a [`GraphError`] into [`NnError::Graph`] naming the module.
    fn in_module(self, ctx: &Ctx) -> Result<T, NnError>;
}

impl<T> InModule<T> for Result<T, GraphError> {
    fn in_module(self, ctx: &Ctx) -> Result<T, NnError> {
        self.map_err(|source| NnError::Graph {
            module: ctx.module_path().to_string(),
            source,
        })
    }
}

/// A layer or a composition of layers (PyTorch's `nn.Module`).
pub trait Module: Debug + Send + Sync {
    /// Appends this module's parameters and its children's, with full names under `ctx`, in
    /// PyTorch's registration order (so the order matches `named_parameters()`). Checks the
    /// configuration and reports impossible settings here.
    fn declare_params(&self, ctx: &Ctx, params: &mut Vec<ParamSpec>) -> Result<(), NnError>;

    /// Traces the forward computation of `x` into `g` and returns the output value. Parameters are
    /// fetched with [`Ctx::param`]; dropout follows the graph's mode.
    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError>;
}

/// Adds every spec to `g` as a parameter input, in order (what [`Model`](super::Model) does before
/// tracing; call it yourself to trace a module into a graph of your own).
pub fn declare_in_graph(g: &mut Graph, specs: &[ParamSpec]) -> Result<(), NnError> {
    for spec in specs {
        g.param(&spec.name, &spec.shape)
            .map_err(|source| NnError::Build {
                context: format!("declaring parameter `{}`", spec.name),
                source,
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_nest_like_pytorch() {
        let root = Ctx::root();
        assert_eq!(root.full_name("weight"), "weight");
        assert_eq!(root.module_path(), "<root>");
        let wq = root
            .child("layers")
            .child("3")
            .child("attention")
            .child("wq");
        assert_eq!(wq.full_name("weight"), "layers.3.attention.wq.weight");
        assert_eq!(wq.module_path(), "layers.3.attention.wq");
    }

    #[test]
    fn param_lookup_checks_declaration_and_shape() {
        let mut g = Graph::new();
        let ctx = Ctx::root().child("0");
        let specs = [ctx.spec("weight", vec![3, 2], Init::Zeros)];
        declare_in_graph(&mut g, &specs).unwrap();
        assert!(ctx.param(&g, "weight", &[3, 2]).is_ok());
        assert!(matches!(
            ctx.param(&g, "weight", &[2, 3]),
            Err(NnError::ParamShape { .. })
        ));
        assert!(matches!(
            ctx.param(&g, "bias", &[3]),
            Err(NnError::UndeclaredParam { .. })
        ));
        assert!(specs[0].weight_decay);
        assert!(!ParamSpec::new("b".into(), vec![3], Init::Zeros).weight_decay);
    }
}
