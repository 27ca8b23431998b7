//! NumPy `.npy` files, so anyone can feed a kernel and check its outputs with numpy.
//!
//! Reads format versions 1.0, 2.0 and 3.0 (header length as u16 or u32; latin-1 or UTF-8
//! header) and writes 1.0 (2.0 only for headers too long for it), with the header padded so
//! the data starts on a 64-byte boundary, as numpy does. Arrays are C-ordered; Fortran-ordered
//! files are rejected. Element types: `<f2`, `<f4`, `<f8`, `|i1`, `|u1`, `<i2`, `<u2`, `<i4`,
//! `<i8` and `|b1` (`=` native order is little-endian on every supported target; big-endian
//! data is rejected).
//!
//! [`NpyArray::to_mil_bytes`] converts an array into a MIL tensor's raw little-endian bytes:
//! exact dtype matches, lossless widening (`<f2` → fp32, small ints → wider ints) and numpy's
//! default integer type when the values fit (`<i8` → any integer type when every value is in
//! range). Floats are never narrowed: `<f8` (numpy's default float) is refused for fp16 and
//! fp32 tensors, as `<f4` is for fp16, with the `astype` call that converts it, because rounding
//! silently would change the values a kernel is checked with. Anything else is an error.
//!
//! [`read_npy_file`] reads regular files of at most [`MAX_NPY_BYTES`] only.

use ane_mil::DType;
use half::f16;
use std::path::Path;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The largest `.npy` file [`read_npy_file`] reads (4 GiB).
pub const MAX_NPY_BYTES: u64 = 4 << 30;

/// The elements of an array, by element type.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    /// `<f2`.
    F16(Vec<f16>),
    /// `<f4`.
    F32(Vec<f32>),
    /// `<f8`.
    F64(Vec<f64>),
    /// `|i1`.
    I8(Vec<i8>),
    /// `|u1`.
    U8(Vec<u8>),
    /// `<i2`.
    I16(Vec<i16>),
    /// `<u2`.
    U16(Vec<u16>),
    /// `<i4`.
    I32(Vec<i32>),
    /// `<i8`.
    I64(Vec<i64>),
    /// `|b1`.
    Bool(Vec<bool>),
}

/// A C-ordered array: shape (empty for a 0-d array) and elements.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Dimensions, outermost first (empty for a 0-d array).
    pub shape: Vec<usize>,
    /// Elements in C order.
    pub data: NpyData,
}

/// Why a `.npy` file could not be read or converted.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The magic string is missing.
    #[error("not a .npy file (it does not start with \\x93NUMPY)")]
    NotNpy,
    /// A format version other than 1.0, 2.0 and 3.0.
    #[error("unsupported .npy format version {major}.{minor} (1.0, 2.0 and 3.0 are supported)")]
    Version {
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The file is shorter than its header says.
    #[error("the file ends early: {0}")]
    Truncated(String),
    /// The header dictionary cannot be read.
    #[error("malformed .npy header: {0}")]
    Header(String),
    /// The array is stored in Fortran order.
    #[error("Fortran-ordered arrays are not supported; save a C-ordered array (numpy.ascontiguousarray)")]
    FortranOrder,
    /// An element type this reader does not support.
    #[error("unsupported element type {0:?} (supported: <f2 <f4 <f8 |i1 |u1 <i2 <u2 <i4 <i8 |b1)")]
    Dtype(String),
    /// The data size does not match the shape.
    #[error("the data holds {found} bytes but shape {shape:?} of {descr} needs {expected}")]
    Size {
        /// The declared shape.
        shape: Vec<usize>,
        /// The declared element type.
        descr: String,
        /// Bytes the shape needs.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// The values cannot become the requested MIL dtype.
    #[error("{0}")]
    Conversion(String),
    /// Writing the file failed.
    ///
    /// The OS error is part of the message and deliberately not a `source()`, so a report that
    /// prints the error chain does not print it twice.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        error: std::io::Error,
    },
    /// The file could not be read: not a regular file, larger than [`MAX_NPY_BYTES`], or refused
    /// by the operating system. The message names the file.
    #[error(transparent)]
    File(#[from] ane_mil::file::ReadFileError),
}

fn header_error(message: impl Into<String>) -> NpyError {
    NpyError::Header(message.into())
}

impl NpyData {
    /// The numpy type string (`<f4`, `|b1`, …).
    pub fn descr(&self) -> &'static str {
        match self {
            NpyData::F16(_) => "<f2",
            NpyData::F32(_) => "<f4",
            NpyData::F64(_) => "<f8",
            NpyData::I8(_) => "|i1",
            NpyData::U8(_) => "|u1",
            NpyData::I16(_) => "<i2",
            NpyData::U16(_) => "<u2",
            NpyData::I32(_) => "<i4",
            NpyData::I64(_) => "<i8",
            NpyData::Bool(_) => "|b1",
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            NpyData::F16(v) => v.len(),
            NpyData::F32(v) => v.len(),
            NpyData::F64(v) => v.len(),
            NpyData::I8(v) => v.len(),
            NpyData::U8(v) => v.len(),
            NpyData::I16(v) => v.len(),
            NpyData::U16(v) => v.len(),
            NpyData::I32(v) => v.len(),
            NpyData::I64(v) => v.len(),
            NpyData::Bool(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn le_bytes(&self) -> Vec<u8> {
        fn flat<T: Copy, const N: usize>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
            v.iter().flat_map(|&x| f(x)).collect()
        }
        match self {
            NpyData::F16(v) => flat(v, f16::to_le_bytes),
            NpyData::F32(v) => flat(v, f32::to_le_bytes),
            NpyData::F64(v) => flat(v, f64::to_le_bytes),
            NpyData::I8(v) => flat(v, i8::to_le_bytes),
            NpyData::U8(v) => v.clone(),
            NpyData::I16(v) => flat(v, i16::to_le_bytes),
            NpyData::U16(v) => flat(v, u16::to_le_bytes),
            NpyData::I32(v) => flat(v, i32::to_le_bytes),
            NpyData::I64(v) => flat(v, i64::to_le_bytes),
            NpyData::Bool(v) => v.iter().map(|&b| u8::from(b)).collect(),
        }
    }

    fn from_le_bytes(descr: &str, bytes: &[u8]) -> Option<NpyData> {
        fn parse<T, const N: usize>(b: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
            b.chunks_exact(N)
                .map(|c| f(c.try_into().unwrap_or([0; N])))
                .collect()
        }
        Some(match descr {
            "f2" => NpyData::F16(parse(bytes, f16::from_le_bytes)),
            "f4" => NpyData::F32(parse(bytes, f32::from_le_bytes)),
            "f8" => NpyData::F64(parse(bytes, f64::from_le_bytes)),
            "i1" => NpyData::I8(parse(bytes, i8::from_le_bytes)),
            "u1" => NpyData::U8(bytes.to_vec()),
            "i2" => NpyData::I16(parse(bytes, i16::from_le_bytes)),
            "u2" => NpyData::U16(parse(bytes, u16::from_le_bytes)),
            "i4" => NpyData::I32(parse(bytes, i32::from_le_bytes)),
            "i8" => NpyData::I64(parse(bytes, i64::from_le_bytes)),
            "b1" => NpyData::Bool(bytes.iter().map(|&b| b != 0).collect()),
            _ => return None,
        })
    }
}

/// Bytes per element of a type code without byte-order character.
fn item_size(code: &str) -> Option<usize> {
    match code {
        "f2" | "i2" | "u2" => Some(2),
        "f4" | "i4" => Some(4),
        "f8" | "i8" => Some(8),
        "i1" | "u1" | "b1" => Some(1),
        _ => None,
    }
}

/// A value of the header's Python literal dictionary.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Bool(bool),
    Int(u64),
    Tuple(Vec<Literal>),
    Dict(Vec<(Literal, Literal)>),
    Other(String),
}

/// A tiny parser for the Python literals numpy writes in headers.
struct HeaderParser<'a> {
    s: &'a [u8],
    at: usize,
}

impl HeaderParser<'_> {
    fn skip_space(&mut self) {
        while self.at < self.s.len() && self.s[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.s.get(self.at).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), NpyError> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(header_error(format!(
                "expected '{}' at byte {}",
                c as char, self.at
            )))
        }
    }

    /// Items up to `close`, separated by commas (a trailing comma is allowed).
    fn items<T>(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<T, NpyError>,
    ) -> Result<Vec<T>, NpyError> {
        let mut out = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.at += 1;
                return Ok(out);
            }
            out.push(item(self)?);
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(c) if c == close => {}
                _ => return Err(header_error(format!("expected ',' or '{}'", close as char))),
            }
        }
    }

    fn value(&mut self) -> Result<Literal, NpyError> {
        match self.peek() {
            Some(b'{') => {
                self.at += 1;
                let pairs = self.items(b'}', |p| {
                    let key = p.value()?;
                    p.expect(b':')?;
                    Ok((key, p.value()?))
                })?;
                Ok(Literal::Dict(pairs))
            }
            Some(b'(') => {
                self.at += 1;
                Ok(Literal::Tuple(self.items(b')', Self::value)?))
            }
            Some(q @ (b'\'' | b'"')) => {
                let start = self.at + 1;
                let end = self.s[start..]
                    .iter()
                    .position(|&c| c == q)
                    .ok_or_else(|| header_error("unterminated string"))?;
                self.at = start + end + 1;
                Ok(Literal::Str(
                    String::from_utf8_lossy(&self.s[start..start + end]).into_owned(),
                ))
            }
            Some(c) if c.is_ascii_alphanumeric() || c == b'[' => {
                let start = self.at;
                if c == b'[' {
                    // Structured dtypes are lists; keep them as text to report.
                    let end = self.s[start..].iter().position(|&c| c == b']').unwrap_or(0);
                    self.at = start + end + 1;
                } else {
                    while self.at < self.s.len()
                        && (self.s[self.at].is_ascii_alphanumeric() || self.s[self.at] == b'_')
                    {
                        self.at += 1;
                    }
                }
                let word = String::from_utf8_lossy(&self.s[start..self.at]).into_owned();
                Ok(match word.as_str() {
                    "True" => Literal::Bool(true),
                    "False" => Literal::Bool(false),
                    w => match w.trim_end_matches(['L', 'l']).parse::<u64>() {
                        Ok(n) => Literal::Int(n),
                        Err(_) => Literal::Other(word),
                    },
                })
            }
            other => Err(header_error(format!(
                "unexpected {} at byte {}",
                other.map_or("end".to_string(), |c| format!("'{}'", c as char)),
                self.at
            ))),
        }
    }
}

/// The three header fields.
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

fn parse_header(text: &[u8]) -> Result<Header, NpyError> {
    let mut p = HeaderParser { s: text, at: 0 };
    let Literal::Dict(pairs) = p.value()? else {
        return Err(header_error("the header is not a dictionary"));
    };
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == Literal::Str(name.into()))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| header_error(format!("missing key '{name}'")))
    };
    let descr = match field("descr")? {
        Literal::Str(s) => s,
        other => return Err(NpyError::Dtype(format!("{other:?}"))),
    };
    let fortran_order = match field("fortran_order")? {
        Literal::Bool(b) => b,
        other => return Err(header_error(format!("fortran_order is {other:?}"))),
    };
    let shape = match field("shape")? {
        Literal::Tuple(items) => items
            .iter()
            .map(|v| match v {
                Literal::Int(n) => {
                    usize::try_from(*n).map_err(|_| header_error("dimension too large"))
                }
                other => Err(header_error(format!("shape holds {other:?}"))),
            })
            .collect::<Result<_, _>>()?,
        other => return Err(header_error(format!("shape is {other:?}, not a tuple"))),
    };
    Ok(Header {
        descr,
        fortran_order,
        shape,
    })
}

/// Reads a `.npy` file image.
pub fn read_npy(bytes: &[u8]) -> Result<NpyArray, NpyError> {
    if bytes.len() < 8 || &bytes[..6] != MAGIC {
        return Err(NpyError::NotNpy);
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (header_len, start) = match major {
        1 => {
            let b = bytes
                .get(8..10)
                .ok_or_else(|| NpyError::Truncated("no header length".into()))?;
            (usize::from(u16::from_le_bytes([b[0], b[1]])), 10)
        }
        2 | 3 => {
            let b = bytes
                .get(8..12)
                .ok_or_else(|| NpyError::Truncated("no header length".into()))?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        }
        _ => return Err(NpyError::Version { major, minor }),
    };
    let text = bytes
        .get(start..start + header_len)
        .ok_or_else(|| NpyError::Truncated(format!("the header needs {header_len} bytes")))?;
    let header = parse_header(text)?;
    if header.fortran_order {
        return Err(NpyError::FortranOrder);
    }
    // The byte-order mark is the first character, which need not be one byte in a hostile file.
    let first = header.descr.chars().next().map_or(0, char::len_utf8);
    let (order, code) = header.descr.split_at(first);
    let size = item_size(code).ok_or_else(|| NpyError::Dtype(header.descr.clone()))?;
    // Single bytes have no byte order; wider elements must be little-endian.
    let readable = matches!(order, "<" | "=") || (matches!(order, "|" | ">") && size == 1);
    if !readable {
        return Err(NpyError::Dtype(format!(
            "{} (big-endian data is not supported)",
            header.descr
        )));
    }
    let count = header
        .shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| header_error("the shape has too many elements"))?;
    let expected = count
        .checked_mul(size)
        .ok_or_else(|| header_error("the shape has too many elements"))?;
    let data = &bytes[start + header_len..];
    if data.len() != expected {
        return Err(NpyError::Size {
            shape: header.shape,
            descr: header.descr,
            expected,
            found: data.len(),
        });
    }
    let data =
        NpyData::from_le_bytes(code, data).ok_or_else(|| NpyError::Dtype(header.descr.clone()))?;
    Ok(NpyArray {
        shape: header.shape,
        data,
    })
}

/// Reads a `.npy` file (a regular file of at most [`MAX_NPY_BYTES`]).
pub fn read_npy_file(path: &Path) -> Result<NpyArray, NpyError> {
    let bytes = ane_mil::file::read_bounded(path, MAX_NPY_BYTES, "a .npy file")?;
    read_npy(&bytes)
}

/// Writes an array as a `.npy` file image (format 1.0, data aligned to 64 bytes).
pub fn write_npy(array: &NpyArray) -> Vec<u8> {
    let shape = match array.shape.as_slice() {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        array.data.descr()
    );
    // Version 1.0 stores the header length in 2 bytes; longer headers need 2.0 (4 bytes).
    let v1 = dict.len() + 1 + 10 <= usize::from(u16::MAX);
    let prefix = if v1 { 10 } else { 12 };
    let padded = (prefix + dict.len() + 1).div_ceil(64) * 64;
    let header_len = padded - prefix;
    let mut out = Vec::with_capacity(padded + array.data.len() * 8);
    out.extend_from_slice(MAGIC);
    if v1 {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header_len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(header_len as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.resize(padded - 1, b' ');
    out.push(b'\n');
    out.extend_from_slice(&array.data.le_bytes());
    out
}

/// Writes an array to a `.npy` file.
pub fn write_npy_file(path: &Path, array: &NpyArray) -> Result<(), NpyError> {
    std::fs::write(path, write_npy(array)).map_err(|error| NpyError::Io {
        path: path.display().to_string(),
        error,
    })
}

/// The numpy type string of a MIL dtype.
pub fn descr_of(dtype: DType) -> Option<&'static str> {
    Some(match dtype {
        DType::Fp16 => "<f2",
        DType::Fp32 => "<f4",
        DType::Int32 => "<i4",
        DType::Int16 => "<i2",
        DType::Uint16 => "<u2",
        DType::Int8 => "|i1",
        DType::Uint8 => "|u1",
        DType::Bool => "|b1",
        DType::Uint64 | DType::String => return None,
    })
}

fn ints_of(data: &NpyData) -> Option<Vec<i64>> {
    Some(match data {
        NpyData::I8(v) => v.iter().map(|&x| i64::from(x)).collect(),
        NpyData::U8(v) => v.iter().map(|&x| i64::from(x)).collect(),
        NpyData::I16(v) => v.iter().map(|&x| i64::from(x)).collect(),
        NpyData::U16(v) => v.iter().map(|&x| i64::from(x)).collect(),
        NpyData::I32(v) => v.iter().map(|&x| i64::from(x)).collect(),
        NpyData::I64(v) => v.clone(),
        _ => return None,
    })
}

impl NpyArray {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The raw little-endian bytes of a MIL tensor of `dtype` holding these values, when the
    /// conversion is safe (see the module docs).
    pub fn to_mil_bytes(&self, dtype: DType) -> Result<Vec<u8>, NpyError> {
        let refuse = || {
            NpyError::Conversion(format!(
                "an array of {} cannot be used as {dtype}{}",
                self.data.descr(),
                descr_of(dtype).map_or(String::new(), |d| format!(" (save it as {d})"))
            ))
        };
        // Narrowing floats would silently round the values; say how to convert instead.
        let narrowing = |astype: &str| {
            NpyError::Conversion(format!(
                "an array of {} cannot be used as {dtype}: floats are not narrowed silently; \
                 convert it first (numpy: a.astype(numpy.{astype})) and save it as {}",
                self.data.descr(),
                descr_of(dtype).unwrap_or("?")
            ))
        };
        match (dtype, &self.data) {
            (DType::Fp16, NpyData::F16(v)) => Ok(v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            (DType::Fp16, NpyData::F32(_) | NpyData::F64(_)) => Err(narrowing("float16")),
            (DType::Fp32, NpyData::F32(v)) => Ok(v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            (DType::Fp32, NpyData::F16(v)) => {
                Ok(v.iter().flat_map(|x| x.to_f32().to_le_bytes()).collect())
            }
            (DType::Fp32, NpyData::F64(_)) => Err(narrowing("float32")),
            (DType::Bool, NpyData::Bool(v)) => Ok(v.iter().map(|&b| u8::from(b)).collect()),
            (d, data) if d.is_int() && d != DType::Uint64 => {
                let values = ints_of(data).ok_or_else(refuse)?;
                let (lo, hi) = d.int_range().ok_or_else(refuse)?;
                let size = d.size_in_bytes().unwrap_or(4);
                let mut out = Vec::with_capacity(values.len() * size);
                for v in values {
                    if !(lo..=hi).contains(&i128::from(v)) {
                        return Err(NpyError::Conversion(format!(
                            "value {v} does not fit {dtype}"
                        )));
                    }
                    out.extend_from_slice(&v.to_le_bytes()[..size]);
                }
                Ok(out)
            }
            _ => Err(refuse()),
        }
    }

    /// The array of a MIL tensor given as raw little-endian bytes of `dtype`.
    pub fn from_mil_bytes(
        dtype: DType,
        shape: Vec<usize>,
        bytes: &[u8],
    ) -> Result<NpyArray, NpyError> {
        let descr = descr_of(dtype)
            .ok_or_else(|| NpyError::Conversion(format!("{dtype} tensors have no .npy type")))?;
        let code = &descr[1..];
        let expected = shape.iter().product::<usize>() * item_size(code).unwrap_or(1);
        if bytes.len() != expected {
            return Err(NpyError::Size {
                shape,
                descr: descr.to_string(),
                expected,
                found: bytes.len(),
            });
        }
        let data =
            NpyData::from_le_bytes(code, bytes).ok_or_else(|| NpyError::Dtype(descr.into()))?;
        Ok(NpyArray { shape, data })
    }
}

#[cfg(test)]
mod tests;
