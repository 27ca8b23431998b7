//! The MIL text parser: a recursive-descent reader of the grammar in mil-ops.md §2.3 into the
//! program model, accepting both scalar dialects (`int32(1)` and `tensor<int32, []>(1)` read as the
//! same rank-0 [`TensorValue`]) and filling [`SourcePos`] on functions, parameters, operations and
//! their outputs.
//!
//! Literals are checked against their declared type here (element counts, integer ranges, float
//! rounding), because the model has no place to keep an ill-typed literal.

use super::float::{parse_f16, parse_f32};
use super::lexer::{Lexer, Tok, Token};
use super::ParseError;
use crate::dtype::DType;
use crate::program::{
    Argument, Binding, Function, NamedType, Operation, Opset, Program, SourcePos,
};
use crate::types::{Dim, TensorType, ValueType};
use crate::value::{BlobRef, TensorData, TensorValue, Value};
use std::collections::BTreeMap;

/// Types nest (`dict<tuple<...>>`); deeper than this is rejected instead of recursing further.
const MAX_TYPE_DEPTH: usize = 32;

/// MIL dtypes that exist in Core ML but not in [`DType`].
const UNSUPPORTED_DTYPES: [&str; 12] = [
    "fp64", "bf16", "int4", "int64", "uint1", "uint2", "uint3", "uint4", "uint6", "uint32",
    "fp8e4m3", "fp8e5m2",
];

/// Type constructors of MIL text that the model has no counterpart for.
const UNSUPPORTED_TYPES: [&str; 3] = ["state", "list", "tensor_buffer"];

/// Whether an identifier starts a type (and so a statement's results, not an op call).
fn is_type_word(s: &str) -> bool {
    DType::from_name(s).is_some()
        || matches!(s, "tensor" | "dict" | "tuple")
        || UNSUPPORTED_TYPES.contains(&s)
        || UNSUPPORTED_DTYPES.contains(&s)
}

/// Parses MIL text into a [`Program`].
pub fn parse(src: &str) -> Result<Program, ParseError> {
    let mut lexer = Lexer::new(src);
    let cur = lexer.next_token();
    let ahead = lexer.next_token();
    let mut p = Parser {
        lexer,
        cur,
        ahead,
        depth: 0,
    };
    p.program()
}

type PResult<T> = Result<T, ParseError>;

/// The parser holds the current token and one token of lookahead (all the grammar needs), pulled
/// from the lexer as it goes, so its memory does not grow with the length of the text.
struct Parser<'a> {
    lexer: Lexer<'a>,
    /// The current token; once it is the last one (`Eof` or an `Error`) it stays.
    cur: Token<'a>,
    /// The token after `cur` (the last token again once the stream has ended).
    ahead: Token<'a>,
    depth: usize,
}

/// A token's position, kept instead of the token where an error may later need it.
#[derive(Debug, Clone, Copy)]
struct Loc {
    line: usize,
    col: usize,
}

fn error_at(loc: Loc, message: impl Into<String>) -> ParseError {
    ParseError {
        line: loc.line,
        col: loc.col,
        message: message.into(),
    }
}

/// "a uint8", "an int32", "an fp16" (dtype names as they are read aloud).
fn article(dtype: DType) -> &'static str {
    if dtype.name().starts_with('u') {
        "a"
    } else {
        "an"
    }
}

fn pos_of(loc: Loc) -> SourcePos {
    SourcePos::at(loc.line, loc.col)
}

impl<'a> Parser<'a> {
    // ---- token access ----

    fn tok(&self) -> &Token<'a> {
        &self.cur
    }

    fn loc(&self) -> Loc {
        let t = self.tok();
        Loc {
            line: t.line,
            col: t.col,
        }
    }

    /// The token after the current one.
    fn peek_next(&self) -> &Tok<'a> {
        &self.ahead.tok
    }

    fn advance(&mut self) {
        if self.cur.is_last() {
            return;
        }
        let next = self.lexer.next_token();
        self.cur = std::mem::replace(&mut self.ahead, next);
    }

    /// "expected WHAT, found X" at the current token (or the lexer's own message there).
    fn expected(&self, what: &str) -> ParseError {
        let t = self.tok();
        let message = match &t.tok {
            Tok::Eof => format!("unexpected end of input, expected {what}"),
            Tok::Error(m) => m.clone(),
            other => format!("expected {what}, found {other}"),
        };
        error_at(self.loc(), message)
    }

    fn is_punct(&self, c: char) -> bool {
        self.tok().tok == Tok::Punct(c)
    }

    fn is_ident(&self, word: &str) -> bool {
        matches!(&self.tok().tok, Tok::Ident(s) if *s == word)
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let hit = self.is_punct(c);
        if hit {
            self.advance();
        }
        hit
    }

    /// Consumes `c` or fails with "expected 'c' CONTEXT, found ...".
    fn expect_punct(&mut self, c: char, context: &str) -> PResult<()> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            Err(self.expected(&format!("'{c}' {context}")))
        }
    }

    fn ident(&mut self, what: &str) -> PResult<String> {
        match &self.tok().tok {
            Tok::Ident(s) => {
                let s = s.to_string();
                self.advance();
                Ok(s)
            }
            _ => Err(self.expected(what)),
        }
    }

    /// Parses `ITEM (, ITEM)* CLOSE` or just `CLOSE` (the opening bracket already consumed).
    fn list<T>(
        &mut self,
        close: char,
        what: &str,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        let mut items = Vec::new();
        if self.eat_punct(close) {
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat_punct(',') {
                continue;
            }
            if self.eat_punct(close) {
                return Ok(items);
            }
            return Err(self.expected(&format!("',' or '{close}' {what}")));
        }
    }

    // ---- program structure ----

    fn program(&mut self) -> PResult<Program> {
        if !self.is_ident("program") {
            return Err(self.expected("'program'"));
        }
        self.advance();
        self.expect_punct('(', "after 'program'")?;
        let version = match &self.tok().tok {
            Tok::Number(s) => s.to_string(),
            _ => return Err(self.expected("a program version such as 1.3")),
        };
        let valid = version
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !valid {
            return Err(error_at(
                self.loc(),
                format!(
                    "invalid program version '{version}' (expected digits and dots, such as 1.3)"
                ),
            ));
        }
        self.advance();
        self.expect_punct(')', "after the program version")?;
        let attributes = self.optional_attributes()?;
        self.expect_punct('{', "to open the program body")?;
        let mut functions = Vec::new();
        while self.is_ident("func") {
            functions.push(self.function()?);
        }
        if !self.eat_punct('}') {
            return Err(self.expected("'func' or '}'"));
        }
        match &self.tok().tok {
            Tok::Eof => Ok(Program {
                version,
                attributes,
                functions,
            }),
            Tok::Error(m) => Err(error_at(self.loc(), m.clone())),
            other => Err(error_at(
                self.loc(),
                format!("unexpected {other} after the end of the program"),
            )),
        }
    }

    fn function(&mut self) -> PResult<Function> {
        let pos = pos_of(self.loc());
        self.advance(); // `func`
        let name = self.ident("a function name")?;
        self.expect_punct('<', "after the function name")?;
        let opset = self.opset()?;
        self.expect_punct('>', "after the opset")?;
        self.expect_punct('(', "to open the parameter list")?;
        let params = self.list(')', "after a parameter", |p| {
            p.named_type("a parameter name")
        })?;
        let attributes = self.optional_attributes()?;
        self.expect_punct('{', "to open the function body")?;
        let mut body = Vec::new();
        loop {
            match &self.tok().tok {
                Tok::Punct('}') => break,
                Tok::Ident(_) => body.push(self.statement()?),
                _ => return Err(self.expected("a statement or '}'")),
            }
        }
        self.advance();
        if self.tok().tok != Tok::Arrow {
            return Err(self.expected("'->' after the function body"));
        }
        self.advance();
        self.expect_punct('(', "after '->'")?;
        let outputs = self.list(')', "in the output list", |p| p.ident("an output name"))?;
        self.expect_punct(';', "after the function's outputs")?;
        Ok(Function {
            name,
            opset,
            params,
            attributes,
            body,
            outputs,
            pos,
        })
    }

    fn opset(&mut self) -> PResult<Opset> {
        let tok = self.loc();
        let name = self.ident("an opset such as ios18")?;
        Opset::from_name(&name).ok_or_else(|| {
            error_at(
                tok,
                format!("unknown opset '{name}' (expected ios15, ios16, ios17, ios18 or ios26)"),
            )
        })
    }

    /// `T out = op<opset>(args)[attrs];`, `T a, T b = op(...)...;` or, for an op without
    /// results, `op(...)...;`.
    fn statement(&mut self) -> PResult<Operation> {
        let pos = pos_of(self.loc());
        let no_results = matches!(&self.tok().tok, Tok::Ident(s) if !is_type_word(s))
            && matches!(self.peek_next(), Tok::Punct('(' | '<'));
        let mut outputs = Vec::new();
        if !no_results {
            outputs.push(self.named_type("a result name")?);
            while self.eat_punct(',') {
                outputs.push(self.named_type("a result name")?);
            }
            self.expect_punct('=', "after the statement's results")?;
        }
        let op_type = self.ident("an op name")?;
        let opset = if self.eat_punct('<') {
            let o = self.opset()?;
            self.expect_punct('>', "after the opset")?;
            Some(o)
        } else {
            None
        };
        self.expect_punct('(', "to open the argument list")?;
        let mut inputs = BTreeMap::new();
        let args = self.list(')', "in the argument list", |p| {
            let tok = p.loc();
            let name = p.ident("an argument name")?;
            p.expect_punct('=', "after the argument name")?;
            Ok((tok, name, p.argument()?))
        })?;
        for (tok, name, arg) in args {
            if inputs.insert(name.clone(), arg).is_some() {
                return Err(error_at(tok, format!("duplicate argument '{name}'")));
            }
        }
        let attributes = self.optional_attributes()?;
        self.expect_punct(';', "to end the statement")?;
        Ok(Operation {
            op_type,
            opset,
            outputs,
            inputs,
            attributes,
            pos,
        })
    }

    fn named_type(&mut self, what: &str) -> PResult<NamedType> {
        let pos = pos_of(self.loc());
        let ty = self.value_type()?;
        let name = self.ident(what)?;
        Ok(NamedType { name, ty, pos })
    }

    fn optional_attributes(&mut self) -> PResult<BTreeMap<String, Value>> {
        let mut attrs = BTreeMap::new();
        if !self.eat_punct('[') {
            return Ok(attrs);
        }
        let items = self.list(']', "in the attribute list", |p| {
            let tok = p.loc();
            let name = p.ident("an attribute name")?;
            p.expect_punct('=', "after the attribute name")?;
            Ok((tok, name, p.value()?))
        })?;
        for (tok, name, v) in items {
            if attrs.insert(name.clone(), v).is_some() {
                return Err(error_at(tok, format!("duplicate attribute '{name}'")));
            }
        }
        Ok(attrs)
    }

    fn argument(&mut self) -> PResult<Argument> {
        if self.eat_punct('(') {
            let items = self.list(')', "in the tuple", Self::binding)?;
            return Ok(Argument::Tuple(items));
        }
        Ok(Argument::Single(self.binding()?))
    }

    /// A variable name, or a literal (an identifier followed by `(` or `<` starts a literal).
    fn binding(&mut self) -> PResult<Binding> {
        match (&self.tok().tok, self.peek_next()) {
            (Tok::Ident(_), Tok::Punct('(' | '<')) => Ok(Binding::Value(self.value()?)),
            (Tok::Ident(name), _) => {
                let name = name.to_string();
                self.advance();
                Ok(Binding::Var(name))
            }
            _ => Err(self.expected("a variable name or a typed literal such as int32(1)")),
        }
    }

    // ---- types ----

    fn value_type(&mut self) -> PResult<ValueType> {
        if self.depth >= MAX_TYPE_DEPTH {
            return Err(error_at(
                self.loc(),
                format!("types nested too deeply (more than {MAX_TYPE_DEPTH} levels)"),
            ));
        }
        self.depth += 1;
        let result = self.value_type_inner();
        self.depth -= 1;
        result
    }

    fn value_type_inner(&mut self) -> PResult<ValueType> {
        let Tok::Ident(word) = self.tok().tok else {
            return Err(self.expected("a type"));
        };
        match word {
            "tensor" => Ok(ValueType::Tensor(self.tensor_type()?)),
            "dict" => {
                self.advance();
                self.expect_punct('<', "after 'dict'")?;
                let k = self.value_type()?;
                self.expect_punct(',', "after the dict key type")?;
                let v = self.value_type()?;
                self.expect_punct('>', "to close the dict type")?;
                Ok(ValueType::Dict(Box::new(k), Box::new(v)))
            }
            "tuple" => {
                self.advance();
                self.expect_punct('<', "after 'tuple'")?;
                Ok(ValueType::Tuple(self.list(
                    '>',
                    "in the tuple type",
                    Self::value_type,
                )?))
            }
            _ => Ok(ValueType::Tensor(TensorType::scalar(self.dtype()?))),
        }
    }

    fn dtype(&mut self) -> PResult<DType> {
        let Tok::Ident(word) = self.tok().tok else {
            return Err(self.expected("a dtype such as fp16"));
        };
        match DType::from_name(word) {
            Some(d) => {
                self.advance();
                Ok(d)
            }
            None => Err(self.unknown_type_word(word)),
        }
    }

    fn unknown_type_word(&self, word: &str) -> ParseError {
        let message = if UNSUPPORTED_TYPES.contains(&word) {
            format!(
                "unsupported type '{word}' (ane-mil handles tensors, scalars, dicts and tuples)"
            )
        } else if UNSUPPORTED_DTYPES.contains(&word) {
            let names: Vec<&str> = DType::ALL.iter().map(|d| d.name()).collect();
            format!(
                "unsupported dtype '{word}' (supported: {})",
                names.join(", ")
            )
        } else {
            format!("unknown dtype '{word}'")
        };
        error_at(self.loc(), message)
    }

    /// `tensor<DTYPE, [d0, ?, ...]>`.
    fn tensor_type(&mut self) -> PResult<TensorType> {
        self.advance(); // `tensor`
        self.expect_punct('<', "after 'tensor'")?;
        let dtype = self.dtype()?;
        self.expect_punct(',', "after the dtype")?;
        self.expect_punct('[', "to open the shape")?;
        let shape = self.list(']', "in the shape", Self::dim)?;
        self.expect_punct('>', "to close the tensor type")?;
        Ok(TensorType { dtype, shape })
    }

    fn dim(&mut self) -> PResult<Dim> {
        match &self.tok().tok {
            Tok::Punct('?') => {
                self.advance();
                Ok(Dim::Unknown)
            }
            Tok::Number(s) => {
                let n = s
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| s.parse::<usize>().ok())
                    .flatten()
                    .ok_or_else(|| {
                        error_at(
                            self.loc(),
                            format!(
                                "invalid dimension '{s}' (expected a non-negative integer or '?')"
                            ),
                        )
                    })?;
                self.advance();
                Ok(Dim::Known(n))
            }
            _ => Err(self.expected("a dimension (a non-negative integer or '?')")),
        }
    }

    // ---- values ----

    /// A typed literal: `int32(1)`, `tensor<int32, []>(1)`, `tensor<fp16, [2]>([0, 1])`,
    /// `tensor<fp16, [..]>(BLOBFILE(...))` or `dict<K, V>({{k, v}, ...})`.
    fn value(&mut self) -> PResult<Value> {
        let start = self.loc();
        let what = "a literal value such as int32(1) or tensor<fp16, [2]>([0, 1])";
        let Tok::Ident(word) = self.tok().tok else {
            return Err(self.expected(what));
        };
        match word {
            "tensor" => {
                let ty = self.tensor_type()?;
                self.literal_body(ty, start)
            }
            "dict" => self.dict(),
            "tuple" => Err(error_at(start, "tuple literals are not supported")),
            w => match DType::from_name(w) {
                Some(dtype) => {
                    self.advance();
                    self.literal_body(TensorType::scalar(dtype), start)
                }
                None if matches!(self.peek_next(), Tok::Punct('(' | '<')) => {
                    Err(self.unknown_type_word(w))
                }
                None => Err(self.expected(what)),
            },
        }
    }

    /// `( atom | [atoms] | BLOBFILE(...) )` after a literal's type.
    fn literal_body(&mut self, ty: TensorType, start: Loc) -> PResult<Value> {
        self.expect_punct('(', "to open the literal")?;
        let value = if self.is_ident("BLOBFILE") {
            Value::Blob(self.blobfile(ty)?)
        } else {
            Value::Tensor(self.tensor_data(ty, start)?)
        };
        self.expect_punct(')', "to close the literal")?;
        Ok(value)
    }

    fn tensor_data(&mut self, ty: TensorType, start: Loc) -> PResult<TensorValue> {
        if ty.shape.contains(&Dim::Unknown) {
            return Err(error_at(
                start,
                format!("inline literal of type {ty} needs a known shape"),
            ));
        }
        let expected = ty
            .num_elements()
            .ok_or_else(|| error_at(start, format!("{ty} has too many elements")))?;
        let mut data = TensorData::zeros(ty.dtype, 0);
        if self.eat_punct('[') {
            if !self.is_punct(']') {
                loop {
                    if data.len() == expected {
                        return Err(error_at(
                            self.loc(),
                            format!("{ty} literal has more than {expected} elements"),
                        ));
                    }
                    self.atom(ty.dtype, &mut data)?;
                    if !self.eat_punct(',') {
                        break;
                    }
                }
            }
            if !self.is_punct(']') {
                return Err(self.expected("',' or ']' in the element list"));
            }
            if data.len() != expected {
                return Err(error_at(
                    self.loc(),
                    format!(
                        "{ty} literal has {} elements, expected {expected}",
                        data.len()
                    ),
                ));
            }
            self.advance();
        } else if ty.is_scalar() {
            self.atom(ty.dtype, &mut data)?;
        } else {
            return Err(self.expected(&format!(
                "'[' to open the {expected} elements of the {ty} literal"
            )));
        }
        Ok(TensorValue { ty, data })
    }

    /// One bare element (`-0x1p-3`, `7`, `true`, `"s"`) of `dtype`, appended to `data`.
    fn atom(&mut self, dtype: DType, data: &mut TensorData) -> PResult<()> {
        let start = self.loc();
        let numeric = dtype.is_float() || dtype.is_int();
        let negative = numeric && self.eat_punct('-');
        match data {
            TensorData::Fp16(v) => v.push(self.float(dtype, negative, start, parse_f16)?),
            TensorData::Fp32(v) => v.push(self.float(dtype, negative, start, parse_f32)?),
            TensorData::Int(v) => {
                let n = self.integer(dtype, negative, start)?;
                // In range of a ≤32-bit type, so it fits.
                v.push(n as i64);
            }
            TensorData::UInt64(v) => {
                let n = self.integer(dtype, negative, start)?;
                v.push(n as u64);
            }
            TensorData::Bool(v) => match &self.tok().tok {
                Tok::Ident(s) if *s == "true" || *s == "false" => v.push(*s == "true"),
                _ => return Err(self.expected("a bool literal (true or false)")),
            },
            TensorData::Str(v) => match &self.tok().tok {
                Tok::Str(s) => v.push(s.to_string()),
                _ => return Err(self.expected("a string literal")),
            },
        }
        self.advance();
        Ok(())
    }

    fn float<T>(
        &self,
        dtype: DType,
        negative: bool,
        start: Loc,
        parse: fn(&str, bool) -> Result<T, String>,
    ) -> PResult<T> {
        let text = match &self.tok().tok {
            Tok::Number(s) => s,
            Tok::Ident(s) if *s == "inf" || *s == "nan" => s,
            _ => return Err(self.expected(&format!("{} {dtype} number", article(dtype)))),
        };
        parse(text, negative).map_err(|m| error_at(start, format!("{m} for {dtype}")))
    }

    /// A decimal integer that fits `dtype`, as i128 so every integer dtype fits.
    fn integer(&self, dtype: DType, negative: bool, start: Loc) -> PResult<i128> {
        let Tok::Number(text) = self.tok().tok else {
            return Err(self.expected(&format!("{} {dtype} integer", article(dtype))));
        };
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error_at(
                start,
                format!("invalid {dtype} literal '{text}' (expected a decimal integer)"),
            ));
        }
        let sign = if negative { "-" } else { "" };
        let (lo, hi) = dtype.int_range().unwrap_or((0, 0));
        let out_of_range = || {
            error_at(
                start,
                format!("integer {sign}{text} out of range for {dtype} ({lo} to {hi})"),
            )
        };
        let magnitude: i128 = text.parse().map_err(|_| out_of_range())?;
        let n = if negative { -magnitude } else { magnitude };
        if n < lo || n > hi {
            return Err(out_of_range());
        }
        Ok(n)
    }

    /// `BLOBFILE(path = string("..."), offset = uint64(N))`, keys in any order.
    fn blobfile(&mut self, ty: TensorType) -> PResult<BlobRef> {
        let start = self.loc();
        self.advance(); // `BLOBFILE`
        self.expect_punct('(', "after BLOBFILE")?;
        let mut path = None;
        let mut offset = None;
        let items = self.list(')', "in BLOBFILE(...)", |p| {
            let key_tok = p.loc();
            let key = p.ident("'path' or 'offset'")?;
            p.expect_punct('=', "after the BLOBFILE argument name")?;
            let value_tok = p.loc();
            Ok((key_tok, key, value_tok, p.value()?))
        })?;
        for (key_tok, key, value_tok, value) in items {
            let scalar = value.as_tensor().filter(|t| t.ty.is_scalar());
            match key.as_str() {
                "path" => {
                    let s = scalar.and_then(TensorValue::as_str).ok_or_else(|| {
                        error_at(value_tok, "BLOBFILE path must be a string scalar")
                    })?;
                    if path.replace(s.to_string()).is_some() {
                        return Err(error_at(key_tok, "duplicate BLOBFILE argument 'path'"));
                    }
                }
                "offset" => {
                    let n = match scalar.map(|t| &t.data) {
                        Some(TensorData::UInt64(v)) if v.len() == 1 => v[0],
                        _ => {
                            return Err(error_at(
                                value_tok,
                                "BLOBFILE offset must be a uint64 scalar",
                            ))
                        }
                    };
                    if offset.replace(n).is_some() {
                        return Err(error_at(key_tok, "duplicate BLOBFILE argument 'offset'"));
                    }
                }
                _ => {
                    return Err(error_at(
                        key_tok,
                        format!("unknown BLOBFILE argument '{key}' (expected path and offset)"),
                    ))
                }
            }
        }
        match (path, offset) {
            (Some(path), Some(offset)) => Ok(BlobRef { ty, path, offset }),
            (None, _) => Err(error_at(start, "BLOBFILE is missing its path")),
            (_, None) => Err(error_at(start, "BLOBFILE is missing its offset")),
        }
    }

    /// `dict<K, V>({{k, v}, ...})` with scalar key and value types and bare atoms as entries.
    fn dict(&mut self) -> PResult<Value> {
        self.advance(); // `dict`
        self.expect_punct('<', "after 'dict'")?;
        let (key_type, key_dtype) = self.dict_part_type("key")?;
        self.expect_punct(',', "after the dict key type")?;
        let (value_type, value_dtype) = self.dict_part_type("value")?;
        self.expect_punct('>', "to close the dict type")?;
        self.expect_punct('(', "to open the dict literal")?;
        self.expect_punct('{', "to open the dict entries")?;
        let entries = self.list('}', "in the dict entries", |p| {
            p.expect_punct('{', "to open a dict entry")?;
            let k = p.scalar_atom(key_dtype)?;
            p.expect_punct(',', "between a dict key and its value")?;
            let v = p.scalar_atom(value_dtype)?;
            p.expect_punct('}', "to close the dict entry")?;
            Ok((k, v))
        })?;
        self.expect_punct(')', "to close the dict literal")?;
        Ok(Value::Dict {
            key_type,
            value_type,
            entries,
        })
    }

    fn dict_part_type(&mut self, part: &str) -> PResult<(ValueType, DType)> {
        let tok = self.loc();
        let ty = self.value_type()?;
        match ty.as_tensor().filter(|t| t.is_scalar()).map(|t| t.dtype) {
            Some(d) => Ok((ty, d)),
            None => Err(error_at(
                tok,
                format!("dict {part} type must be a scalar type such as string"),
            )),
        }
    }

    fn scalar_atom(&mut self, dtype: DType) -> PResult<TensorValue> {
        let mut data = TensorData::zeros(dtype, 0);
        self.atom(dtype, &mut data)?;
        Ok(TensorValue {
            ty: TensorType::scalar(dtype),
            data,
        })
    }
}
