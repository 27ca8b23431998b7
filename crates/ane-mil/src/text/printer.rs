//! The canonical MIL text printer: one layout (Apple's: 4-space functions, 8-space statements,
//! arguments and attributes in name order), scalar spelling chosen by the program version
//! (`int32(1)` vs `tensor<int32, []>(1)`), floats as C99 hex floats.
//!
//! The printer writes what the model holds; names are assumed to be valid identifiers (validation
//! checks that), and literal data is assumed to match its declared type.
//!
//! Choices where no Apple output was observed: function attributes follow the parameter list
//! directly (`func main<ios18>(...)[k = v] {`), like op attributes; an op without results prints
//! as `op(...)[...];`; dict entries are bare atoms of the declared scalar key/value types.

use super::float::{write_f16, write_f32};
use crate::program::{Argument, Binding, Function, NamedType, Operation, Program};
use crate::types::{TensorType, ValueType};
use crate::value::{BlobRef, TensorData, TensorValue, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Prints `program` as MIL text in its dialect (see [`Program::verbose_scalars`]).
pub fn print(program: &Program) -> String {
    let mut p = Printer {
        out: String::new(),
        verbose: program.verbose_scalars(),
    };
    p.program(program);
    p.out
}

struct Printer {
    out: String,
    /// Scalars as rank-0 tensors (`tensor<int32, []>(1)`), the 1.0 dialect.
    verbose: bool,
}

impl Printer {
    fn program(&mut self, program: &Program) {
        let _ = writeln!(self.out, "program({})", program.version);
        if !program.attributes.is_empty() {
            self.attributes(&program.attributes);
            self.out.push('\n');
        }
        self.out.push_str("{\n");
        for f in &program.functions {
            self.function(f);
        }
        self.out.push_str("}\n");
    }

    fn function(&mut self, f: &Function) {
        let _ = write!(self.out, "    func {}<{}>(", f.name, f.opset);
        for (i, p) in f.params.iter().enumerate() {
            self.sep(i);
            self.named_type(p);
        }
        self.out.push(')');
        if !f.attributes.is_empty() {
            self.attributes(&f.attributes);
        }
        self.out.push_str(" {\n");
        for op in &f.body {
            self.operation(op);
        }
        self.out.push_str("    } -> (");
        self.out.push_str(&f.outputs.join(", "));
        self.out.push_str(");\n");
    }

    fn operation(&mut self, op: &Operation) {
        self.out.push_str("        ");
        for (i, o) in op.outputs.iter().enumerate() {
            self.sep(i);
            self.named_type(o);
        }
        if !op.outputs.is_empty() {
            self.out.push_str(" = ");
        }
        self.out.push_str(&op.op_type);
        if let Some(opset) = op.opset {
            let _ = write!(self.out, "<{opset}>");
        }
        self.out.push('(');
        for (i, (name, arg)) in op.inputs.iter().enumerate() {
            self.sep(i);
            let _ = write!(self.out, "{name} = ");
            self.argument(arg);
        }
        self.out.push(')');
        if !op.attributes.is_empty() {
            self.attributes(&op.attributes);
        }
        self.out.push_str(";\n");
    }

    fn sep(&mut self, i: usize) {
        if i > 0 {
            self.out.push_str(", ");
        }
    }

    fn named_type(&mut self, n: &NamedType) {
        self.value_type(&n.ty);
        self.out.push(' ');
        self.out.push_str(&n.name);
    }

    fn attributes(&mut self, attrs: &BTreeMap<String, Value>) {
        self.out.push('[');
        for (i, (name, v)) in attrs.iter().enumerate() {
            self.sep(i);
            let _ = write!(self.out, "{name} = ");
            self.value(v);
        }
        self.out.push(']');
    }

    fn argument(&mut self, arg: &Argument) {
        match arg {
            Argument::Single(b) => self.binding(b),
            Argument::Tuple(bs) => {
                self.out.push('(');
                for (i, b) in bs.iter().enumerate() {
                    self.sep(i);
                    self.binding(b);
                }
                self.out.push(')');
            }
        }
    }

    fn binding(&mut self, b: &Binding) {
        match b {
            Binding::Var(name) => self.out.push_str(name),
            Binding::Value(v) => self.value(v),
        }
    }

    fn value_type(&mut self, ty: &ValueType) {
        match ty {
            ValueType::Tensor(t) => self.tensor_type(t),
            ValueType::Dict(k, v) => {
                self.out.push_str("dict<");
                self.value_type(k);
                self.out.push_str(", ");
                self.value_type(v);
                self.out.push('>');
            }
            ValueType::Tuple(items) => {
                self.out.push_str("tuple<");
                for (i, t) in items.iter().enumerate() {
                    self.sep(i);
                    self.value_type(t);
                }
                self.out.push('>');
            }
        }
    }

    /// `fp16` for a scalar in the 1.3 dialect, `tensor<fp16, [..]>` otherwise.
    fn tensor_type(&mut self, t: &TensorType) {
        if t.is_scalar() && !self.verbose {
            self.out.push_str(t.dtype.name());
        } else {
            let _ = write!(self.out, "{t}");
        }
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Tensor(t) => self.tensor_value(t),
            Value::Blob(b) => self.blob(b),
            Value::Dict {
                key_type,
                value_type,
                entries,
            } => {
                self.out.push_str("dict<");
                self.value_type(key_type);
                self.out.push_str(", ");
                self.value_type(value_type);
                self.out.push_str(">({");
                for (i, (k, v)) in entries.iter().enumerate() {
                    self.sep(i);
                    self.out.push('{');
                    self.element(&k.data, 0);
                    self.out.push_str(", ");
                    self.element(&v.data, 0);
                    self.out.push('}');
                }
                self.out.push_str("})");
            }
        }
    }

    /// `int32(1)` / `tensor<int32, []>(1)` for scalars, `tensor<int32, [4]>([0, 0, 0, 256])` for
    /// tensors of any rank (elements flat, row-major).
    fn tensor_value(&mut self, t: &TensorValue) {
        self.tensor_type(&t.ty);
        self.out.push('(');
        if t.ty.is_scalar() && t.data.len() == 1 {
            self.element(&t.data, 0);
        } else {
            self.out.push('[');
            for i in 0..t.data.len() {
                self.sep(i);
                self.element(&t.data, i);
            }
            self.out.push(']');
        }
        self.out.push(')');
    }

    fn blob(&mut self, b: &BlobRef) {
        self.tensor_type(&b.ty);
        self.out.push_str("(BLOBFILE(path = ");
        self.tensor_value(&TensorValue::string(b.path.clone()));
        self.out.push_str(", offset = ");
        self.tensor_value(&TensorValue::uint64(b.offset));
        self.out.push_str("))");
    }

    /// One element as a bare atom (`0x1p-3`, `-7`, `true`, `"s"`); nothing if out of range.
    fn element(&mut self, data: &TensorData, i: usize) {
        let out = &mut self.out;
        match data {
            TensorData::Fp16(v) => {
                if let Some(x) = v.get(i) {
                    write_f16(out, *x);
                }
            }
            TensorData::Fp32(v) => {
                if let Some(x) = v.get(i) {
                    write_f32(out, *x);
                }
            }
            TensorData::Int(v) => {
                if let Some(x) = v.get(i) {
                    let _ = write!(out, "{x}");
                }
            }
            TensorData::UInt64(v) => {
                if let Some(x) = v.get(i) {
                    let _ = write!(out, "{x}");
                }
            }
            TensorData::Bool(v) => {
                if let Some(x) = v.get(i) {
                    out.push_str(if *x { "true" } else { "false" });
                }
            }
            TensorData::Str(v) => {
                if let Some(x) = v.get(i) {
                    write_string(out, x);
                }
            }
        }
    }
}

/// Writes a double-quoted string literal with escapes `\" \\ \n \t \r` and `\u{HEX}` for other
/// control characters.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:X}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_quotes_backslashes_and_controls() {
        let mut s = String::new();
        write_string(&mut s, "a\"b\\c\nd\te\rf\u{1}g\u{7F}h\u{85}é");
        assert_eq!(s, r#""a\"b\\c\nd\te\rf\u{1}g\u{7F}h\u{85}é""#);
    }
}
