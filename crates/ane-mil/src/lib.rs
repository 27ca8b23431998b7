//! `ane-mil`: the MIL format as the ANE's in-memory compiler accepts it.
//!
//! - [`program`]: the program model (programs, functions, operations, arguments);
//! - [`types`], [`dtype`], [`value`]: types and literal values;
//! - `text`: printer and parser for the `program(1.3)`/`ios18` and `program(1.0)`/`ios16` dialects;
//! - [`ops`]: op signatures as data, type and shape inference;
//! - [`validate`]: program validation with source positions;
//! - [`builder`]: the API the compiler uses to emit programs;
//! - [`blob`]: MIL blob storage v2 weight files;
//! - [`file`]: bounded reading of program and weight files (size limits, regular files only);
//! - [`host`]: the memory available on this machine, for size checks;
//! - [`chip`]: the per-chip capability table (limits as data) and the pre-compile lint.

pub mod blob;
pub mod builder;
pub mod chip;
pub mod dtype;
pub mod file;
pub mod host;
pub mod ops;
pub mod program;
pub mod text;
pub mod types;
pub mod validate;
pub mod value;
pub mod weights;

pub use dtype::DType;
pub use program::{
    Argument, Binding, Dialect, Function, NamedType, Operation, Opset, Program, SourcePos,
};
pub use text::{parse, print, ParseError};
pub use types::{Dim, TensorType, ValueType, MAX_RANK};
pub use value::{BlobRef, TensorData, TensorValue, Value};
pub use weights::WeightFiles;
