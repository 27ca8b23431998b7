//! Fuzzes the weight blob reader: any bytes must parse or fail with an error (never panic, never
//! allocate more than the input holds), every record the walk finds must lie inside the file,
//! and decoding a record as any declared type must agree with its size check.
#![no_main]

use ane_mil::blob::BlobFile;
use ane_mil::{BlobRef, DType, TensorType, WeightFiles};
use libfuzzer_sys::fuzz_target;

const DTYPES: [DType; 7] = [
    DType::Fp16,
    DType::Fp32,
    DType::Int8,
    DType::Uint8,
    DType::Int16,
    DType::Uint16,
    DType::Int32,
];

fuzz_target!(|data: &[u8]| {
    let Ok(file) = BlobFile::parse(data) else {
        return;
    };
    let _ = file.header_count();
    if let Ok(records) = file.records() {
        for r in records {
            assert!(r.payload.len() <= data.len());
            let n = r.num_elements() as usize;
            for dtype in DTYPES {
                let ty = TensorType::new(dtype, [n]);
                let checked = r.check_type(&ty);
                let decoded = r.decode(&ty);
                assert_eq!(checked.is_ok(), decoded.is_ok());
                if let Ok(values) = decoded {
                    assert_eq!(values.len(), n);
                }
            }
        }
    }
    // Lookups by the offsets a program could name, including ones read from the data itself.
    let mut files = WeightFiles::new();
    files.insert("@model_path/weights/w.bin", data.to_vec());
    let tail = data.len().saturating_sub(8);
    let from_data = u64::from_le_bytes(data[tail..].try_into().unwrap_or([0; 8]));
    for offset in [64, 128, 192, from_data, from_data & !63] {
        let _ = file.read(offset);
        for dtype in DTYPES {
            let blob = BlobRef {
                ty: TensorType::new(dtype, [(from_data % 4096) as usize]),
                path: "@model_path/weights/w.bin".into(),
                offset,
            };
            let _ = ane_mil::blob::read_tensor(&files, &blob);
            let _ = ane_mil::blob::check_blob_ref(&files, &blob);
        }
    }
});
