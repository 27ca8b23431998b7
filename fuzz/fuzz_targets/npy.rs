//! Fuzzes the `.npy` reader: any bytes must read or fail with an error (never panic), what reads
//! writes back to a file that reads as the same array, and conversion to every MIL dtype either
//! succeeds with the right byte count or is refused.
#![no_main]

use ane_mil::DType;
use ane_trainer::npy::{read_npy, write_npy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(array) = read_npy(data) else {
        return;
    };
    let written = write_npy(&array);
    let back = read_npy(&written).expect("a written .npy reads back");
    assert_eq!(back.shape, array.shape);
    assert_eq!(write_npy(&back), written, "the round trip changed the array");
    for dtype in DType::ALL {
        if let (Ok(bytes), Some(size)) = (array.to_mil_bytes(dtype), dtype.size_in_bytes()) {
            assert_eq!(bytes.len(), array.len() * size, "{dtype}");
        }
    }
});
