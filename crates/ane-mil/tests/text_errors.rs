//! Malformed MIL text fails with the line:col of the offending token and a message naming the
//! problem. In each case `§` marks where the error must be reported (it is removed before parsing).

use ane_mil::{parse, ParseError};

/// Parses `marked` with its `§` removed; checks the error position is at the marker and the
/// message contains `needle`.
#[track_caller]
fn fails_at(marked: &str, needle: &str) -> ParseError {
    let at = marked.find('§').expect("test text needs a § marker");
    let before = &marked[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
    let text = marked.replacen('§', "", 1);
    let err = match parse(&text) {
        Ok(p) => panic!("expected an error, parsed {p:?}"),
        Err(e) => e,
    };
    assert_eq!(
        (err.line, err.col),
        (line, col),
        "wrong position for error: {err}\n{text}"
    );
    assert!(
        err.message.contains(needle),
        "message {:?} does not contain {needle:?}",
        err.message
    );
    assert_eq!(err.to_string(), format!("{line}:{col}: {}", err.message));
    err
}

const HEAD: &str = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 4]> x) {\n";

/// A valid program with `stmt` as its only statement.
fn with_statement(stmt: &str) -> String {
    format!("{HEAD}        {stmt}\n    }} -> (y);\n}}\n")
}

#[test]
fn the_base_program_is_valid() {
    let ok = with_statement("tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"y\")];");
    parse(&ok).unwrap();
}

#[test]
fn truncated_text() {
    fails_at("§", "unexpected end of input, expected 'program'");
    fails_at(
        "program(§",
        "unexpected end of input, expected a program version such as 1.3",
    );
    fails_at(
        "program(1.3)\n{§",
        "unexpected end of input, expected 'func' or '}'",
    );
    fails_at(
        "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, §",
        "unexpected end of input, expected a dimension",
    );
    fails_at(
        &format!("{HEAD}        tensor<int32, [2]> s = const()[val = tensor<int32, [2]>([1, §"),
        "unexpected end of input, expected an int32 integer",
    );
    fails_at(
        &format!("{HEAD}        tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"y\")];\n    }} -> (y)§"),
        "unexpected end of input, expected ';' after the function's outputs",
    );
    fails_at(
        &format!("{HEAD}        tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"y\")];\n    }} -> (y);\n§"),
        "unexpected end of input, expected 'func' or '}'",
    );
    fails_at(
        &format!("{HEAD}        tensor<fp16, [1, 4]> y = relu(x = x)[name = string(§\"y"),
        "unterminated string literal",
    );
}

#[test]
fn bad_types() {
    fails_at(
        &with_statement("§fp17 y = relu(x = x);"),
        "unknown dtype 'fp17'",
    );
    fails_at(
        "program(1.3)\n{\n    func main<ios18>(tensor<§fp17, [1, 4]> x) {\n    } -> ();\n}\n",
        "unknown dtype 'fp17'",
    );
    fails_at(
        &with_statement("tensor<§bf16, [2]> y = relu(x = x);"),
        "unsupported dtype 'bf16'",
    );
    fails_at(
        &with_statement("§state<tensor<fp16, [2]>> y = relu(x = x);"),
        "unsupported type 'state'",
    );
    fails_at(
        &with_statement("tensor<fp16, [§-1]> y = relu(x = x);"),
        "expected a dimension",
    );
    fails_at(
        &with_statement("tensor<fp16, [§1.5]> y = relu(x = x);"),
        "invalid dimension '1.5'",
    );
    fails_at(
        "program(1.3)\n{\n    func main<§ios19>() {\n    } -> ();\n}\n",
        "unknown opset 'ios19'",
    );
    let deep = format!("{}fp16{}", "tuple<".repeat(40), ">".repeat(40));
    let err = parse(&with_statement(&format!("{deep} y = relu(x = x);"))).unwrap_err();
    assert!(err.message.contains("nested too deeply"), "{err}");
}

#[test]
fn literals_of_the_wrong_arity_or_shape() {
    fails_at(
        &with_statement("tensor<int32, [2]> y = const()[val = tensor<int32, [2]>([1, 2, §3])];"),
        "tensor<int32, [2]> literal has more than 2 elements",
    );
    fails_at(
        &with_statement("tensor<int32, [3]> y = const()[val = tensor<int32, [3]>([1, 2§])];"),
        "tensor<int32, [3]> literal has 2 elements, expected 3",
    );
    fails_at(
        &with_statement("tensor<int32, [2]> y = const()[val = tensor<int32, [2]>(§5)];"),
        "expected '[' to open the 2 elements of the tensor<int32, [2]> literal",
    );
    fails_at(
        &with_statement("tensor<int32, [2]> y = const()[val = §tensor<int32, [?]>([1, 2])];"),
        "needs a known shape",
    );
    fails_at(
        &with_statement("tensor<int32, [2]> y = const()[val = tensor<int32, [2]>([§[1], [2]])];"),
        "expected an int32 integer, found '['",
    );
}

#[test]
fn bad_literals() {
    fails_at(
        &with_statement("int8 y = const()[val = int8(§300)];"),
        "integer 300 out of range for int8 (-128 to 127)",
    );
    fails_at(
        &with_statement("uint8 y = const()[val = uint8(§-1)];"),
        "integer -1 out of range for uint8 (0 to 255)",
    );
    fails_at(
        &with_statement(
            "int32 y = const()[val = int32(§99999999999999999999999999999999999999999)];",
        ),
        "out of range for int32",
    );
    fails_at(
        &with_statement("int32 y = const()[val = int32(§1.5)];"),
        "invalid int32 literal '1.5'",
    );
    fails_at(
        &with_statement("bool y = const()[val = bool(§1)];"),
        "expected a bool literal (true or false), found '1'",
    );
    fails_at(
        &with_statement("string y = const()[val = string(§valid)];"),
        "expected a string literal, found 'valid'",
    );
    fails_at(
        &with_statement("fp16 y = const()[val = fp16(§\"x\")];"),
        "expected an fp16 number",
    );
    fails_at(
        &with_statement("fp16 y = const()[val = fp16(§0x1.g)];"),
        "invalid float literal '0x1.g'",
    );
    fails_at(
        &with_statement("fp16 y = const()[val = fp16(§0x1p)];"),
        "invalid float literal '0x1p'",
    );
    fails_at(
        &with_statement("fp32 y = const()[val = fp32(§-0x1.8q3)];"),
        "invalid float literal '0x1.8q3' (expected",
    );
    fails_at(
        &with_statement("fp16 y = const()[val = §tuple<fp16>(1)];"),
        "tuple literals are not supported",
    );
    fails_at(
        &with_statement("fp16 y = const()[val = §bogus];"),
        "expected a literal value",
    );
    fails_at(
        &with_statement("fp16 y = const()[val = §fp17(1)];"),
        "unknown dtype 'fp17'",
    );
    fails_at(
        &with_statement("tensor<fp16, [2]> y = const()[val = tensor<fp16, [2]>(BLOBFILE(path = string(\"w\"), offset = §int32(64)))];"),
        "BLOBFILE offset must be a uint64 scalar",
    );
    fails_at(
        &with_statement("tensor<fp16, [2]> y = const()[val = tensor<fp16, [2]>(§BLOBFILE(path = string(\"w\")))];"),
        "BLOBFILE is missing its offset",
    );
    fails_at(
        &with_statement(
            "tensor<fp16, [2]> y = const()[val = tensor<fp16, [2]>(BLOBFILE(§size = uint64(2)))];",
        ),
        "unknown BLOBFILE argument 'size'",
    );
    fails_at(
        "program(1.3)\n[buildInfo = dict<§tensor<string, [2]>, string>({})]\n{\n}\n",
        "dict key type must be a scalar type",
    );
    fails_at(
        "program(1.3)\n[buildInfo = dict<string, string>({{\"k\", §3}})]\n{\n}\n",
        "expected a string literal, found '3'",
    );
}

#[test]
fn bad_strings_and_comments() {
    fails_at(
        &with_statement("string y = const()[val = string(§\"abc)];"),
        "unterminated string literal",
    );
    fails_at(
        &with_statement("string y = const()[val = string(§\"a\\qb\")];"),
        "invalid escape '\\q'",
    );
    fails_at(
        &with_statement("string y = const()[val = string(§\"\\u{D800}\")];"),
        "not a Unicode scalar value",
    );
    fails_at(
        &with_statement("§/* never closed"),
        "unterminated block comment",
    );
    fails_at(
        &with_statement("tensor<fp16, [1, 4]> y = relu(x = x) §# comment;"),
        "unexpected character '#'",
    );
}

#[test]
fn missing_punctuation() {
    fails_at(
        &format!("{HEAD}        tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"y\")]\n        §tensor<fp16, [1, 4]> z = relu(x = y)[name = string(\"z\")];\n    }} -> (y);\n}}\n"),
        "expected ';' to end the statement, found 'tensor'",
    );
    fails_at(
        &format!("{HEAD}        tensor<fp16, [1, 4]> y = relu(x = x);\n    }} §(y);\n}}\n"),
        "expected '->' after the function body, found '('",
    );
    fails_at(
        &with_statement("tensor<fp16, [1, 4]> y §relu(x = x);"),
        "expected '=' after the statement's results, found 'relu'",
    );
    fails_at(
        &with_statement("tensor<fp16, [1, 4]> y = relu(x §x);"),
        "expected '=' after the argument name, found 'x'",
    );
    fails_at(
        &with_statement("tensor<fp16, [1, 4]> y = relu(x = x§;"),
        "expected ',' or ')' in the argument list, found ';'",
    );
    fails_at(
        &with_statement("tensor<fp16, [1, 4]> y = relu(x = §5);"),
        "expected a variable name or a typed literal such as int32(1), found '5'",
    );
    fails_at(
        &with_statement("tensor<fp16, [1, 4]> y = relu(x = x, §x = x);"),
        "duplicate argument 'x'",
    );
    fails_at(
        &with_statement(
            "tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"a\"), §name = string(\"b\")];",
        ),
        "duplicate attribute 'name'",
    );
    fails_at(
        &with_statement("tensor<fp16, [1, 4]> y = §5;"),
        "expected an op name, found '5'",
    );
}

#[test]
fn garbage_after_the_program() {
    fails_at(
        "program(1.3)\n{\n}\n§foo",
        "unexpected 'foo' after the end of the program",
    );
    fails_at(
        "program(1.3)\n{\n}\n§}",
        "unexpected '}' after the end of the program",
    );
    fails_at(
        "program(1.3)\n{\n}\n §\"open",
        "unterminated string literal",
    );
    fails_at("program(§1.3.)\n{\n}\n", "invalid program version '1.3.'");
}

/// Cutting an example program right before any space leaves complete tokens, so the error is
/// always "unexpected end of input" at the very end of the cut text.
#[test]
fn every_truncation_of_the_examples_reports_end_of_input_at_the_end() {
    for name in [
        "ane_facts_example.mil",
        "mil_ops_ios18_example.mil",
        "verbose_ios16_rmsnorm.mil",
    ] {
        let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        let mut cuts = 0;
        for (i, _) in text.match_indices(' ') {
            let prefix = &text[..i];
            let err = parse(prefix).expect_err("a cut program must not parse");
            let line = prefix.matches('\n').count() + 1;
            let col = prefix.rsplit('\n').next().unwrap().chars().count() + 1;
            assert!(
                err.message
                    .starts_with("unexpected end of input, expected "),
                "{name} cut at {i}: {err}"
            );
            assert_eq!((err.line, err.col), (line, col), "{name} cut at {i}: {err}");
            cuts += 1;
        }
        assert!(cuts > 100, "{name}: only {cuts} cuts");
    }
}

#[test]
fn a_byte_order_mark_is_skipped() {
    parse("\u{FEFF}program(1.3)\n{\n}\n").unwrap();
}
