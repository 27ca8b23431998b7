//! Tokenizer for MIL text: identifiers, number tokens, string literals (with escapes), punctuation
//! and `->`, skipping whitespace and `//` / `/* */` comments, with 1-based line:col positions.
//!
//! The lexer stops at the first malformed token and emits an [`Tok::Error`] there instead, so the
//! parser reports whichever problem comes first in the text. Tokens are pulled one at a time and
//! borrow their text from the source, so parsing needs memory for the program model only.

use std::borrow::Cow;
use std::fmt;

/// One token kind with its text, borrowed from the source where possible (a program of tens of
/// megabytes must not become tens of millions of small heap strings).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    /// `[A-Za-z_][A-Za-z0-9_@]*` (keywords such as `func`, `tensor`, `true` are identifiers too).
    Ident(&'a str),
    /// A number as written (`64`, `1.3`, `0x1.5p-17`, `1e-05`), without a sign; validated later
    /// against the dtype it must fit.
    Number(&'a str),
    /// A string literal, escapes already resolved (borrowed when it has none).
    Str(Cow<'a, str>),
    /// One of `( ) [ ] { } < > , ; = ? -`.
    Punct(char),
    /// `->`.
    Arrow,
    /// End of input.
    Eof,
    /// A malformed token; the message says what is wrong.
    Error(String),
}

/// A token and where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Token<'a> {
    pub tok: Tok<'a>,
    pub line: usize,
    pub col: usize,
}

impl Token<'_> {
    /// True for the last token of a stream (`Eof` or an `Error`).
    pub(crate) fn is_last(&self) -> bool {
        matches!(self.tok, Tok::Eof | Tok::Error(_))
    }
}

impl fmt::Display for Tok<'_> {
    /// How a token is named in "found ..." messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) | Tok::Number(s) => write!(f, "'{s}'"),
            Tok::Str(s) => {
                let shown: String = s.chars().take(32).collect();
                let more = if s.chars().count() > 32 { "..." } else { "" };
                write!(f, "string {:?}{more}", shown)
            }
            Tok::Punct(c) => write!(f, "'{c}'"),
            Tok::Arrow => f.write_str("'->'"),
            Tok::Eof => f.write_str("end of input"),
            Tok::Error(m) => f.write_str(m),
        }
    }
}

const PUNCT: &str = "()[]{}<>,;=?-";

/// Splits `src` into tokens; the last token is `Eof` or an `Error`. The parser pulls tokens one
/// at a time from a [`Lexer`] instead, so it never holds more than two.
#[cfg(test)]
pub(crate) fn tokenize(src: &str) -> Vec<Token<'_>> {
    let mut lx = Lexer::new(src);
    let mut out = Vec::new();
    loop {
        let token = lx.next_token();
        let stop = token.is_last();
        out.push(token);
        if stop {
            return out;
        }
    }
}

/// A pull tokenizer over MIL text. After the last token (`Eof` or an `Error`) it keeps
/// returning that token.
pub(crate) struct Lexer<'a> {
    src: &'a str,
    /// Byte offset of the next character.
    i: usize,
    line: usize,
    col: usize,
    /// The last token, once reached.
    last: Option<Token<'a>>,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@'
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src` (a leading byte-order mark is skipped).
    pub(crate) fn new(src: &'a str) -> Self {
        // A byte-order mark is not part of the program.
        let src = src.strip_prefix('\u{FEFF}').unwrap_or(src);
        Lexer {
            src,
            i: 0,
            line: 1,
            col: 1,
            last: None,
        }
    }

    /// The next token.
    pub(crate) fn next_token(&mut self) -> Token<'a> {
        if let Some(last) = &self.last {
            return last.clone();
        }
        let token = match self.skip_trivia() {
            Err(e) => e,
            Ok(()) => {
                let (line, col) = (self.line, self.col);
                let tok = self.token();
                Token { tok, line, col }
            }
        };
        if token.is_last() {
            self.last = Some(token.clone());
        }
        token
    }

    fn peek(&self, ahead: usize) -> Option<char> {
        self.src[self.i..].chars().nth(ahead)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.src[self.i..].chars().next()?;
        self.i += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    /// Skips whitespace and comments; an unterminated block comment is an error token.
    fn skip_trivia(&mut self) -> Result<(), Token<'a>> {
        loop {
            match (self.peek(0), self.peek(1)) {
                (Some(c), _) if c.is_whitespace() => {
                    self.bump();
                }
                (Some('/'), Some('/')) => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                (Some('/'), Some('*')) => {
                    let (line, col) = (self.line, self.col);
                    self.bump();
                    self.bump();
                    loop {
                        match (self.peek(0), self.peek(1)) {
                            (Some('*'), Some('/')) => {
                                self.bump();
                                self.bump();
                                break;
                            }
                            (Some(_), _) => {
                                self.bump();
                            }
                            (None, _) => {
                                return Err(Token {
                                    tok: Tok::Error("unterminated block comment".into()),
                                    line,
                                    col,
                                })
                            }
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn token(&mut self) -> Tok<'a> {
        let Some(c) = self.peek(0) else {
            return Tok::Eof;
        };
        if is_ident_start(c) {
            let start = self.i;
            while self.peek(0).is_some_and(is_ident_char) {
                self.bump();
            }
            return Tok::Ident(&self.src[start..self.i]);
        }
        if c.is_ascii_digit() || (c == '.' && self.peek(1).is_some_and(|d| d.is_ascii_digit())) {
            return Tok::Number(self.number());
        }
        if c == '"' {
            return self.string();
        }
        if c == '-' && self.peek(1) == Some('>') {
            self.bump();
            self.bump();
            return Tok::Arrow;
        }
        if PUNCT.contains(c) {
            self.bump();
            return Tok::Punct(c);
        }
        Tok::Error(format!("unexpected character {c:?}"))
    }

    /// A number token: the maximal run of alphanumerics, `_` and `.`, plus a sign right after an
    /// exponent letter (`e` for decimals, `p` for hex). Its syntax is checked when it is used, so
    /// `0x1.8q3` is one bad literal rather than a number followed by an identifier.
    fn number(&mut self) -> &'a str {
        let hex = self.peek(0) == Some('0') && matches!(self.peek(1), Some('x' | 'X'));
        let start = self.i;
        let mut prev = None;
        while let Some(c) = self.peek(0) {
            let exponent_sign = matches!(c, '+' | '-')
                && match prev {
                    Some('p' | 'P') => true,
                    Some('e' | 'E') => !hex,
                    _ => false,
                };
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' || exponent_sign {
                prev = Some(c);
                self.bump();
            } else {
                break;
            }
        }
        &self.src[start..self.i]
    }

    /// A double-quoted string with escapes `\" \\ \n \t \r \u{HEX}`; it may not span lines.
    fn string(&mut self) -> Tok<'a> {
        self.bump(); // opening quote
        let start = self.i;
        // Borrowed until the first escape; owned from there on.
        let mut owned: Option<String> = None;
        loop {
            let before = self.i;
            match self.bump() {
                None | Some('\n') => {
                    return Tok::Error("unterminated string literal".into());
                }
                Some('"') => {
                    return Tok::Str(match owned {
                        Some(s) => Cow::Owned(s),
                        None => Cow::Borrowed(&self.src[start..before]),
                    })
                }
                Some('\\') => {
                    let s = owned.get_or_insert_with(|| self.src[start..before].to_string());
                    match self.escape_after_backslash() {
                        Ok(c) => s.push(c),
                        Err(m) => return Tok::Error(m),
                    }
                }
                Some(c) => {
                    if let Some(s) = owned.as_mut() {
                        s.push(c);
                    }
                }
            }
        }
    }

    fn escape_after_backslash(&mut self) -> Result<char, String> {
        match self.bump() {
            Some('"') => Ok('"'),
            Some('\\') => Ok('\\'),
            Some('n') => Ok('\n'),
            Some('t') => Ok('\t'),
            Some('r') => Ok('\r'),
            Some('u') => {
                if self.bump() != Some('{') {
                    return Err("invalid escape in string literal: expected '{' after \\u".into());
                }
                let mut hex = String::new();
                while let Some(c) = self.peek(0).filter(|c| c.is_ascii_hexdigit()) {
                    hex.push(c);
                    self.bump();
                }
                if self.bump() != Some('}') || hex.is_empty() || hex.len() > 6 {
                    return Err("invalid \\u{...} escape in string literal: expected 1 to 6 hex digits and '}'".into());
                }
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("invalid escape in string literal: \\u{{{hex}}} is not a Unicode scalar value"))
            }
            None | Some('\n') => Err("unterminated string literal".into()),
            Some(c) => Err(format!(
                "invalid escape '\\{c}' in string literal (expected \\\" \\\\ \\n \\t \\r or \\u{{HEX}})"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok<'_>> {
        tokenize(src).into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn tokens_and_positions() {
        let toks = tokenize("program(1.3)\n  x->y // c\n/* b\n */ -0x1.5p-17 \"a\\n\\u{1F}\"");
        let got: Vec<_> = toks
            .iter()
            .map(|t| (t.tok.clone(), t.line, t.col))
            .collect();
        assert_eq!(
            got,
            vec![
                (Tok::Ident("program"), 1, 1),
                (Tok::Punct('('), 1, 8),
                (Tok::Number("1.3"), 1, 9),
                (Tok::Punct(')'), 1, 12),
                (Tok::Ident("x"), 2, 3),
                (Tok::Arrow, 2, 4),
                (Tok::Ident("y"), 2, 6),
                (Tok::Punct('-'), 4, 5),
                (Tok::Number("0x1.5p-17"), 4, 6),
                (Tok::Str("a\n\u{1F}".into()), 4, 16),
                (Tok::Eof, 4, 27),
            ]
        );
    }

    #[test]
    fn numbers_take_their_exponent_sign() {
        assert_eq!(kinds("1e-05")[0], Tok::Number("1e-05"));
        assert_eq!(kinds("0x1e-5")[0], Tok::Number("0x1e"));
        assert_eq!(kinds("0x1.8q3")[0], Tok::Number("0x1.8q3"));
        assert_eq!(kinds(".5")[0], Tok::Number(".5"));
        assert_eq!(kinds("a@b_1")[0], Tok::Ident("a@b_1"));
    }

    #[test]
    fn errors_stop_the_stream() {
        let toks = tokenize("a \"abc\nd");
        assert_eq!(toks.len(), 2);
        assert_eq!(
            (toks[1].tok.clone(), toks[1].line, toks[1].col),
            (Tok::Error("unterminated string literal".into()), 1, 3)
        );
        assert!(matches!(kinds("a # b")[1], Tok::Error(_)));
        assert!(matches!(kinds("/* x")[0], Tok::Error(_)));
        assert!(matches!(kinds("\"\\q\"")[0], Tok::Error(_)));
        assert!(matches!(kinds("\"\\u{D800}\"")[0], Tok::Error(_)));
        assert!(matches!(kinds("\"\\u{110000}\"")[0], Tok::Error(_)));
    }
}
