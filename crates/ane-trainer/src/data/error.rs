//! The one error type of the `data` module: every way reading, downloading, locating or batching
//! a dataset can fail, each variant naming the file or URL involved so a user can act on it.

use std::path::PathBuf;

/// Everything that can go wrong while getting image-classification data ready for training.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be read, written, renamed or listed.
    ///
    /// The OS error is part of the message and deliberately not a `source()`, so a report that
    /// prints the error chain does not print it twice.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// What the operating system reported.
        error: std::io::Error,
    },

    /// A data file could not be read: not a regular file (a directory, a FIFO, a device), larger
    /// than the limit, or refused by the operating system. The message names the file.
    #[error(transparent)]
    File(#[from] ane_mil::file::ReadFileError),

    /// A file starts with the gzip magic number but does not decompress.
    #[error("{file}: corrupt gzip stream: {reason}")]
    Gzip {
        /// The file (or embedded resource) being read.
        file: String,
        /// What the decompressor reported.
        reason: String,
    },

    /// A gzip stream decompresses to more than the reader accepts (a gzip bomb, or not a
    /// dataset file).
    #[error("{file}: decompresses to more than {limit} bytes, the limit for {what}; is this the right file?")]
    DecompressedTooLarge {
        /// The file (or embedded resource) being read.
        file: String,
        /// The limit in bytes.
        limit: u64,
        /// What the content was read as (`IDX data`).
        what: &'static str,
    },

    /// A file is not an IDX file: IDX files start with two zero bytes, a type code and a rank.
    #[error("{file}: not an IDX file (first bytes {found:02x?}; IDX files start with 00 00 <type> <ndims>)")]
    BadMagic {
        /// The file being read.
        file: String,
        /// Up to four first bytes of the (decompressed) content.
        found: Vec<u8>,
    },

    /// An IDX file holds elements of a type we do not read (only unsigned bytes, code 0x08).
    #[error("{file}: IDX element type 0x{code:02x} ({name}) is not supported; only 0x08 (unsigned byte) is")]
    UnsupportedType {
        /// The file being read.
        file: String,
        /// The type code found in the header.
        code: u8,
        /// The IDX name of that type, or "unknown".
        name: &'static str,
    },

    /// An IDX header is structurally wrong (zero rank, a size that overflows).
    #[error("{file}: bad IDX header: {reason}")]
    BadHeader {
        /// The file being read.
        file: String,
        /// What is wrong with it.
        reason: String,
    },

    /// An IDX file ends before the data its header promises.
    #[error("{file}: truncated: the header's dimensions {dims:?} promise {expected} bytes after it, but only {actual} are present{hint}")]
    Truncated {
        /// The file being read.
        file: String,
        /// The dimensions the header declares.
        dims: Vec<usize>,
        /// Bytes of element data the header's dimensions require.
        expected: u64,
        /// Bytes actually present after the header.
        actual: u64,
        /// `; …` when another dimension count would fit the data exactly, else empty.
        hint: String,
    },

    /// An IDX file has bytes after the data its header describes.
    #[error("{file}: {extra} unexpected trailing bytes after the {expected} bytes of data its header's dimensions {dims:?} describe{hint}")]
    TrailingBytes {
        /// The file being read.
        file: String,
        /// The dimensions the header declares.
        dims: Vec<usize>,
        /// Bytes of element data the header's dimensions require.
        expected: u64,
        /// How many bytes follow them.
        extra: u64,
        /// `; …` when another dimension count would fit the data exactly, else empty.
        hint: String,
    },

    /// An image or label file has the wrong shape (images must be N×H×W, labels N, all
    /// images of a dataset the same H×W).
    #[error("{file}: wrong dimensions {found:?}; expected {expected}")]
    WrongDimensions {
        /// The file being read.
        file: String,
        /// The dimensions found in its header.
        found: Vec<usize>,
        /// A description of what was expected.
        expected: String,
    },

    /// An image file and its label file disagree on the number of examples.
    #[error("{images_file} holds {images} images but {labels_file} holds {labels} labels")]
    CountMismatch {
        /// The image file.
        images_file: String,
        /// Number of images in it.
        images: usize,
        /// The label file.
        labels_file: String,
        /// Number of labels in it.
        labels: usize,
    },

    /// A label is not a valid class index.
    #[error("{file}: label {label} at index {index} is out of range for {num_classes} classes (valid: 0..={max})", max = num_classes.saturating_sub(1))]
    LabelOutOfRange {
        /// The label file.
        file: String,
        /// Position of the offending label.
        index: usize,
        /// The label value.
        label: u8,
        /// The number of classes the dataset declares.
        num_classes: usize,
    },

    /// The content of a file of a known dataset is not the published content.
    #[error("{file}: SHA-256 of the uncompressed content is {actual}, expected {expected}")]
    ChecksumMismatch {
        /// The file (or URL) checked.
        file: String,
        /// The pinned hash.
        expected: String,
        /// The hash of what we have.
        actual: String,
    },

    /// An HTTP request failed: a status other than 200, a refused connection, a timeout or a
    /// connection closed before the whole body arrived.
    #[error("downloading {url}: {reason}")]
    Http {
        /// The URL requested.
        url: String,
        /// What went wrong.
        reason: String,
    },

    /// A dataset was not found in any of the places searched.
    #[error("{dataset} not found. Looked in:\n{looked}\n{hint}", looked = looked.iter().map(|l| format!("  - {l}")).collect::<Vec<_>>().join("\n"))]
    NotFound {
        /// The dataset asked for.
        dataset: String,
        /// Every place searched, with why it did not qualify.
        looked: Vec<String>,
        /// How to get the data.
        hint: String,
    },

    /// A dataset name we do not know.
    #[error("unknown dataset {0:?}; known datasets: mnist-sample, mnist, fashion-mnist")]
    UnknownDataset(String),

    /// A split or dataset built in code violates an invariant (sizes, labels, dimensions).
    #[error("invalid dataset: {0}")]
    InvalidDataset(String),

    /// Batching was configured in a way that cannot work (zero batch size, a buffer of the
    /// wrong size, a resume cursor past the end of an epoch).
    #[error("invalid batching: {0}")]
    InvalidBatching(String),

    /// No cache directory could be determined from the environment.
    #[error("no cache directory: set ANE_TRAINER_CACHE, XDG_CACHE_HOME or HOME")]
    NoCacheDir,
}

impl DataError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            error,
        }
    }
}

/// Results of the `data` module.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
