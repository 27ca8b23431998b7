//! Fuzzes the IDX reader (MNIST's format, plain or gzip): any bytes must decode or fail with an
//! error, never panic or allocate without bound (a gzip bomb is cut off at the size limit), and
//! what decodes holds exactly the elements its dimensions promise.
#![no_main]

use ane_trainer::data::idx::{gunzip_if_compressed, parse_idx_u8};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(content) = gunzip_if_compressed(data, "fuzz.idx") else {
        return;
    };
    if let Ok(array) = parse_idx_u8(content.into_owned(), "fuzz.idx") {
        let count = array.dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        assert_eq!(count, Some(array.data.len()));
    }
});
