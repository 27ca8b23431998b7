//! MIL text: the canonical printer ([`print()`]) and the parser ([`parse`]) for the
//! `program(1.3)`/`ios18` dialect (bare scalars, `int32(1)`) and the verbose `program(1.0)`/`ios16`
//! one (rank-0 tensors, `tensor<int32, []>(1)`), reading into and writing from the program model
//! of [`crate::program`].
//!
//! `parse(&print(&p)) == p` holds for every well-formed program (valid identifiers, literal data
//! matching its declared type), in both dialects; floats print as C99 hex floats and read back
//! bit-exactly.

mod float;
mod lexer;
mod parser;
mod printer;

pub use parser::parse;
pub use printer::print;

/// A syntax or literal error in MIL text, at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct ParseError {
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column (in characters) of the offending token.
    pub col: usize,
    /// What was expected and what was found.
    pub message: String,
}
