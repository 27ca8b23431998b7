//! The program model: a program holds functions; a function holds typed parameters, a list of
//! operations and its outputs. This is the value that the printer writes, the parser reads, the
//! validator checks, the builder produces and the simulator runs.

use crate::dtype::DType;
use crate::types::{TensorType, ValueType};
use crate::value::{TensorData, TensorValue, Value};
use std::collections::BTreeMap;
use std::fmt;

/// An opset name as written after a function name (`func main<ios18>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Opset {
    Ios15,
    Ios16,
    Ios17,
    Ios18,
    Ios26,
}

impl Opset {
    /// All opsets, oldest first.
    pub const ALL: [Opset; 5] = [
        Opset::Ios15,
        Opset::Ios16,
        Opset::Ios17,
        Opset::Ios18,
        Opset::Ios26,
    ];

    /// The text name (`ios18`).
    pub fn name(self) -> &'static str {
        match self {
            Opset::Ios15 => "ios15",
            Opset::Ios16 => "ios16",
            Opset::Ios17 => "ios17",
            Opset::Ios18 => "ios18",
            Opset::Ios26 => "ios26",
        }
    }

    /// Parses a text opset name.
    pub fn from_name(name: &str) -> Option<Opset> {
        Opset::ALL.into_iter().find(|o| o.name() == name)
    }
}

impl fmt::Display for Opset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The two text dialects the ANE's in-memory compiler accepts (ane-facts.md §1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// `program(1.3)` with `func main<ios18>` and bare scalars (`int32(1)`): M4 and later.
    Ios18,
    /// `program(1.0)` with `func main<ios16>` and verbose scalars (`tensor<int32, []>(1)`): M1–M3.
    Ios16,
}

impl Dialect {
    /// The program version written in the header.
    pub fn program_version(self) -> &'static str {
        match self {
            Dialect::Ios18 => "1.3",
            Dialect::Ios16 => "1.0",
        }
    }

    /// The opset of every function.
    pub fn opset(self) -> Opset {
        match self {
            Dialect::Ios18 => Opset::Ios18,
            Dialect::Ios16 => Opset::Ios16,
        }
    }

    /// The scalar spelling used with a given program version: `1.0` writes scalars as rank-0
    /// tensors, later versions write bare scalars.
    pub fn verbose_scalars_for_version(version: &str) -> bool {
        version == "1.0"
    }
}

/// Where a construct started in the source text (1-based). Never part of equality: a parsed
/// program equals the same program built in memory.
#[derive(Debug, Clone, Copy, Default)]
pub struct SourcePos(pub Option<(usize, usize)>);

impl SourcePos {
    /// A position at `line`, `col` (both 1-based).
    pub fn at(line: usize, col: usize) -> Self {
        SourcePos(Some((line, col)))
    }
}

impl PartialEq for SourcePos {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some((l, c)) => write!(f, "{l}:{c}"),
            None => f.write_str("?:?"),
        }
    }
}

/// A typed name: a function parameter or an operation output.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedType {
    pub name: String,
    pub ty: ValueType,
    pub pos: SourcePos,
}

impl NamedType {
    /// A named tensor (or scalar) type.
    pub fn tensor(name: impl Into<String>, ty: TensorType) -> Self {
        NamedType {
            name: name.into(),
            ty: ValueType::Tensor(ty),
            pos: SourcePos::default(),
        }
    }
}

/// What one argument slot is bound to: a previously defined value or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Binding {
    /// An identifier defined earlier (a parameter or an operation output).
    Var(String),
    /// An inline literal.
    Value(Value),
}

/// An argument of an operation: a single binding or a tuple (variadic inputs such as
/// `concat(values = (a, b))`).
#[derive(Debug, Clone, PartialEq)]
pub enum Argument {
    Single(Binding),
    Tuple(Vec<Binding>),
}

impl Argument {
    /// An argument bound to a named value.
    pub fn var(name: impl Into<String>) -> Self {
        Argument::Single(Binding::Var(name.into()))
    }
}

/// One statement: `T out = op(arg = x, ...)[name = string("out"), ...];`.
///
/// Inputs and attributes are kept sorted by name, which is also the order the printer writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The op type (`conv`, `const`, …).
    pub op_type: String,
    /// A per-op opset suffix (`op<ios17>(...)`), rarely present.
    pub opset: Option<Opset>,
    /// The values this operation defines, in order (several for `split`).
    pub outputs: Vec<NamedType>,
    /// Named arguments.
    pub inputs: BTreeMap<String, Argument>,
    /// Bracketed attributes: `name` for every op, `val` for `const`, all operands of
    /// iOS16/17-style `constexpr_*` ops.
    pub attributes: BTreeMap<String, Value>,
    pub pos: SourcePos,
}

impl Operation {
    /// The `name` attribute, if it is a string scalar.
    pub fn name_attr(&self) -> Option<&str> {
        self.attributes
            .get("name")
            .and_then(Value::as_tensor)
            .and_then(TensorValue::as_str)
    }
}

/// A function: `func NAME<OPSET>(params) [attrs] { body } -> (outputs);`.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    pub opset: Opset,
    pub params: Vec<NamedType>,
    pub attributes: BTreeMap<String, Value>,
    pub body: Vec<Operation>,
    pub outputs: Vec<String>,
    pub pos: SourcePos,
}

/// A whole MIL program: `program(VERSION) [attrs] { functions }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    /// The version in `program(...)`, e.g. `"1.3"`; `"1.0"` selects verbose scalars.
    pub version: String,
    /// Program attributes (normally just `buildInfo`).
    pub attributes: BTreeMap<String, Value>,
    pub functions: Vec<Function>,
}

/// The `buildInfo` entries that every working maderix/ANE kernel carries (ane-facts.md §1.1).
pub const BUILD_INFO_IOS18: [(&str, &str); 4] = [
    ("coremlc-component-MIL", "3510.2.1"),
    ("coremlc-version", "3505.4.1"),
    ("coremltools-component-milinternal", ""),
    ("coremltools-version", "9.0"),
];

/// The reduced `buildInfo` used with the 1.0 dialect (ane-facts.md §1.1, PR #6).
pub const BUILD_INFO_IOS16: [(&str, &str); 1] = [("coremlc-version", "3505.4.1")];

/// A `dict<string, string>` value from key/value pairs.
pub fn string_dict(entries: &[(&str, &str)]) -> Value {
    let string = ValueType::Tensor(TensorType::scalar(DType::String));
    Value::Dict {
        key_type: string.clone(),
        value_type: string,
        entries: entries
            .iter()
            .map(|(k, v)| (TensorValue::string(*k), TensorValue::string(*v)))
            .collect(),
    }
}

impl Program {
    /// An empty program in the given dialect, with that dialect's standard `buildInfo`.
    pub fn new(dialect: Dialect) -> Self {
        let mut p = Program {
            version: dialect.program_version().to_string(),
            attributes: BTreeMap::new(),
            functions: Vec::new(),
        };
        p.set_dialect(dialect);
        p
    }

    /// Rewrites the header, the `buildInfo` attribute and every function's opset for `dialect`.
    /// Op semantics are unchanged; the printer then uses that dialect's scalar spelling.
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.version = dialect.program_version().to_string();
        let info: &[(&str, &str)] = match dialect {
            Dialect::Ios18 => &BUILD_INFO_IOS18,
            Dialect::Ios16 => &BUILD_INFO_IOS16,
        };
        self.attributes
            .insert("buildInfo".to_string(), string_dict(info));
        for f in &mut self.functions {
            f.opset = dialect.opset();
            for op in &mut f.body {
                op.opset = None;
            }
        }
    }

    /// Whether scalars print in the verbose rank-0 tensor form.
    pub fn verbose_scalars(&self) -> bool {
        Dialect::verbose_scalars_for_version(&self.version)
    }

    /// The function called `name`.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// The `main` function (the one the ANE runs).
    pub fn main(&self) -> Option<&Function> {
        self.function("main")
    }
}

impl TensorData {
    /// Zero-filled data of `n` elements suitable for `dtype` (strings are empty).
    pub fn zeros(dtype: DType, n: usize) -> TensorData {
        match dtype {
            DType::Fp16 => TensorData::Fp16(vec![half::f16::ZERO; n]),
            DType::Fp32 => TensorData::Fp32(vec![0.0; n]),
            DType::Uint64 => TensorData::UInt64(vec![0; n]),
            DType::Bool => TensorData::Bool(vec![false; n]),
            DType::String => TensorData::Str(vec![String::new(); n]),
            _ => TensorData::Int(vec![0; n]),
        }
    }
}
