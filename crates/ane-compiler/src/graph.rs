//! The graph: values (typed, each produced by a graph input or by one node), nodes in topological
//! order, named inputs (data and parameters) and named outputs.
//!
//! Nodes are only ever appended, and a node may only read values that already exist, so the node
//! list is always a valid execution order. Builder methods (in `crate::builder`) add nodes with
//! shape inference; passes (`crate::passes`) build new graphs rather than editing in place.

use crate::dtype::DType;
use crate::error::GraphError;
use crate::infer::infer_output_type;
use crate::op::Op;
use crate::shape::{Shape, ValueType};
use std::fmt;
use std::sync::Arc;

/// The id of a value in one graph (`%n` when printed). Ids are dense, in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub(crate) u32);

impl ValueId {
    /// The id as an index into per-value tables (`0..graph.num_values()`).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// Whether a graph input is data fed each step or a trainable parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// Fed each step (`images`, `labels`, `tokens`, the dropout seed).
    Data,
    /// A trainable parameter (`layers.0.weight`); autodiff returns its gradient as `grad.<name>`.
    Param,
}

/// A named graph input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphInput {
    /// Unique name; parameters use hierarchical PyTorch-style names (`layers.0.attn.wq.weight`).
    pub name: String,
    /// Data or parameter.
    pub kind: InputKind,
    /// The value it defines.
    pub value: ValueId,
}

/// A named graph output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphOutput {
    /// Unique name (`loss`, `logits`, `grad.0.weight`).
    pub name: String,
    /// The value returned.
    pub value: ValueId,
}

/// One operation: an op applied to existing values, producing one new value.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What it computes.
    pub op: Op,
    /// Its operands, in the order of [`Op::input_names`].
    pub inputs: Vec<ValueId>,
    /// The value it defines.
    pub output: ValueId,
}

/// Where a node came from: the scope it was built in and whether autodiff emitted it.
///
/// Scopes name the structural units of a model (`layers.3`, `layers.3.attn`); the partitioner
/// cuts kernels at scope boundaries so that identical layers give identical kernels. Autodiff
/// gives each backward node the scope of the forward node it differentiates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NodeOrigin {
    /// The dotted scope path (`layers.3.attn`), `None` outside every scope.
    pub scope: Option<Arc<str>>,
    /// True for nodes of the backward pass.
    pub backward: bool,
    /// For backward nodes: the output of the forward node whose gradient rule emitted this node
    /// (lets passes that derive scopes attribute backward nodes exactly).
    pub grad_of: Option<ValueId>,
}

/// Where a value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Producer {
    /// Graph input number `i` (index into [`Graph::inputs`]).
    Input(usize),
    /// Node number `i` (index into [`Graph::nodes`]).
    Node(usize),
}

/// Whether a graph is built for training (dropout active) or evaluation (dropout is the identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GraphMode {
    /// Training: dropout draws masks.
    #[default]
    Train,
    /// Evaluation / inference: dropout passes values through.
    Eval,
}

#[derive(Debug, Clone, PartialEq)]
struct ValueInfo {
    ty: ValueType,
    producer: Producer,
}

/// A dataflow graph of typed ops on shaped tensors.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    values: Vec<ValueInfo>,
    nodes: Vec<Node>,
    inputs: Vec<GraphInput>,
    outputs: Vec<GraphOutput>,
    mode: GraphMode,
    pub(crate) next_dropout_site: u32,
    /// One entry per node.
    origins: Vec<NodeOrigin>,
    /// The origin given to nodes added now.
    current_origin: NodeOrigin,
}

impl Graph {
    /// An empty training-mode graph.
    pub fn new() -> Self {
        Graph::default()
    }

    /// An empty graph in the given mode.
    pub fn with_mode(mode: GraphMode) -> Self {
        Graph {
            mode,
            ..Graph::default()
        }
    }

    /// Training or evaluation.
    pub fn mode(&self) -> GraphMode {
        self.mode
    }

    /// All nodes, in a valid execution order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Where node `index` came from (scope and phase); the default origin for an unknown index.
    pub fn node_origin(&self, index: usize) -> &NodeOrigin {
        static NONE: NodeOrigin = NodeOrigin {
            scope: None,
            backward: false,
            grad_of: None,
        };
        self.origins.get(index).unwrap_or(&NONE)
    }

    /// Runs `build` with nodes it adds placed in scope `name`, nested inside the current scope
    /// (`layers.3` inside `model` gives `model.layers.3`). The previous scope is restored
    /// afterwards, also when `build` fails.
    ///
    /// ```
    /// # use ane_compiler::{Graph, DType};
    /// let mut g = Graph::new();
    /// let x = g.input("x", &[2, 4], DType::F32).unwrap();
    /// let y = g.with_scope("layers.0", |g| g.relu(x)).unwrap();
    /// let node = g.nodes().len() - 1;
    /// assert_eq!(g.node_origin(node).scope.as_deref(), Some("layers.0"));
    /// # let _ = y;
    /// ```
    pub fn with_scope<T>(
        &mut self,
        name: &str,
        build: impl FnOnce(&mut Graph) -> Result<T, GraphError>,
    ) -> Result<T, GraphError> {
        let scope: Arc<str> = match &self.current_origin.scope {
            Some(outer) => format!("{outer}.{name}").into(),
            None => name.into(),
        };
        let previous = self.set_current_origin(NodeOrigin {
            scope: Some(scope),
            ..self.current_origin.clone()
        });
        let result = build(self);
        self.current_origin = previous;
        result
    }

    /// Sets the origin given to nodes added from now on; returns the previous one.
    pub(crate) fn set_current_origin(&mut self, origin: NodeOrigin) -> NodeOrigin {
        std::mem::replace(&mut self.current_origin, origin)
    }

    /// All graph inputs, in declaration order.
    pub fn inputs(&self) -> &[GraphInput] {
        &self.inputs
    }

    /// The parameter inputs, in declaration order.
    pub fn params(&self) -> impl Iterator<Item = &GraphInput> {
        self.inputs.iter().filter(|i| i.kind == InputKind::Param)
    }

    /// All graph outputs, in declaration order.
    pub fn outputs(&self) -> &[GraphOutput] {
        &self.outputs
    }

    /// Number of values (ids are `0..num_values()`).
    pub fn num_values(&self) -> usize {
        self.values.len()
    }

    /// The type of a value.
    pub fn value_type(&self, id: ValueId) -> Result<&ValueType, GraphError> {
        self.values
            .get(id.index())
            .map(|v| &v.ty)
            .ok_or(GraphError::UnknownValue(id.index()))
    }

    /// The shape of a value.
    pub fn shape(&self, id: ValueId) -> Result<&Shape, GraphError> {
        Ok(&self.value_type(id)?.shape)
    }

    /// What produces a value.
    pub fn producer(&self, id: ValueId) -> Result<Producer, GraphError> {
        self.values
            .get(id.index())
            .map(|v| v.producer)
            .ok_or(GraphError::UnknownValue(id.index()))
    }

    /// The node producing a value, if it is not a graph input.
    pub fn producing_node(&self, id: ValueId) -> Option<&Node> {
        match self.values.get(id.index())?.producer {
            Producer::Node(n) => self.nodes.get(n),
            Producer::Input(_) => None,
        }
    }

    /// The value of a named graph input.
    pub fn input_value(&self, name: &str) -> Result<ValueId, GraphError> {
        self.inputs
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.value)
            .ok_or_else(|| GraphError::UnknownInput(name.to_string()))
    }

    /// The value of a named graph output.
    pub fn output_value(&self, name: &str) -> Result<ValueId, GraphError> {
        self.outputs
            .iter()
            .find(|o| o.name == name)
            .map(|o| o.value)
            .ok_or_else(|| GraphError::UnknownOutput(name.to_string()))
    }

    /// For every value, the indices of the nodes that read it (once per node).
    pub fn consumers(&self) -> Vec<Vec<usize>> {
        let mut consumers = vec![Vec::new(); self.values.len()];
        for (n, node) in self.nodes.iter().enumerate() {
            for input in &node.inputs {
                let list: &mut Vec<usize> = &mut consumers[input.index()];
                if list.last() != Some(&n) {
                    list.push(n);
                }
            }
        }
        consumers
    }

    /// Declares a graph input of any kind. Names must be unique among inputs.
    pub fn add_input(
        &mut self,
        name: &str,
        kind: InputKind,
        shape: &[usize],
        dtype: DType,
    ) -> Result<ValueId, GraphError> {
        check_name(name)?;
        if self.inputs.iter().any(|i| i.name == name) {
            return Err(GraphError::DuplicateInput(name.to_string()));
        }
        if kind == InputKind::Param && dtype != DType::F32 {
            return Err(GraphError::NotDifferentiable {
                name: name.to_string(),
                reason: "parameters must be f32".to_string(),
            });
        }
        let shape = Shape::from(shape);
        // Bytes, not just elements: every consumer sizes buffers from this.
        if shape.checked_bytes(4).is_none() {
            return Err(GraphError::TooLarge {
                what: format!("input `{name}`"),
                shape: shape.dims().to_vec(),
            });
        }
        let id = self.new_value(
            ValueType { dtype, shape },
            Producer::Input(self.inputs.len()),
        );
        self.inputs.push(GraphInput {
            name: name.to_string(),
            kind,
            value: id,
        });
        Ok(id)
    }

    /// Marks a value as a named graph output. Names must be unique among outputs; one value may be
    /// returned under several names.
    pub fn output(&mut self, name: &str, value: ValueId) -> Result<(), GraphError> {
        check_name(name)?;
        self.value_type(value)?;
        if self.outputs.iter().any(|o| o.name == name) {
            return Err(GraphError::DuplicateOutput(name.to_string()));
        }
        self.outputs.push(GraphOutput {
            name: name.to_string(),
            value,
        });
        Ok(())
    }

    /// Appends a node after checking its inputs exist and inferring its output type; returns the
    /// new value. Builder methods are thin wrappers over this.
    pub fn add_node(&mut self, op: Op, inputs: &[ValueId]) -> Result<ValueId, GraphError> {
        let types = inputs
            .iter()
            .map(|&v| self.value_type(v))
            .collect::<Result<Vec<_>, _>>()?;
        let ty = infer_output_type(&op, &types)?;
        if ty.shape.checked_bytes(4).is_none() {
            return Err(GraphError::TooLarge {
                what: format!("the output of {op}"),
                shape: ty.shape.dims().to_vec(),
            });
        }
        let id = self.new_value(ty, Producer::Node(self.nodes.len()));
        self.nodes.push(Node {
            op,
            inputs: inputs.to_vec(),
            output: id,
        });
        self.origins.push(self.current_origin.clone());
        Ok(id)
    }

    fn new_value(&mut self, ty: ValueType, producer: Producer) -> ValueId {
        let id = ValueId(self.values.len() as u32);
        self.values.push(ValueInfo { ty, producer });
        id
    }
}

fn check_name(name: &str) -> Result<(), GraphError> {
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return Err(GraphError::BadName(name.to_string()));
    }
    Ok(())
}
