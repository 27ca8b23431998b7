//! The parser never panics: random bytes, random token soup and mutated valid programs all give
//! `Ok` or a positioned `Err`; whatever parses also survives a print/parse round trip.

mod text_common;
use text_common as common;

use ane_mil::{parse, print};
use proptest::prelude::*;

/// Parses `text`; on success checks the round trip, on failure that the position is inside the
/// text (line and column are 1-based).
fn check(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Ok(p) => {
            let printed = print(&p);
            let back =
                parse(&printed).map_err(|e| TestCaseError::fail(format!("{e}\n{printed}")))?;
            prop_assert_eq!(back, p);
        }
        Err(e) => {
            let lines = text.split('\n').count();
            prop_assert!(
                e.line >= 1 && e.line <= lines,
                "line {} of {}",
                e.line,
                lines
            );
            let line_len = text.split('\n').nth(e.line - 1).unwrap().chars().count();
            prop_assert!(
                e.col >= 1 && e.col <= line_len + 1,
                "col {} of {}",
                e.col,
                line_len
            );
            prop_assert!(!e.message.is_empty());
        }
    }
    Ok(())
}

/// Fragments of MIL text, so random sequences get past the first token more often.
const PIECES: &[&str] = &[
    "program",
    "(",
    ")",
    "1.3",
    "1.0",
    "[",
    "]",
    "{",
    "}",
    "func",
    "main",
    "<",
    ">",
    "ios18",
    ",",
    ";",
    "=",
    "->",
    "?",
    "-",
    "tensor",
    "fp16",
    "int32",
    "string",
    "bool",
    "uint64",
    "dict",
    "tuple",
    "BLOBFILE",
    "path",
    "offset",
    "x",
    "y",
    "const",
    "name",
    "val",
    "\"s\"",
    "\"",
    "\\",
    "0x1.5p-17",
    "1e-05",
    ".5",
    "inf",
    "nan",
    "true",
    "64",
    "300",
    "/*",
    "*/",
    "//",
    "\n",
    " ",
    "@",
    "é",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        check(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn random_token_soup_does_not_panic(
        pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..80)
    ) {
        check(&pieces.concat())?;
    }

    #[test]
    fn mutated_programs_do_not_panic(
        p in common::program(),
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), 0u8..4, any::<char>()), 1..4),
    ) {
        let mut chars: Vec<char> = print(&p).chars().collect();
        for (at, kind, c) in edits {
            let i = at.index(chars.len() + 1);
            match kind {
                0 => chars.insert(i, c),
                1 if i < chars.len() => { chars.remove(i); }
                2 if i < chars.len() => chars[i] = c,
                _ => chars.truncate(i),
            }
        }
        check(&chars.into_iter().collect::<String>())?;
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for depth in [100, 10_000, 100_000] {
        let ty = format!("{}fp16{}", "tuple<".repeat(depth), ">".repeat(depth));
        let text = format!("program(1.3) {{ func f<ios18>({ty} x) {{ }} -> (); }}");
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("nested too deeply"), "{err}");
        let text = format!(
            "program(1.3) {{ func f<ios18>() {{ fp16 y = op(x = {}",
            "(".repeat(depth)
        );
        assert!(parse(&text).is_err());
    }
}
