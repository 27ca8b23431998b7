//! `ane-mil`: the MIL format as the ANE's in-memory compiler accepts it.
//!
//! - [`program`]: the program model (programs, functions, operations, arguments);
//! - [`types`], [`dtype`], [`value`]: types and literal values;
//! - `text`: printer and parser for the `program(1.3)`/`ios18` and `program(1.0)`/`ios16` dialects;
//! - `ops`: op signatures as data, shape inference, validation;
//! - `builder`: the API the compiler uses to emit programs;
//! - `blob`: MIL blob storage v2 weight files.

pub mod blob;
pub mod dtype;
pub mod program;
pub mod types;
pub mod value;
pub mod weights;

pub use dtype::DType;
pub use program::{
    Argument, Binding, Dialect, Function, NamedType, Operation, Opset, Program, SourcePos,
};
pub use types::{Dim, TensorType, ValueType, MAX_RANK};
pub use value::{BlobRef, TensorData, TensorValue, Value};
pub use weights::WeightFiles;
