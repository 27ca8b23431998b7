//! Reading weight file images: header validation, record lookup by `BLOBFILE` offset, a walk
//! over all records, and decoding a record into the elements of a declared tensor type.
//!
//! Every check uses checked arithmetic and slice bounds: a corrupt or truncated file is an error
//! value, never a panic.

use super::{align_up, BlobDType, BlobError, BLOB_ALIGNMENT, BLOB_FORMAT_VERSION, BLOB_SENTINEL};
use crate::types::TensorType;
use crate::value::{BlobRef, TensorData};
use crate::weights::WeightFiles;
use half::f16;

/// A parsed weight file image whose header has been validated.
#[derive(Debug, Clone, Copy)]
pub struct BlobFile<'a> {
    bytes: &'a [u8],
    count: u32,
}

/// One blob: where its record is, its element type and its payload bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobRecord<'a> {
    /// Offset of the metadata record (what `BLOBFILE(offset = …)` holds).
    pub offset: u64,
    pub dtype: BlobDType,
    /// Unused bits in the last payload byte (sub-byte types only; 0 otherwise).
    pub padding_bits: u64,
    /// The payload, `sizeInBytes` long.
    pub payload: &'a [u8],
}

impl<'a> BlobFile<'a> {
    /// Validates the header: at least 64 bytes, storage version 2.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, BlobError> {
        if bytes.len() < BLOB_ALIGNMENT as usize {
            return Err(BlobError::ShortHeader { len: bytes.len() });
        }
        let version = read_u32(bytes, 4);
        if version != BLOB_FORMAT_VERSION {
            return Err(BlobError::WrongVersion { found: version });
        }
        Ok(BlobFile {
            bytes,
            count: read_u32(bytes, 0),
        })
    }

    /// The blob count the header claims. Informational only: some ANE trainers write 1 for
    /// multi-blob files (ane-facts.md §3), so lookups never depend on it.
    pub fn header_count(&self) -> u32 {
        self.count
    }

    /// The file size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True for a file with nothing but its header.
    pub fn is_empty(&self) -> bool {
        self.bytes.len() <= BLOB_ALIGNMENT as usize
    }

    /// The record at `offset` (a `BLOBFILE` offset), fully validated: 64-aligned and past the
    /// header, sentinel, known dtype, payload right after the record and inside the file, size a
    /// whole number of elements.
    pub fn read(&self, offset: u64) -> Result<BlobRecord<'a>, BlobError> {
        let not_a_record = |reason| BlobError::NotARecord { offset, reason };
        if offset < BLOB_ALIGNMENT {
            return Err(not_a_record("it lies inside the 64-byte file header"));
        }
        if offset % BLOB_ALIGNMENT != 0 {
            return Err(not_a_record("records start at multiples of 64"));
        }
        let file_len = self.bytes.len();
        let record_end = offset
            .checked_add(BLOB_ALIGNMENT)
            .ok_or(BlobError::Overflow { offset })?;
        if record_end > file_len as u64 {
            return Err(not_a_record(
                "the 64-byte record would run past the end of the file",
            ));
        }
        // In bounds of a slice, so it fits usize.
        let at = offset as usize;
        let sentinel = read_u32(self.bytes, at);
        if sentinel != BLOB_SENTINEL {
            return Err(BlobError::BadSentinel {
                offset,
                found: sentinel,
            });
        }
        let code = read_u32(self.bytes, at + 4);
        let dtype = BlobDType::from_code(code).ok_or(BlobError::UnknownDType { offset, code })?;
        let size = read_u64(self.bytes, at + 8);
        let payload_offset = read_u64(self.bytes, at + 16);
        let padding_bits = read_u64(self.bytes, at + 24);
        if payload_offset != record_end {
            return Err(BlobError::PayloadNotAfterRecord {
                offset,
                payload_offset,
                expected: record_end,
            });
        }
        let payload_end = payload_offset
            .checked_add(size)
            .ok_or(BlobError::Overflow { offset })?;
        if payload_end > file_len as u64 {
            return Err(BlobError::PayloadPastEof {
                offset,
                payload_offset,
                size,
                file_len,
            });
        }
        let ragged = if dtype.is_sub_byte() {
            padding_bits > 7 || (size == 0 && padding_bits != 0)
        } else {
            padding_bits != 0 || size % u64::from(dtype.bits() / 8) != 0
        };
        if ragged {
            return Err(BlobError::RaggedPayload {
                offset,
                dtype,
                size,
                padding_bits,
            });
        }
        Ok(BlobRecord {
            offset,
            dtype,
            padding_bits,
            payload: &self.bytes[payload_offset as usize..payload_end as usize],
        })
    }

    /// Every record, walking from offset 64 by `align64(payload end)` until the end of the file
    /// (the walk coremltools' reader does). Fails at the first bad record.
    pub fn records(&self) -> Result<Vec<BlobRecord<'a>>, BlobError> {
        let mut records = Vec::new();
        let mut offset = BLOB_ALIGNMENT;
        while offset < self.bytes.len() as u64 {
            let record = self.read(offset)?;
            let payload_end = record.offset + BLOB_ALIGNMENT + record.payload.len() as u64;
            records.push(record);
            offset = align_up(payload_end).ok_or(BlobError::Overflow { offset })?;
        }
        Ok(records)
    }
}

impl BlobRecord<'_> {
    /// Number of elements in the payload.
    pub fn num_elements(&self) -> u64 {
        let bits = self.payload.len() as u64 * 8 - self.padding_bits;
        bits / u64::from(self.dtype.bits())
    }

    /// Checks that this record can hold a tensor of type `ty`: same element type, and exactly
    /// `elements × element size` bytes.
    pub fn check_type(&self, ty: &TensorType) -> Result<(), BlobError> {
        if BlobDType::from_dtype(ty.dtype) != Some(self.dtype) {
            return Err(BlobError::DTypeMismatch {
                offset: self.offset,
                found: self.dtype,
                expected: ty.dtype,
            });
        }
        let unknown_shape = || BlobError::UnknownShape { ty: ty.to_string() };
        let elements = ty.num_elements().ok_or_else(unknown_shape)?;
        let elem_bytes = ty.dtype.size_in_bytes().ok_or_else(unknown_shape)?;
        let expected = (elements as u64).checked_mul(elem_bytes as u64);
        if expected != Some(self.payload.len() as u64) {
            return Err(BlobError::SizeMismatch {
                offset: self.offset,
                found: self.payload.len() as u64,
                expected: expected.unwrap_or(u64::MAX),
                ty: ty.to_string(),
            });
        }
        Ok(())
    }

    /// The payload decoded as the elements of `ty` (checked with [`BlobRecord::check_type`]).
    pub fn decode(&self, ty: &TensorType) -> Result<TensorData, BlobError> {
        self.check_type(ty)?;
        let p = self.payload;
        Ok(match self.dtype {
            BlobDType::Fp16 => TensorData::Fp16(
                p.chunks_exact(2)
                    .map(|c| f16::from_bits(u16::from_le_bytes([c[0], c[1]])))
                    .collect(),
            ),
            BlobDType::Fp32 => TensorData::Fp32(
                p.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            BlobDType::Int8 => TensorData::Int(p.iter().map(|&b| i64::from(b as i8)).collect()),
            BlobDType::Uint8 => TensorData::Int(p.iter().map(|&b| i64::from(b)).collect()),
            BlobDType::Int16 => TensorData::Int(
                p.chunks_exact(2)
                    .map(|c| i64::from(i16::from_le_bytes([c[0], c[1]])))
                    .collect(),
            ),
            BlobDType::Uint16 => TensorData::Int(
                p.chunks_exact(2)
                    .map(|c| i64::from(u16::from_le_bytes([c[0], c[1]])))
                    .collect(),
            ),
            BlobDType::Int32 => TensorData::Int(
                p.chunks_exact(4)
                    .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                    .collect(),
            ),
            // check_type only accepts the dtypes above (those with a MIL DType).
            other => {
                return Err(BlobError::UnsupportedDType {
                    dtype: other.name().to_string(),
                })
            }
        })
    }
}

/// Looks up the record a `BLOBFILE` reference names and checks it against the declared type,
/// without decoding the payload.
pub fn check_blob_ref(files: &WeightFiles, blob: &BlobRef) -> Result<(), BlobError> {
    find_record(files, blob)?.check_type(&blob.ty)
}

/// The elements of the tensor a `BLOBFILE` reference names, decoded in its declared type.
pub fn read_tensor(files: &WeightFiles, blob: &BlobRef) -> Result<TensorData, BlobError> {
    find_record(files, blob)?.decode(&blob.ty)
}

fn find_record<'a>(files: &'a WeightFiles, blob: &BlobRef) -> Result<BlobRecord<'a>, BlobError> {
    let bytes = files
        .get(&blob.path)
        .ok_or_else(|| BlobError::MissingFile {
            path: blob.path.clone(),
        })?;
    BlobFile::parse(bytes)?.read(blob.offset)
}

/// Callers guarantee `at + 4 <= bytes.len()`.
fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

/// Callers guarantee `at + 8 <= bytes.len()`.
fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::BlobWriter;
    use crate::dtype::DType;
    use proptest::prelude::*;

    fn fp16_file() -> Vec<u8> {
        let mut w = BlobWriter::new();
        w.append_fp16(&[f16::ONE, f16::from_f32(-2.5)]).unwrap();
        w.finish()
    }

    fn blob(ty: TensorType, offset: u64) -> BlobRef {
        BlobRef {
            ty,
            path: "@model_path/weights/w.bin".to_string(),
            offset,
        }
    }

    fn files_with(bytes: Vec<u8>) -> WeightFiles {
        let mut files = WeightFiles::new();
        files.insert("@model_path/weights/w.bin", bytes);
        files
    }

    #[test]
    fn round_trip_of_every_writable_dtype() {
        let mut w = BlobWriter::new();
        let fp16: Vec<f16> = [0.0, -0.0, 1.0, 65504.0, 6e-8, f32::INFINITY]
            .iter()
            .map(|&x| f16::from_f32(x))
            .collect();
        let fp32 = [1.0f32, -3.25, f32::MIN_POSITIVE, f32::MAX, 1e-45];
        let int8 = [i8::MIN, -1, 0, i8::MAX];
        let uint8 = [0u8, 1, 255];
        let int16 = [i16::MIN, 7, i16::MAX];
        let uint16 = [0u16, 513, u16::MAX];
        let int32 = [i32::MIN, -5, 0, i32::MAX];
        let offsets = [
            w.append_fp16(&fp16).unwrap(),
            w.append_fp32(&fp32).unwrap(),
            w.append_int8(&int8).unwrap(),
            w.append_uint8(&uint8).unwrap(),
            w.append_int16(&int16).unwrap(),
            w.append_uint16(&uint16).unwrap(),
            w.append_int32(&int32).unwrap(),
        ];
        assert!(offsets.iter().all(|o| o % 64 == 0));
        let files = files_with(w.finish());
        let read =
            |dtype, n, offset| read_tensor(&files, &blob(TensorType::new(dtype, [n]), offset));

        assert_eq!(read(DType::Fp16, 6, offsets[0]), Ok(TensorData::Fp16(fp16)));
        assert_eq!(
            read(DType::Fp32, 5, offsets[1]),
            Ok(TensorData::Fp32(fp32.to_vec()))
        );
        let ints = |v: Vec<i64>| Ok(TensorData::Int(v));
        let widen = |v: &[i32]| v.iter().map(|&x| i64::from(x)).collect::<Vec<_>>();
        assert_eq!(
            read(DType::Int8, 4, offsets[2]),
            ints(vec![-128, -1, 0, 127])
        );
        assert_eq!(read(DType::Uint8, 3, offsets[3]), ints(vec![0, 1, 255]));
        assert_eq!(
            read(DType::Int16, 3, offsets[4]),
            ints(vec![-32768, 7, 32767])
        );
        assert_eq!(
            read(DType::Uint16, 3, offsets[5]),
            ints(vec![0, 513, 65535])
        );
        assert_eq!(read(DType::Int32, 4, offsets[6]), ints(widen(&int32)));

        let file = BlobFile::parse(files.get("@model_path/weights/w.bin").unwrap()).unwrap();
        assert_eq!(file.header_count(), 7);
        let walked: Vec<u64> = file.records().unwrap().iter().map(|r| r.offset).collect();
        assert_eq!(walked, offsets);
    }

    #[test]
    fn tensor_values_round_trip_through_append_tensor() {
        use crate::value::TensorValue;
        let value = TensorValue {
            ty: TensorType::new(DType::Uint16, [2, 2]),
            data: TensorData::Int(vec![1, 2, 3, 65535]),
        };
        let mut w = BlobWriter::new();
        w.append_fp32(&[0.0; 17]).unwrap();
        let offset = w.append_tensor(&value).unwrap();
        let files = files_with(w.finish());
        assert_eq!(
            read_tensor(&files, &blob(value.ty.clone(), offset)),
            Ok(value.data)
        );
    }

    #[test]
    fn header_corruptions() {
        assert_eq!(
            BlobFile::parse(&[1, 0, 0, 0, 2]).unwrap_err(),
            BlobError::ShortHeader { len: 5 }
        );
        let mut bytes = fp16_file();
        bytes[4] = 1;
        assert_eq!(
            BlobFile::parse(&bytes).unwrap_err(),
            BlobError::WrongVersion { found: 1 }
        );
    }

    #[test]
    fn offsets_that_are_not_records() {
        let bytes = fp16_file();
        let file = BlobFile::parse(&bytes).unwrap();
        for offset in [0, 32, 65, 128, 1 << 20, u64::MAX - 10] {
            let err = file.read(offset).unwrap_err();
            assert!(
                matches!(
                    err,
                    BlobError::NotARecord { .. }
                        | BlobError::BadSentinel { .. }
                        | BlobError::Overflow { .. }
                ),
                "offset {offset}: {err}"
            );
        }
        assert!(matches!(
            file.read(0),
            Err(BlobError::NotARecord { offset: 0, .. })
        ));
        // 128 is the payload, 64-aligned but no record.
        let mut two = BlobWriter::new();
        two.append_fp32(&[0.0; 32]).unwrap();
        two.append_fp32(&[0.0; 32]).unwrap();
        let two = two.finish();
        assert!(matches!(
            BlobFile::parse(&two).unwrap().read(128),
            Err(BlobError::BadSentinel {
                offset: 128,
                found: 0
            })
        ));
    }

    #[test]
    fn record_corruptions() {
        let set = |at: usize, bytes: &[u8]| {
            let mut file = fp16_file();
            file[at..at + bytes.len()].copy_from_slice(bytes);
            file
        };
        let read64 = |bytes: &[u8]| BlobFile::parse(bytes).unwrap().read(64).unwrap_err();

        assert_eq!(
            read64(&set(64, &[0xEF, 0xBE, 0xAD, 0xDF])),
            BlobError::BadSentinel {
                offset: 64,
                found: 0xDFAD_BEEF
            }
        );
        assert_eq!(
            read64(&set(68, &[99])),
            BlobError::UnknownDType {
                offset: 64,
                code: 99
            }
        );
        assert_eq!(
            read64(&set(72, &[5])),
            BlobError::PayloadPastEof {
                offset: 64,
                payload_offset: 128,
                size: 5,
                file_len: 132
            }
        );
        assert_eq!(
            read64(&set(72, &u64::MAX.to_le_bytes())),
            BlobError::Overflow { offset: 64 }
        );
        assert_eq!(
            read64(&set(80, &[0])),
            BlobError::PayloadNotAfterRecord {
                offset: 64,
                payload_offset: 0,
                expected: 128
            }
        );
        assert!(matches!(
            read64(&set(88, &[3])),
            BlobError::RaggedPayload {
                padding_bits: 3,
                ..
            }
        ));
        assert!(matches!(
            read64(&set(72, &[3])),
            BlobError::RaggedPayload { size: 3, .. }
        ));
        // Truncated inside the record, and inside the payload.
        let full = fp16_file();
        assert!(matches!(
            read64(&full[..100]),
            BlobError::NotARecord { offset: 64, .. }
        ));
        assert!(matches!(
            read64(&full[..130]),
            BlobError::PayloadPastEof { size: 4, .. }
        ));
        // The walk reports trailing garbage after the last payload.
        let mut trailing = fp16_file();
        trailing.resize(200, 0xAB);
        assert!(matches!(
            BlobFile::parse(&trailing).unwrap().records(),
            Err(BlobError::BadSentinel { offset: 192, .. })
                | Err(BlobError::NotARecord { offset: 192, .. })
        ));
    }

    #[test]
    fn declared_type_mismatches() {
        let files = files_with(fp16_file());
        assert!(matches!(
            read_tensor(&files, &blob(TensorType::new(DType::Fp32, [1]), 64)),
            Err(BlobError::DTypeMismatch {
                found: BlobDType::Fp16,
                expected: DType::Fp32,
                ..
            })
        ));
        assert!(matches!(
            read_tensor(&files, &blob(TensorType::new(DType::Fp16, [3]), 64)),
            Err(BlobError::SizeMismatch {
                found: 4,
                expected: 6,
                ..
            })
        ));
        let unknown = TensorType {
            dtype: DType::Fp16,
            shape: vec![crate::types::Dim::Unknown],
        };
        assert!(matches!(
            read_tensor(&files, &blob(unknown, 64)),
            Err(BlobError::UnknownShape { .. })
        ));
        let mut missing = blob(TensorType::new(DType::Fp16, [2]), 64);
        missing.path = "@model_path/weights/other.bin".into();
        assert!(matches!(
            read_tensor(&files, &missing),
            Err(BlobError::MissingFile { .. })
        ));
    }

    #[test]
    fn sub_byte_records_are_read_but_not_decoded() {
        let mut bytes = BlobWriter::new().finish();
        let mut record = [0u8; 64];
        record[0..4].copy_from_slice(&BLOB_SENTINEL.to_le_bytes());
        record[4..8].copy_from_slice(&BlobDType::Int4.code().to_le_bytes());
        record[8..16].copy_from_slice(&2u64.to_le_bytes());
        record[16..24].copy_from_slice(&128u64.to_le_bytes());
        record[24..32].copy_from_slice(&4u64.to_le_bytes());
        bytes.extend_from_slice(&record);
        bytes.extend_from_slice(&[0x21, 0x03]);
        let file = BlobFile::parse(&bytes).unwrap();
        let rec = file.read(64).unwrap();
        assert_eq!(rec.dtype, BlobDType::Int4);
        assert_eq!(rec.num_elements(), 3);
        assert!(rec.decode(&TensorType::new(DType::Int8, [3])).is_err());
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400),
                                    offset in any::<u64>()) {
            if let Ok(file) = BlobFile::parse(&bytes) {
                let _ = file.read(offset);
                let _ = file.read(offset % 512);
                let _ = file.records();
            }
        }

        #[test]
        fn mutated_files_never_panic(edits in proptest::collection::vec((0usize..300, any::<u8>()), 1..8),
                                     cut in 0usize..400,
                                     offset in 0u64..320) {
            let mut w = BlobWriter::new();
            w.append_fp16(&[f16::ONE; 7]).unwrap();
            w.append_int32(&[1, 2, 3]).unwrap();
            let mut bytes = w.finish();
            for (at, value) in edits {
                if at < bytes.len() {
                    bytes[at] = value;
                }
            }
            bytes.truncate(cut);
            let files = files_with(bytes.clone());
            if let Ok(file) = BlobFile::parse(&bytes) {
                if let Ok(records) = file.records() {
                    for r in records {
                        prop_assert!(r.payload.len() <= bytes.len());
                        let _ = r.num_elements();
                    }
                }
                if let Ok(r) = file.read(offset) {
                    let _ = r.decode(&TensorType::new(DType::Fp16, [7]));
                }
            }
            let _ = read_tensor(&files, &blob(TensorType::new(DType::Int32, [3]), offset));
        }
    }
}
