//! The IDX file format (the format of MNIST and Fashion-MNIST), plain or gzip-compressed.
//!
//! An IDX file is a 4-byte magic number — two zero bytes, an element type code and the number of
//! dimensions — then one big-endian `u32` per dimension, then the elements in row-major order.
//! Type codes: 0x08 unsigned byte, 0x09 signed byte, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64.
//! We read unsigned bytes only (all the image datasets we serve use them) and reject the rest
//! by name. Compression is detected from the gzip magic number (`1f 8b`), never from the file
//! name, so a `.gz` that is not compressed, or a compressed file without `.gz`, both work.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

use super::error::{DataError, Result};

/// The IDX element type code of unsigned bytes.
pub const IDX_TYPE_U8: u8 = 0x08;

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The largest IDX content read, compressed or not (1 GiB: the MNIST-style datasets we serve are
/// under 50 MB; the limit keeps `/dev/zero`-sized inputs and gzip bombs from exhausting memory).
pub const MAX_IDX_BYTES: u64 = 1 << 30;

/// A decoded IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions from the header, outermost first (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// The elements in row-major order; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

/// The IDX name of an element type code, for error messages.
fn type_name(code: u8) -> &'static str {
    match code {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "i16",
        0x0C => "i32",
        0x0D => "f32",
        0x0E => "f64",
        _ => "unknown",
    }
}

/// True when `bytes` starts with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Returns `bytes` decompressed if they are a gzip stream (all members), else unchanged; a stream
/// that decompresses to more than [`MAX_IDX_BYTES`] is an error. `file` names the source in
/// errors.
pub fn gunzip_if_compressed<'a>(bytes: &'a [u8], file: &str) -> Result<Cow<'a, [u8]>> {
    gunzip_with_limit(bytes, file, MAX_IDX_BYTES)
}

/// [`gunzip_if_compressed`] with the output limit `limit`.
fn gunzip_with_limit<'a>(bytes: &'a [u8], file: &str, limit: u64) -> Result<Cow<'a, [u8]>> {
    if !is_gzip(bytes) {
        return Ok(Cow::Borrowed(bytes));
    }
    // The last four bytes of a gzip member hold the uncompressed size modulo 2^32: a good
    // capacity hint for our files (all far below 4 GiB), capped so a bogus trailer cannot make
    // us reserve absurd amounts up front.
    let hint = bytes
        .len()
        .checked_sub(4)
        .map(|at| u32::from_le_bytes(bytes[at..].try_into().expect("4 bytes")) as usize)
        .unwrap_or(0)
        .min(1 << 30)
        .min(usize::try_from(limit).unwrap_or(usize::MAX));
    let gzip_error = |reason: String| DataError::Gzip {
        file: file.to_string(),
        reason,
    };
    let mut out = Vec::new();
    out.try_reserve(hint)
        .map_err(|_| gzip_error(format!("cannot reserve {hint} bytes to decompress it")))?;
    // One byte past the limit tells a stream that exceeds it from one exactly at it.
    flate2::read::MultiGzDecoder::new(bytes)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| gzip_error(e.to_string()))?;
    if out.len() as u64 > limit {
        return Err(DataError::DecompressedTooLarge {
            file: file.to_string(),
            limit,
            what: "IDX data",
        });
    }
    Ok(Cow::Owned(out))
}

/// Reads a whole file and decompresses it if it is gzip; returns the IDX content bytes. A path
/// that is not a regular file (a directory, a FIFO, a device) or is larger than [`MAX_IDX_BYTES`]
/// is refused without reading it.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let bytes = ane_mil::file::read_bounded(path, MAX_IDX_BYTES, "an IDX file")?;
    match gunzip_if_compressed(&bytes, &path.display().to_string())? {
        Cow::Borrowed(_) => Ok(bytes),
        Cow::Owned(decompressed) => Ok(decompressed),
    }
}

/// Parses uncompressed IDX content of unsigned bytes. Takes ownership so the element data is
/// reused in place rather than copied. `file` names the source in errors.
pub fn parse_idx_u8(mut content: Vec<u8>, file: &str) -> Result<IdxArray> {
    let bad_magic = |content: &[u8]| DataError::BadMagic {
        file: file.to_string(),
        found: content[..content.len().min(4)].to_vec(),
    };
    if content.len() < 4 || content[0] != 0 || content[1] != 0 {
        return Err(bad_magic(&content));
    }
    let (code, ndims) = (content[2], content[3] as usize);
    if type_name(code) == "unknown" {
        return Err(bad_magic(&content));
    }
    if code != IDX_TYPE_U8 {
        return Err(DataError::UnsupportedType {
            file: file.to_string(),
            code,
            name: type_name(code),
        });
    }
    if ndims == 0 {
        return Err(DataError::BadHeader {
            file: file.to_string(),
            reason: "zero dimensions".into(),
        });
    }
    let header_len = 4 + 4 * ndims;
    if content.len() < header_len {
        return Err(DataError::BadHeader {
            file: file.to_string(),
            reason: format!(
                "{ndims} dimensions need a {header_len}-byte header but the file has {} bytes",
                content.len()
            ),
        });
    }
    let dims: Vec<usize> = content[4..header_len]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes(c.try_into().expect("4 bytes")) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| DataError::BadHeader {
            file: file.to_string(),
            reason: format!("dimensions {dims:?} overflow"),
        })?;
    let actual = (content.len() - header_len) as u64;
    if actual < expected {
        return Err(DataError::Truncated {
            file: file.to_string(),
            hint: dimension_count_hint(&content, ndims),
            dims,
            expected,
            actual,
        });
    }
    if actual > expected {
        return Err(DataError::TrailingBytes {
            file: file.to_string(),
            hint: dimension_count_hint(&content, ndims),
            dims,
            expected,
            extra: actual - expected,
        });
    }
    content.drain(..header_len);
    Ok(IdxArray {
        dims,
        data: content,
    })
}

/// When the data does not match the header's dimensions but another dimension count (byte 3 of
/// the header) would match it exactly, says so: a wrong count otherwise shows up only as a
/// confusing byte count. Empty when no other count fits.
fn dimension_count_hint(content: &[u8], ndims: usize) -> String {
    for k in 1..=255usize {
        let header_len = 4 + 4 * k;
        if k == ndims || content.len() < header_len {
            continue;
        }
        let dims: Vec<u64> = content[4..header_len]
            .chunks_exact(4)
            .map(|c| u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect();
        let fits = dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .is_some_and(|n| n > 0 && n == (content.len() - header_len) as u64);
        if fits {
            return format!(
                "; the header says {ndims} dimension(s) but the data fits {k}: {dims:?} \
                 (is the dimension count, byte 4 of the file, wrong?)"
            );
        }
    }
    String::new()
}

/// Reads an IDX file of unsigned bytes, plain or gzip-compressed.
pub fn read_idx_u8(path: &Path) -> Result<IdxArray> {
    parse_idx_u8(read_maybe_gzip(path)?, &path.display().to_string())
}

/// Encodes an unsigned-byte array as uncompressed IDX. `data.len()` must equal the product of
/// `dims` and every dimension must fit in a `u32` (this writes files we produce ourselves, so a
/// violation is a programming error and panics).
pub fn encode_idx_u8(dims: &[usize], data: &[u8]) -> Vec<u8> {
    assert!(
        !dims.is_empty() && dims.len() <= 255,
        "IDX rank must be 1..=255"
    );
    assert_eq!(
        dims.iter().product::<usize>(),
        data.len(),
        "IDX data size must match its dimensions"
    );
    let mut out = Vec::with_capacity(4 + 4 * dims.len() + data.len());
    out.extend_from_slice(&[0, 0, IDX_TYPE_U8, dims.len() as u8]);
    for &d in dims {
        let d = u32::try_from(d).expect("IDX dimensions fit in u32");
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn round_trips_plain_and_gzip() {
        let data: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8 * 7).collect();
        let raw = encode_idx_u8(&[2, 3, 4], &data);
        assert_eq!(&raw[..4], &[0, 0, 8, 3]);
        assert_eq!(&raw[4..8], &[0, 0, 0, 2]);
        for bytes in [raw.clone(), gzip(&raw)] {
            let content = gunzip_if_compressed(&bytes, "t").unwrap().into_owned();
            let arr = parse_idx_u8(content, "t").unwrap();
            assert_eq!(arr.dims, vec![2, 3, 4]);
            assert_eq!(arr.data, data);
        }
    }

    #[test]
    fn gzip_is_detected_by_content_not_name() {
        let dir = tempfile::tempdir().unwrap();
        let raw = encode_idx_u8(&[3], &[1, 2, 3]);
        // A compressed file without `.gz` and a plain file named `.gz` both read.
        std::fs::write(dir.path().join("labels"), gzip(&raw)).unwrap();
        std::fs::write(dir.path().join("labels.gz"), &raw).unwrap();
        for name in ["labels", "labels.gz"] {
            let arr = read_idx_u8(&dir.path().join(name)).unwrap();
            assert_eq!(arr.data, vec![1, 2, 3]);
        }
    }

    #[test]
    fn rejects_wrong_magic() {
        for bytes in [
            vec![],
            vec![0, 0],
            vec![1, 0, 8, 1, 0, 0, 0, 0],
            vec![0, 1, 8, 1, 0, 0, 0, 0],
            vec![0, 0, 0x42, 1, 0, 0, 0, 0],
            b"P5\n28 28\n255\n".to_vec(),
        ] {
            let err = parse_idx_u8(bytes.clone(), "f.idx").unwrap_err();
            assert!(
                matches!(err, DataError::BadMagic { .. }),
                "{bytes:?}: {err}"
            );
            assert!(err.to_string().starts_with("f.idx: not an IDX file"));
        }
    }

    #[test]
    fn rejects_unsupported_types_by_name() {
        for (code, name) in [(0x09, "signed byte"), (0x0B, "i16"), (0x0D, "f32")] {
            let err = parse_idx_u8(vec![0, 0, code, 1, 0, 0, 0, 1, 5], "x").unwrap_err();
            match &err {
                DataError::UnsupportedType {
                    code: c, name: n, ..
                } => {
                    assert_eq!((*c, *n), (code, name))
                }
                other => panic!("unexpected {other}"),
            }
            assert!(err.to_string().contains("only 0x08"));
        }
    }

    #[test]
    fn rejects_truncated_header_and_data() {
        let err = parse_idx_u8(vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0], "t").unwrap_err();
        assert!(matches!(err, DataError::BadHeader { .. }), "{err}");
        let err = parse_idx_u8(vec![0, 0, 8, 0], "t").unwrap_err();
        assert!(matches!(err, DataError::BadHeader { .. }), "{err}");

        let mut raw = encode_idx_u8(&[4, 5], &[9; 20]);
        raw.truncate(raw.len() - 3);
        match parse_idx_u8(raw, "imgs").unwrap_err() {
            DataError::Truncated {
                file,
                expected,
                actual,
                ..
            } => assert_eq!((file.as_str(), expected, actual), ("imgs", 20, 17)),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn rejects_trailing_bytes() {
        let mut raw = encode_idx_u8(&[2], &[1, 2]);
        raw.extend_from_slice(&[0, 0]);
        let err = parse_idx_u8(raw, "lbl").unwrap_err();
        assert!(
            matches!(
                err,
                DataError::TrailingBytes {
                    extra: 2,
                    expected: 2,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_dimension_count_is_named() {
        // An image file whose header claims 4 dimensions instead of 3: the fourth "dimension" is
        // the first four pixels (zero), which once read as "N trailing bytes after the 0 bytes".
        let mut raw = encode_idx_u8(&[5, 4, 4], &[0; 80]);
        raw[3] = 4;
        let message = parse_idx_u8(raw, "imgs").unwrap_err().to_string();
        assert_eq!(
            message,
            "imgs: 76 unexpected trailing bytes after the 0 bytes of data its header's dimensions \
             [5, 4, 4, 0] describe; the header says 4 dimension(s) but the data fits 3: [5, 4, 4] \
             (is the dimension count, byte 4 of the file, wrong?)"
        );
        // Claiming 2 instead of 3: the data is short of 5 × 4 bytes... no, it is longer.
        let mut raw = encode_idx_u8(&[5, 4, 4], &[0; 80]);
        raw[3] = 2;
        let message = parse_idx_u8(raw, "imgs").unwrap_err().to_string();
        assert!(message.contains("the data fits 3: [5, 4, 4]"), "{message}");
    }

    #[test]
    fn non_regular_files_are_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_idx_u8(dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("is a directory, not a regular file; give the path of a file"),
            "{err}"
        );
        #[cfg(unix)]
        {
            let err = read_idx_u8(Path::new("/dev/zero")).unwrap_err();
            assert!(err.to_string().contains("is a character device"), "{err}");
        }
    }

    #[test]
    fn gzip_bombs_stop_at_the_limit() {
        let bomb = gzip(&vec![0u8; 1 << 20]);
        assert!(bomb.len() < 5000);
        let err = gunzip_with_limit(&bomb, "bomb.gz", 1 << 19).unwrap_err();
        assert_eq!(
            err.to_string(),
            "bomb.gz: decompresses to more than 524288 bytes, the limit for IDX data; \
             is this the right file?"
        );
        assert_eq!(
            gunzip_with_limit(&bomb, "ok.gz", 1 << 20).unwrap().len(),
            1 << 20
        );
    }

    #[test]
    fn rejects_overflowing_dimensions() {
        let mut raw = vec![0, 0, 8, 4];
        for _ in 0..4 {
            raw.extend_from_slice(&u32::MAX.to_be_bytes());
        }
        let err = parse_idx_u8(raw, "big").unwrap_err();
        assert!(matches!(err, DataError::BadHeader { .. }), "{err}");
    }

    #[test]
    fn rejects_corrupt_and_truncated_gzip() {
        let raw = encode_idx_u8(&[100], &[3; 100]);
        let mut gz = gzip(&raw);
        gz.truncate(gz.len() / 2);
        let err = gunzip_if_compressed(&gz, "cut.gz").unwrap_err();
        assert!(matches!(err, DataError::Gzip { .. }), "{err}");
        assert!(err.to_string().starts_with("cut.gz: corrupt gzip"));

        let err = gunzip_if_compressed(&[0x1f, 0x8b, 0xff, 0xff, 0, 0], "junk.gz").unwrap_err();
        assert!(matches!(err, DataError::Gzip { .. }), "{err}");
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let err = read_idx_u8(Path::new("/nonexistent/train-images-idx3-ubyte")).unwrap_err();
        assert!(matches!(err, DataError::File(_)));
        assert_eq!(err.to_string().matches("os error").count(), 1, "{err}");
        assert!(std::error::Error::source(&err).is_none());
        assert!(err
            .to_string()
            .contains("/nonexistent/train-images-idx3-ubyte"));
    }
}
