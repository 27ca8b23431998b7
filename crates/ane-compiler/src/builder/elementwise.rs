//! Builder methods for elementwise arithmetic and activations.

use crate::error::GraphError;
use crate::graph::{Graph, ValueId};
use crate::op::{BinaryOp, GeluApprox, Op, UnaryOp};

impl Graph {
    /// `a + b` (numpy broadcasting); also the residual add.
    pub fn add(&mut self, a: ValueId, b: ValueId) -> Result<ValueId, GraphError> {
        self.add_node(Op::Binary(BinaryOp::Add), &[a, b])
    }

    /// `a − b` (numpy broadcasting).
    pub fn sub(&mut self, a: ValueId, b: ValueId) -> Result<ValueId, GraphError> {
        self.add_node(Op::Binary(BinaryOp::Sub), &[a, b])
    }

    /// `a · b` (numpy broadcasting).
    pub fn mul(&mut self, a: ValueId, b: ValueId) -> Result<ValueId, GraphError> {
        self.add_node(Op::Binary(BinaryOp::Mul), &[a, b])
    }

    /// `a / b` (numpy broadcasting).
    pub fn div(&mut self, a: ValueId, b: ValueId) -> Result<ValueId, GraphError> {
        self.add_node(Op::Binary(BinaryOp::Div), &[a, b])
    }

    /// `x · factor`.
    pub fn scalar_mul(&mut self, x: ValueId, factor: f32) -> Result<ValueId, GraphError> {
        self.add_node(Op::ScalarMul(factor), &[x])
    }

    /// `x + addend`.
    pub fn scalar_add(&mut self, x: ValueId, addend: f32) -> Result<ValueId, GraphError> {
        self.add_node(Op::ScalarAdd(addend), &[x])
    }

    /// `−x`.
    pub fn neg(&mut self, x: ValueId) -> Result<ValueId, GraphError> {
        self.scalar_mul(x, -1.0)
    }

    /// An activation by kind.
    pub fn unary(&mut self, op: UnaryOp, x: ValueId) -> Result<ValueId, GraphError> {
        self.add_node(Op::Unary(op), &[x])
    }

    /// `max(x, 0)`.
    pub fn relu(&mut self, x: ValueId) -> Result<ValueId, GraphError> {
        self.unary(UnaryOp::Relu, x)
    }

    /// GELU, exact (erf) form.
    pub fn gelu(&mut self, x: ValueId) -> Result<ValueId, GraphError> {
        self.unary(UnaryOp::Gelu(GeluApprox::Exact), x)
    }

    /// GELU, tanh approximation.
    pub fn gelu_tanh(&mut self, x: ValueId) -> Result<ValueId, GraphError> {
        self.unary(UnaryOp::Gelu(GeluApprox::Tanh), x)
    }

    /// `x·σ(x)`.
    pub fn silu(&mut self, x: ValueId) -> Result<ValueId, GraphError> {
        self.unary(UnaryOp::Silu, x)
    }

    /// `σ(x)`.
    pub fn sigmoid(&mut self, x: ValueId) -> Result<ValueId, GraphError> {
        self.unary(UnaryOp::Sigmoid, x)
    }

    /// `tanh(x)`.
    pub fn tanh(&mut self, x: ValueId) -> Result<ValueId, GraphError> {
        self.unary(UnaryOp::Tanh, x)
    }
}
