//! MIL blob storage v2: the weight files that `BLOBFILE(path = …, offset = …)` values point into
//! (mil-ops.md §3, ane-facts.md §3).
//!
//! A file is a 64-byte header `{u32 count, u32 version = 2, 7 × u64 reserved}` followed by blobs.
//! Each blob is a 64-byte, 64-aligned metadata record
//! `{u32 0xDEADBEEF, u32 dtype code, u64 size in bytes, u64 absolute payload offset,
//! u64 padding bits, 4 × u64 reserved}` immediately followed by its payload. A `BLOBFILE` offset
//! names the **record**, not the payload, so the first blob of every file is `offset = uint64(64)`.
//! All integers are little-endian.
//!
//! - [`writer`]: [`BlobWriter`] builds file images; [`single_tensor_file`] writes the one-tensor
//!   files that are safest on M1–M3;
//! - [`reader`]: [`BlobFile`] parses a file image and reads records; [`read_tensor`] decodes the
//!   tensor a [`BlobRef`](crate::BlobRef) names;
//! - [`refs`]: [`check_refs`] verifies every `BLOBFILE` reference of a program against its
//!   weight files.

pub mod reader;
pub mod refs;
pub mod writer;

pub use reader::{check_blob_ref, read_tensor, BlobFile, BlobRecord};
pub use refs::{check_refs, BlobRefError};
pub use writer::{single_tensor_file, BlobWriter};

use crate::dtype::DType;

/// Size of the file header and of every metadata record, and the alignment of every record.
pub const BLOB_ALIGNMENT: u64 = 64;
/// The only storage format version readers accept.
pub const BLOB_FORMAT_VERSION: u32 = 2;
/// First field of every metadata record (bytes `EF BE AD DE` on disk).
pub const BLOB_SENTINEL: u32 = 0xDEAD_BEEF;

/// The element type code stored in a metadata record (`BlobDataType` in coremltools; unrelated
/// to the MIL.proto `DataType` numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlobDType {
    Fp16,
    Fp32,
    Uint8,
    Int8,
    Bf16,
    Int16,
    Uint16,
    Int4,
    Uint1,
    Uint2,
    Uint4,
    Uint3,
    Uint6,
    Int32,
    Uint32,
    Fp8E4M3Fn,
    Fp8E5M2,
}

impl BlobDType {
    /// Every code the format defines, in code order.
    pub const ALL: [BlobDType; 17] = [
        BlobDType::Fp16,
        BlobDType::Fp32,
        BlobDType::Uint8,
        BlobDType::Int8,
        BlobDType::Bf16,
        BlobDType::Int16,
        BlobDType::Uint16,
        BlobDType::Int4,
        BlobDType::Uint1,
        BlobDType::Uint2,
        BlobDType::Uint4,
        BlobDType::Uint3,
        BlobDType::Uint6,
        BlobDType::Int32,
        BlobDType::Uint32,
        BlobDType::Fp8E4M3Fn,
        BlobDType::Fp8E5M2,
    ];

    /// The code written in the record's `mil_dtype` field (1 = fp16 … 17 = fp8e5m2).
    pub fn code(self) -> u32 {
        match self {
            BlobDType::Fp16 => 1,
            BlobDType::Fp32 => 2,
            BlobDType::Uint8 => 3,
            BlobDType::Int8 => 4,
            BlobDType::Bf16 => 5,
            BlobDType::Int16 => 6,
            BlobDType::Uint16 => 7,
            BlobDType::Int4 => 8,
            BlobDType::Uint1 => 9,
            BlobDType::Uint2 => 10,
            BlobDType::Uint4 => 11,
            BlobDType::Uint3 => 12,
            BlobDType::Uint6 => 13,
            BlobDType::Int32 => 14,
            BlobDType::Uint32 => 15,
            BlobDType::Fp8E4M3Fn => 16,
            BlobDType::Fp8E5M2 => 17,
        }
    }

    /// The dtype for a record code; `None` for codes the format does not define.
    pub fn from_code(code: u32) -> Option<BlobDType> {
        BlobDType::ALL.into_iter().find(|d| d.code() == code)
    }

    /// Bits per element (sub-byte types pack several elements per byte).
    pub fn bits(self) -> u32 {
        match self {
            BlobDType::Uint1 => 1,
            BlobDType::Uint2 => 2,
            BlobDType::Uint3 => 3,
            BlobDType::Int4 | BlobDType::Uint4 => 4,
            BlobDType::Uint6 => 6,
            BlobDType::Uint8 | BlobDType::Int8 | BlobDType::Fp8E4M3Fn | BlobDType::Fp8E5M2 => 8,
            BlobDType::Fp16 | BlobDType::Bf16 | BlobDType::Int16 | BlobDType::Uint16 => 16,
            BlobDType::Fp32 | BlobDType::Int32 | BlobDType::Uint32 => 32,
        }
    }

    /// True for the types narrower than a byte (their records may carry padding bits).
    pub fn is_sub_byte(self) -> bool {
        self.bits() < 8
    }

    /// The blob code for a MIL element type, if that type can live in a weight file and
    /// ane-trainer models it (`bool`, `string` and `uint64` cannot be stored).
    pub fn from_dtype(dtype: DType) -> Option<BlobDType> {
        match dtype {
            DType::Fp16 => Some(BlobDType::Fp16),
            DType::Fp32 => Some(BlobDType::Fp32),
            DType::Uint8 => Some(BlobDType::Uint8),
            DType::Int8 => Some(BlobDType::Int8),
            DType::Int16 => Some(BlobDType::Int16),
            DType::Uint16 => Some(BlobDType::Uint16),
            DType::Int32 => Some(BlobDType::Int32),
            DType::Uint64 | DType::Bool | DType::String => None,
        }
    }

    /// The MIL element type of this code, if ane-trainer's [`DType`] has one.
    pub fn to_dtype(self) -> Option<DType> {
        match self {
            BlobDType::Fp16 => Some(DType::Fp16),
            BlobDType::Fp32 => Some(DType::Fp32),
            BlobDType::Uint8 => Some(DType::Uint8),
            BlobDType::Int8 => Some(DType::Int8),
            BlobDType::Int16 => Some(DType::Int16),
            BlobDType::Uint16 => Some(DType::Uint16),
            BlobDType::Int32 => Some(DType::Int32),
            _ => None,
        }
    }

    /// A short name for messages (`fp16`, `int4`, `fp8e4m3fn`, …).
    pub fn name(self) -> &'static str {
        match self {
            BlobDType::Fp16 => "fp16",
            BlobDType::Fp32 => "fp32",
            BlobDType::Uint8 => "uint8",
            BlobDType::Int8 => "int8",
            BlobDType::Bf16 => "bf16",
            BlobDType::Int16 => "int16",
            BlobDType::Uint16 => "uint16",
            BlobDType::Int4 => "int4",
            BlobDType::Uint1 => "uint1",
            BlobDType::Uint2 => "uint2",
            BlobDType::Uint4 => "uint4",
            BlobDType::Uint3 => "uint3",
            BlobDType::Uint6 => "uint6",
            BlobDType::Int32 => "int32",
            BlobDType::Uint32 => "uint32",
            BlobDType::Fp8E4M3Fn => "fp8e4m3fn",
            BlobDType::Fp8E5M2 => "fp8e5m2",
        }
    }
}

impl std::fmt::Display for BlobDType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a weight file or one of its records could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    #[error("blob file is {len} bytes, shorter than its 64-byte header")]
    ShortHeader { len: usize },
    #[error("blob file has storage format version {found}; only version 2 is supported")]
    WrongVersion { found: u32 },
    #[error("offset {offset} does not point at a blob record: {reason}")]
    NotARecord { offset: u64, reason: &'static str },
    #[error("bad sentinel 0x{found:08X} in the record at offset {offset} (expected 0xDEADBEEF)")]
    BadSentinel { offset: u64, found: u32 },
    #[error("unknown blob dtype code {code} in the record at offset {offset}")]
    UnknownDType { offset: u64, code: u32 },
    #[error(
        "the record at offset {offset} says its payload is at {payload_offset}, \
         but payloads follow their record directly (expected {expected})"
    )]
    PayloadNotAfterRecord {
        offset: u64,
        payload_offset: u64,
        expected: u64,
    },
    #[error(
        "the payload of the record at offset {offset} ({size} bytes at {payload_offset}) \
         runs past the end of the {file_len}-byte file"
    )]
    PayloadPastEof {
        offset: u64,
        payload_offset: u64,
        size: u64,
        file_len: usize,
    },
    #[error("the record at offset {offset} has a size or offset that overflows 64 bits")]
    Overflow { offset: u64 },
    #[error(
        "the record at offset {offset} holds {size} bytes of {dtype}, \
         not a whole number of elements (padding bits {padding_bits})"
    )]
    RaggedPayload {
        offset: u64,
        dtype: BlobDType,
        size: u64,
        padding_bits: u64,
    },
    #[error("{dtype} tensors cannot be stored in a weight blob")]
    UnsupportedDType { dtype: String },
    #[error("value {value} does not fit the blob's element type {dtype}")]
    ValueOutOfRange { value: i64, dtype: DType },
    #[error("tensor data does not match its declared type {ty}")]
    DataTypeMismatch { ty: String },
    #[error("a weight file can hold at most {max} blobs", max = u32::MAX)]
    TooManyBlobs,
    #[error("no weight file named `{path}`")]
    MissingFile { path: String },
    #[error(
        "the record at offset {offset} holds {found} data but the tensor is declared {expected}"
    )]
    DTypeMismatch {
        offset: u64,
        found: BlobDType,
        expected: DType,
    },
    #[error(
        "the record at offset {offset} holds {found} bytes but the declared tensor {ty} \
         needs {expected}"
    )]
    SizeMismatch {
        offset: u64,
        found: u64,
        expected: u64,
        ty: String,
    },
    #[error("the declared tensor {ty} has unknown dimensions; a weight blob needs a known shape")]
    UnknownShape { ty: String },
}

/// `n` rounded up to the next multiple of [`BLOB_ALIGNMENT`]; `None` on overflow.
pub(crate) fn align_up(n: u64) -> Option<u64> {
    n.checked_add(BLOB_ALIGNMENT - 1)
        .map(|m| m / BLOB_ALIGNMENT * BLOB_ALIGNMENT)
}
