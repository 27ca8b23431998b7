//! Building weight file images: header, then one 64-aligned record plus payload per tensor,
//! exactly as coremltools' `StorageWriter` lays them out (mil-ops.md §3.2).

use super::{align_up, BlobDType, BlobError, BLOB_ALIGNMENT, BLOB_FORMAT_VERSION, BLOB_SENTINEL};
use crate::dtype::DType;
use crate::value::{TensorData, TensorValue};
use half::f16;

/// Appends tensors to one weight file image held in memory.
///
/// Every `append_*` returns the offset of the blob's metadata record: the number to write as
/// `BLOBFILE(…, offset = uint64(N))` (64 for the first blob). The header's blob count is kept
/// current after every append, so [`BlobWriter::bytes`] is a complete file at any time.
#[derive(Debug, Clone)]
pub struct BlobWriter {
    bytes: Vec<u8>,
    count: u32,
}

impl Default for BlobWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl BlobWriter {
    /// A file with a header and no blobs (64 bytes).
    pub fn new() -> Self {
        let mut bytes = vec![0u8; BLOB_ALIGNMENT as usize];
        bytes[4..8].copy_from_slice(&BLOB_FORMAT_VERSION.to_le_bytes());
        BlobWriter { bytes, count: 0 }
    }

    /// Number of blobs appended so far.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The file image so far.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The finished file image (it ends right after the last payload, with no trailing padding).
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }

    /// Appends a payload of whole-byte elements, given as raw little-endian bytes.
    ///
    /// Fails for sub-byte dtypes (they need packing and padding bits, which ane-trainer does not
    /// write) and for payloads that are not a whole number of elements.
    pub fn append_raw(&mut self, dtype: BlobDType, payload: &[u8]) -> Result<u64, BlobError> {
        if dtype.is_sub_byte() {
            return Err(BlobError::UnsupportedDType {
                dtype: dtype.name().to_string(),
            });
        }
        let elem_bytes = (dtype.bits() / 8) as usize;
        if payload.len() % elem_bytes != 0 {
            return Err(BlobError::RaggedPayload {
                offset: self.next_record_offset(),
                dtype,
                size: payload.len() as u64,
                padding_bits: 0,
            });
        }
        let count = self.count.checked_add(1).ok_or(BlobError::TooManyBlobs)?;

        let record_offset = self.next_record_offset();
        let payload_offset = record_offset + BLOB_ALIGNMENT;
        // The gap between the previous payload and this record is zero-filled, like the seek
        // past end-of-file in coremltools' writer.
        self.bytes.resize(record_offset as usize, 0);
        let mut record = [0u8; BLOB_ALIGNMENT as usize];
        record[0..4].copy_from_slice(&BLOB_SENTINEL.to_le_bytes());
        record[4..8].copy_from_slice(&dtype.code().to_le_bytes());
        record[8..16].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        record[16..24].copy_from_slice(&payload_offset.to_le_bytes());
        // Bytes 24..64: padding bits (0 for whole-byte types) and four reserved words, all zero.
        self.bytes.extend_from_slice(&record);
        self.bytes.extend_from_slice(payload);

        self.count = count;
        self.bytes[0..4].copy_from_slice(&count.to_le_bytes());
        Ok(record_offset)
    }

    /// Appends fp16 elements (raw IEEE half bit patterns).
    pub fn append_fp16(&mut self, values: &[f16]) -> Result<u64, BlobError> {
        self.append_raw(
            BlobDType::Fp16,
            &le_bytes(values, |v| v.to_bits().to_le_bytes()),
        )
    }

    /// Appends fp32 elements.
    pub fn append_fp32(&mut self, values: &[f32]) -> Result<u64, BlobError> {
        self.append_raw(BlobDType::Fp32, &le_bytes(values, |v| v.to_le_bytes()))
    }

    /// Appends int8 elements.
    pub fn append_int8(&mut self, values: &[i8]) -> Result<u64, BlobError> {
        self.append_raw(BlobDType::Int8, &le_bytes(values, |v| v.to_le_bytes()))
    }

    /// Appends uint8 elements.
    pub fn append_uint8(&mut self, values: &[u8]) -> Result<u64, BlobError> {
        self.append_raw(BlobDType::Uint8, values)
    }

    /// Appends int16 elements.
    pub fn append_int16(&mut self, values: &[i16]) -> Result<u64, BlobError> {
        self.append_raw(BlobDType::Int16, &le_bytes(values, |v| v.to_le_bytes()))
    }

    /// Appends uint16 elements.
    pub fn append_uint16(&mut self, values: &[u16]) -> Result<u64, BlobError> {
        self.append_raw(BlobDType::Uint16, &le_bytes(values, |v| v.to_le_bytes()))
    }

    /// Appends int32 elements.
    pub fn append_int32(&mut self, values: &[i32]) -> Result<u64, BlobError> {
        self.append_raw(BlobDType::Int32, &le_bytes(values, |v| v.to_le_bytes()))
    }

    /// Appends the elements of a tensor literal in its declared dtype.
    ///
    /// Fails if the dtype cannot be stored in a blob, the data variant does not match the dtype,
    /// the element count does not match a known shape, or an integer does not fit the dtype.
    pub fn append_tensor(&mut self, value: &TensorValue) -> Result<u64, BlobError> {
        let dtype = value.ty.dtype;
        let blob_dtype =
            BlobDType::from_dtype(dtype).ok_or_else(|| BlobError::UnsupportedDType {
                dtype: dtype.name().to_string(),
            })?;
        let mismatch = || BlobError::DataTypeMismatch {
            ty: value.ty.to_string(),
        };
        if !value.data.matches_dtype(dtype) {
            return Err(mismatch());
        }
        if let Some(n) = value.ty.num_elements() {
            if n != value.data.len() {
                return Err(mismatch());
            }
        }
        let payload = match &value.data {
            TensorData::Fp16(v) => le_bytes(v, |x| x.to_bits().to_le_bytes()),
            TensorData::Fp32(v) => le_bytes(v, |x| x.to_le_bytes()),
            TensorData::Int(v) => int_payload(v, dtype)?,
            _ => return Err(mismatch()),
        };
        self.append_raw(blob_dtype, &payload)
    }

    /// Where the next record will start: the end of the file rounded up to 64.
    fn next_record_offset(&self) -> u64 {
        // A Vec's length is far below u64::MAX - 63, so this cannot overflow.
        align_up(self.bytes.len() as u64).unwrap_or(u64::MAX)
    }
}

/// A file holding exactly one tensor (the form ane-facts.md §3 recommends for M1–M3); reference
/// it with `offset = uint64(64)`.
pub fn single_tensor_file(value: &TensorValue) -> Result<Vec<u8>, BlobError> {
    let mut writer = BlobWriter::new();
    writer.append_tensor(value)?;
    Ok(writer.finish())
}

/// Concatenates the little-endian encodings of `values`.
fn le_bytes<T: Copy, const N: usize>(values: &[T], encode: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * N);
    for &v in values {
        out.extend_from_slice(&encode(v));
    }
    out
}

/// Encodes widened integers in the storage width of `dtype`, rejecting values out of range.
fn int_payload(values: &[i64], dtype: DType) -> Result<Vec<u8>, BlobError> {
    let (lo, hi) = dtype
        .int_range()
        .ok_or_else(|| BlobError::UnsupportedDType {
            dtype: dtype.name().to_string(),
        })?;
    let width = dtype.size_in_bytes().unwrap_or(1);
    let mut out = Vec::with_capacity(values.len() * width);
    for &v in values {
        if (v as i128) < lo || (v as i128) > hi {
            return Err(BlobError::ValueOutOfRange { value: v, dtype });
        }
        // In range, so the low `width` bytes of the two's complement encoding are the value.
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::TensorType;

    #[test]
    fn empty_writer_is_a_bare_header() {
        let bytes = BlobWriter::new().finish();
        assert_eq!(bytes.len(), 64);
        assert_eq!(&bytes[0..8], &[0, 0, 0, 0, 2, 0, 0, 0]);
        assert!(bytes[8..].iter().all(|&b| b == 0));
    }

    /// The coremltools 9.0 example of mil-ops.md §3.2: one fp16 [64, 64, 1, 1] weight.
    #[test]
    fn coremltools_fp16_example_is_byte_exact() {
        let values: Vec<f16> = (0..64 * 64)
            .map(|i| f16::from_f32(i as f32 * 0.25))
            .collect();
        let tensor = TensorValue {
            ty: TensorType::new(DType::Fp16, [64, 64, 1, 1]),
            data: TensorData::Fp16(values.clone()),
        };
        let bytes = single_tensor_file(&tensor).unwrap();
        assert_eq!(bytes.len(), 8320);
        assert_eq!(&bytes[0..8], &[0x01, 0, 0, 0, 0x02, 0, 0, 0]);
        assert!(bytes[8..64].iter().all(|&b| b == 0));
        assert_eq!(
            &bytes[64..88],
            &[
                0xEF, 0xBE, 0xAD, 0xDE, 0x01, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
            ]
        );
        assert!(bytes[88..128].iter().all(|&b| b == 0));
        assert_eq!(&bytes[128..130], &values[0].to_bits().to_le_bytes());
        assert_eq!(&bytes[8318..8320], &values[4095].to_bits().to_le_bytes());
    }

    /// mil-ops.md §3.2: a 500-element fp32 blob puts the next record at align64(128 + 2000).
    #[test]
    fn second_record_starts_at_the_next_multiple_of_64() {
        let mut w = BlobWriter::new();
        assert_eq!(w.append_fp32(&[1.5; 500]).unwrap(), 64);
        assert_eq!(w.bytes().len(), 2128);
        assert_eq!(w.append_fp16(&[f16::ONE; 3]).unwrap(), 2176);
        let bytes = w.finish();
        assert_eq!(bytes.len(), 2176 + 64 + 6);
        assert_eq!(&bytes[0..4], &2u32.to_le_bytes());
        assert!(
            bytes[2128..2176].iter().all(|&b| b == 0),
            "gap is zero-filled"
        );
        assert_eq!(&bytes[2176..2180], &[0xEF, 0xBE, 0xAD, 0xDE]);
        assert_eq!(&bytes[2192..2200], &2240u64.to_le_bytes());
    }

    #[test]
    fn integers_are_range_checked() {
        let bad = TensorValue {
            ty: TensorType::new(DType::Int8, [2]),
            data: TensorData::Int(vec![1, 200]),
        };
        assert_eq!(
            BlobWriter::new().append_tensor(&bad),
            Err(BlobError::ValueOutOfRange {
                value: 200,
                dtype: DType::Int8
            })
        );
        let neg = TensorValue {
            ty: TensorType::new(DType::Int16, [1]),
            data: TensorData::Int(vec![-2]),
        };
        let bytes = single_tensor_file(&neg).unwrap();
        assert_eq!(&bytes[128..130], &[0xFE, 0xFF]);
    }

    #[test]
    fn unstorable_and_mismatched_tensors_are_rejected() {
        let flag = TensorValue::bool_vec(&[true]);
        assert!(matches!(
            single_tensor_file(&flag),
            Err(BlobError::UnsupportedDType { .. })
        ));
        let wrong_len = TensorValue {
            ty: TensorType::new(DType::Fp32, [3]),
            data: TensorData::Fp32(vec![0.0; 2]),
        };
        assert!(matches!(
            single_tensor_file(&wrong_len),
            Err(BlobError::DataTypeMismatch { .. })
        ));
        let wrong_variant = TensorValue {
            ty: TensorType::new(DType::Fp32, [1]),
            data: TensorData::Fp16(vec![f16::ONE]),
        };
        assert!(matches!(
            single_tensor_file(&wrong_variant),
            Err(BlobError::DataTypeMismatch { .. })
        ));
        assert!(matches!(
            BlobWriter::new().append_raw(BlobDType::Int4, &[0]),
            Err(BlobError::UnsupportedDType { .. })
        ));
        assert!(matches!(
            BlobWriter::new().append_raw(BlobDType::Fp32, &[0; 6]),
            Err(BlobError::RaggedPayload { .. })
        ));
    }
}
