//! Elementwise op kinds: the unary activations and the broadcasting binary arithmetic.

use std::fmt;

/// Which GELU formula to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeluApprox {
    /// `0.5·x·(1 + erf(x/√2))`.
    Exact,
    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` (GPT-2 / PyTorch `approximate="tanh"`).
    Tanh,
}

/// An elementwise activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `max(x, 0)`; its derivative at 0 is taken as 0.
    Relu,
    /// Gaussian error linear unit.
    Gelu(GeluApprox),
    /// `x·σ(x)` (a.k.a. swish).
    Silu,
    /// `1 / (1 + e^(−x))`.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
}

impl UnaryOp {
    /// The op name used in printed graphs.
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Relu => "relu",
            UnaryOp::Gelu(GeluApprox::Exact) => "gelu",
            UnaryOp::Gelu(GeluApprox::Tanh) => "gelu_tanh",
            UnaryOp::Silu => "silu",
            UnaryOp::Sigmoid => "sigmoid",
            UnaryOp::Tanh => "tanh",
        }
    }
}

impl fmt::Display for UnaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Broadcasting elementwise arithmetic on two tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a − b`.
    Sub,
    /// `a · b`.
    Mul,
    /// `a / b`.
    Div,
}

impl BinaryOp {
    /// The op name used in printed graphs.
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
        }
    }
}
