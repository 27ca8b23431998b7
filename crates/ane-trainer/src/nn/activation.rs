//! Parameter-free activations: `Relu`, `Gelu` (exact or tanh), `Silu`, `Sigmoid`, `Tanh`
//! (PyTorch's `ReLU`, `GELU`, `SiLU`, `Sigmoid`, `Tanh`).

use super::error::NnError;
use super::module::{Ctx, InModule, Module, ParamSpec};
use ane_compiler::{GeluApprox, Graph, UnaryOp, ValueId};

/// Declares the activation types: each is a unit-like module applying one [`UnaryOp`].
macro_rules! activation {
    ($(#[$doc:meta])* $name:ident => $op:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;

        impl Module for $name {
            fn declare_params(&self, _: &Ctx, _: &mut Vec<ParamSpec>) -> Result<(), NnError> {
                Ok(())
            }

            fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
                g.unary($op, x).in_module(ctx)
            }
        }
    };
}

activation!(
    /// `max(x, 0)` (`torch.nn.ReLU`).
    Relu => UnaryOp::Relu
);
activation!(
    /// `x·σ(x)` (`torch.nn.SiLU`).
    Silu => UnaryOp::Silu
);
activation!(
    /// `1 / (1 + e^(−x))` (`torch.nn.Sigmoid`).
    Sigmoid => UnaryOp::Sigmoid
);
activation!(
    /// `tanh(x)` (`torch.nn.Tanh`).
    Tanh => UnaryOp::Tanh
);

/// GELU (`torch.nn.GELU`): exact (erf) by default, or the tanh approximation
/// (`approximate="tanh"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gelu {
    /// Which formula.
    pub approximate: GeluApprox,
}

impl Gelu {
    /// The exact erf form (PyTorch's default).
    pub fn new() -> Self {
        Gelu {
            approximate: GeluApprox::Exact,
        }
    }

    /// The tanh approximation.
    pub fn tanh() -> Self {
        Gelu {
            approximate: GeluApprox::Tanh,
        }
    }
}

impl Default for Gelu {
    fn default() -> Self {
        Gelu::new()
    }
}

impl Module for Gelu {
    fn declare_params(&self, _: &Ctx, _: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        Ok(())
    }

    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        g.unary(UnaryOp::Gelu(self.approximate), x).in_module(ctx)
    }
}
