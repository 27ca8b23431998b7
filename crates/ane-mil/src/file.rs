//! Bounded reading of the files programs and their weights come from.
//!
//! Every reader of a user-named file goes through [`read_bounded`]: it refuses what is not a
//! regular file *before* opening it (a directory, a FIFO that would block forever, a device such
//! as `/dev/zero` that never ends), refuses a file larger than the caller's limit without reading
//! it, and reserves memory fallibly, so no input can make a reader grow without bound or abort on
//! a failed allocation. Every error names the file and says what to do.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest MIL program text [`read_program_text`] reads (256 MiB). Programs keep their
/// weights in `BLOBFILE`s, so real programs are far smaller; the parser needs a small multiple of
/// the text size in memory.
pub const MAX_PROGRAM_TEXT_BYTES: u64 = 256 << 20;

/// The largest weight blob file [`read_weight_file`] reads (8 GiB: a 4-billion-parameter fp16
/// model in one file).
pub const MAX_WEIGHT_FILE_BYTES: u64 = 8 << 30;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadFileError {
    /// The operating system refused (missing, permission denied, a symlink loop, …).
    ///
    /// The OS error is part of the message and deliberately not a `source()`, so reporters that
    /// print the error chain do not print it twice.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system reported.
        error: std::io::Error,
    },
    /// The path names something other than a regular file.
    #[error("{}: is {kind}, not a regular file; give the path of a file", path.display())]
    NotARegularFile {
        /// The path.
        path: PathBuf,
        /// What it is: `a directory`, `a FIFO`, `a character device`, …
        kind: &'static str,
    },
    /// The file is larger than the reader accepts.
    #[error(
        "{}: is {size} bytes, more than the {limit}-byte limit for {what}; \
         is this the right file?",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size (or, for a file that grew while being read, the bytes read so far).
        size: u64,
        /// The limit.
        limit: u64,
        /// What the file was read as (`a MIL program`, `a weight file`, …).
        what: &'static str,
    },
    /// Memory for the file's contents could not be reserved.
    #[error("{}: cannot reserve {size} bytes of memory to read it", path.display())]
    OutOfMemory {
        /// The file.
        path: PathBuf,
        /// The bytes asked for.
        size: u64,
    },
    /// A text file is not UTF-8.
    #[error("{}: is not UTF-8 text (invalid byte at offset {offset})", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
}

impl ReadFileError {
    /// The error as an `std::io::Error` whose message leaves out the path (for callers that
    /// report paths themselves), keeping the OS error kind where there is one.
    pub fn into_io_error(self) -> std::io::Error {
        use std::io::{Error, ErrorKind};
        match self {
            ReadFileError::Io { error, .. } => error,
            ReadFileError::NotARegularFile { kind, .. } => Error::new(
                ErrorKind::InvalidInput,
                format!("is {kind}, not a regular file"),
            ),
            ReadFileError::TooLarge {
                size, limit, what, ..
            } => Error::new(
                ErrorKind::InvalidData,
                format!("is {size} bytes, more than the {limit}-byte limit for {what}"),
            ),
            ReadFileError::OutOfMemory { size, .. } => Error::new(
                ErrorKind::OutOfMemory,
                format!("cannot reserve {size} bytes of memory to read it"),
            ),
            ReadFileError::NotUtf8 { offset, .. } => Error::new(
                ErrorKind::InvalidData,
                format!("is not UTF-8 text (invalid byte at offset {offset})"),
            ),
        }
    }
}

/// What a non-regular file is, in words.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Reads the whole regular file at `path`, refusing non-regular files and files larger than
/// `limit` bytes; `what` names the kind of file in the size error (`"a MIL program"`).
pub fn read_bounded(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, ReadFileError> {
    let io = |error| ReadFileError::Io {
        path: path.to_path_buf(),
        error,
    };
    // Checked before opening: opening a FIFO for reading blocks until a writer appears.
    let metadata = std::fs::metadata(path).map_err(io)?;
    if !metadata.is_file() {
        return Err(ReadFileError::NotARegularFile {
            path: path.to_path_buf(),
            kind: kind_of(metadata.file_type()),
        });
    }
    let too_large = |size| ReadFileError::TooLarge {
        path: path.to_path_buf(),
        size,
        limit,
        what,
    };
    if metadata.len() > limit {
        return Err(too_large(metadata.len()));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // The path may have been replaced between the two calls; what was opened is what counts.
    let opened = file.metadata().map_err(io)?;
    if !opened.is_file() {
        return Err(ReadFileError::NotARegularFile {
            path: path.to_path_buf(),
            kind: kind_of(opened.file_type()),
        });
    }
    let mut bytes = Vec::new();
    // `len <= limit`, and a limit above usize::MAX is refused by try_reserve as capacity overflow.
    let expected = usize::try_from(opened.len().min(limit)).unwrap_or(usize::MAX);
    bytes
        .try_reserve_exact(expected)
        .map_err(|_| ReadFileError::OutOfMemory {
            path: path.to_path_buf(),
            size: opened.len(),
        })?;
    // One byte past the limit tells a file that grew past it (or a /proc file whose size is
    // reported as 0) from one that is exactly at it.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// [`read_bounded`] for a UTF-8 text file.
pub fn read_text_bounded(
    path: &Path,
    limit: u64,
    what: &'static str,
) -> Result<String, ReadFileError> {
    let bytes = read_bounded(path, limit, what)?;
    String::from_utf8(bytes).map_err(|e| ReadFileError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Reads a MIL program's text (at most [`MAX_PROGRAM_TEXT_BYTES`], a regular UTF-8 file).
pub fn read_program_text(path: &Path) -> Result<String, ReadFileError> {
    read_text_bounded(path, MAX_PROGRAM_TEXT_BYTES, "a MIL program")
}

/// Reads a weight blob file (at most [`MAX_WEIGHT_FILE_BYTES`], a regular file).
pub fn read_weight_file(path: &Path) -> Result<Vec<u8>, ReadFileError> {
    read_bounded(path, MAX_WEIGHT_FILE_BYTES, "a weight file")
}

/// Reads and parses the MIL program at `path` (see [`read_program_text`] and
/// [`crate::parse`]).
pub fn parse_file(path: &Path) -> Result<crate::Program, ProgramFileError> {
    let text = read_program_text(path)?;
    crate::parse(&text).map_err(|error| ProgramFileError::Parse {
        path: path.to_path_buf(),
        error,
    })
}

/// Why [`parse_file`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ProgramFileError {
    /// The file could not be read.
    #[error(transparent)]
    Read(#[from] ReadFileError),
    /// The text does not parse; displayed `file:line:col: message`.
    #[error("{}:{error}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The syntax error.
        error: crate::ParseError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        std::fs::write(&path, [1u8, 2, 3]).unwrap();
        assert_eq!(read_bounded(&path, 3, "a test file").unwrap(), [1, 2, 3]);
        let err = read_bounded(&path, 2, "a test file").unwrap_err();
        assert!(matches!(
            err,
            ReadFileError::TooLarge {
                size: 3,
                limit: 2,
                ..
            }
        ));
        let message = err.to_string();
        assert!(
            message.contains("a.bin") && message.contains("2-byte limit"),
            "{message}"
        );
    }

    #[test]
    fn directories_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_bounded(dir.path(), 100, "a test file").unwrap_err();
        assert!(matches!(
            err,
            ReadFileError::NotARegularFile {
                kind: "a directory",
                ..
            }
        ));
        assert!(err
            .to_string()
            .contains("is a directory, not a regular file"));
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused_without_reading() {
        // /dev/zero never ends: reading it would grow without bound.
        let err = read_program_text(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/zero: is a character device, not a regular file; give the path of a file"
        );
        let err = read_weight_file(Path::new("/dev/zero")).unwrap_err();
        assert!(matches!(err, ReadFileError::NotARegularFile { .. }));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn fifos_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !status.is_ok_and(|s| s.success()) {
            return; // no mkfifo here
        }
        let err = read_program_text(&fifo).unwrap_err();
        assert!(err.to_string().contains("is a FIFO"), "{err}");
    }

    #[test]
    fn missing_files_print_the_os_error_once() {
        let err = read_program_text(Path::new("/no/such/dir/p.mil")).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("/no/such/dir/p.mil: "), "{message}");
        assert_eq!(message.matches("os error").count(), 1, "{message}");
        assert!(std::error::Error::source(&err).is_none());
    }

    #[test]
    fn non_utf8_text_names_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.mil");
        std::fs::write(&path, b"program\xff").unwrap();
        let err = read_program_text(&path).unwrap_err();
        assert!(
            matches!(err, ReadFileError::NotUtf8 { offset: 7, .. }),
            "{err}"
        );
    }

    #[test]
    fn parse_file_reports_file_line_col() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.mil");
        std::fs::write(&path, "program(1.3) {").unwrap();
        let err = parse_file(&path).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("{}:1:", path.display())),
            "{message}"
        );
    }
}
