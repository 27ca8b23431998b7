//! `ane-compiler`: turns a model graph into a Plan for one training step: graph IR → autodiff →
//! placement → partitioning → kernel ABI → MIL lowering. It knows no device.
//!
//! What exists so far:
//! - the graph IR ([`Graph`], [`Node`], [`Op`], [`Shape`], [`DType`]) with shape inference at
//!   construction and a builder API (methods on [`Graph`], see `builder`);
//! - reverse-mode autodiff producing the training-step graph ([`autodiff::training_graph`]);
//! - dead-code and common-subexpression elimination ([`passes`]);
//! - an f64 reference evaluator used as a test oracle ([`eval`]);
//! - lowering of any set of nodes to one MIL kernel ([`lower::lower_kernel`]) with its I/O
//!   contract ([`abi::KernelAbi`]: packed or one buffer per tensor);
//! - placement of every node on the ANE or the host ([`place`]) and partitioning into kernels
//!   ([`partition`]), both reading the chip capability table ([`caps`], [`ane_mil::chip`]);
//! - the training-step Plan ([`plan::plan_training_step`]).

#![warn(missing_docs)]

mod builder;
mod display;
mod graph;
mod infer;
mod shape;

pub mod abi;
pub mod autodiff;
pub mod caps;
pub mod dropout;
pub mod dtype;
pub mod error;
pub mod eval;
pub mod lower;
pub mod op;
pub mod partition;
pub mod passes;
pub mod place;
pub mod plan;

pub use builder::{DROPOUT_RNG_INPUT, ROPE_BASE};
pub use dtype::DType;
pub use error::GraphError;
pub use graph::{
    Graph, GraphInput, GraphMode, GraphOutput, InputKind, Node, NodeOrigin, Producer, ValueId,
};
pub use infer::infer_output_type;
pub use op::{BinaryOp, Conv2dParams, GeluApprox, Op, Pool2dParams, UnaryOp, CAUSAL_MASK_VALUE};
pub use shape::{broadcast_shapes, Shape, ValueType};
