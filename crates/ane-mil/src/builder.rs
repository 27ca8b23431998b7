//! The builder: the API the compiler uses to emit kernels as MIL programs.
//!
//! Every op method infers its output types through `ops::infer` and returns typed [`Var`]s. The
//! emitted program follows the style the ANE compiler is proven to accept (ane-facts §1.3,
//! mil-ops §0.3): every parameter is written explicitly, defaults included; every literal is bound
//! through a named `const` (one per distinct value and type in a function); every op carries
//! `[name = string("<output name>")]`; output names are unique identifiers made from a readable
//! hint and a counter (`conv_0`, `relu_1`, …). [`FunctionBuilder::finish`] and
//! [`ProgramBuilder::build`] validate the result.
//!
//! ```
//! use ane_mil::builder::{ConvParams, FunctionBuilder, ProgramBuilder};
//! use ane_mil::{DType, Dialect, Opset, TensorType};
//!
//! let mut f = FunctionBuilder::new("main", Opset::Ios18);
//! let x = f.input("x", TensorType::new(DType::Fp16, [1, 64, 1, 32]))?;
//! let w = f.input("w", TensorType::new(DType::Fp16, [128, 64, 1, 1]))?;
//! let y = f.conv(&x, &w, &ConvParams::new(2))?;
//! let z = f.add(&y, &y)?;
//! let s = f.softmax(&z, -1)?;
//! let r = f.reshape(&s, &[1, 128, 32])?;
//! f.output(&r)?;
//! let program = ProgramBuilder::new(Dialect::Ios18).function(f.finish()?).build()?;
//! assert_eq!(program.main().unwrap().outputs, vec![r.name]);
//! # Ok::<(), ane_mil::builder::BuildError>(())
//! ```

mod error;
mod function;
mod params;
mod typed;

pub use error::BuildError;
pub use function::{Arg, FunctionBuilder, Var};
pub use params::{
    ConvParams, ConvTransposeParams, GeluMode, PadMode, PadSpec, PoolParams, ScatterMode,
    SliceByIndex, Split,
};

use crate::program::{Dialect, Function, Program};
use crate::validate::validate;

/// Assembles functions into a validated program of one dialect.
#[derive(Debug, Clone)]
pub struct ProgramBuilder {
    dialect: Dialect,
    functions: Vec<Function>,
}

impl ProgramBuilder {
    /// A program in `dialect` (`program(1.3)`/`ios18` or `program(1.0)`/`ios16`).
    pub fn new(dialect: Dialect) -> Self {
        ProgramBuilder {
            dialect,
            functions: Vec::new(),
        }
    }

    /// Adds a finished function.
    pub fn function(mut self, function: Function) -> Self {
        self.functions.push(function);
        self
    }

    /// Checks that every function uses the dialect's opset, then validates the whole program.
    pub fn build(self) -> Result<Program, BuildError> {
        let expected = self.dialect.opset();
        if let Some(f) = self.functions.iter().find(|f| f.opset != expected) {
            return Err(BuildError::OpsetMismatch {
                function: f.name.clone(),
                opset: f.opset,
                expected,
            });
        }
        let mut program = Program::new(self.dialect);
        program.functions = self.functions;
        validate(&program).map_err(BuildError::Invalid)?;
        Ok(program)
    }
}
