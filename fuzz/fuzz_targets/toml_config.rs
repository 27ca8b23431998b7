//! Fuzzes the TOML training configuration (`--config FILE`): any text must give settings or an
//! error, never a panic.
#![no_main]

use ane_trainer::trainer::TrainSettings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = TrainSettings::from_toml_str(text);
});
