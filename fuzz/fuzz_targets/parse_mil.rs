//! Fuzzes the MIL text parser: any UTF-8 input must parse or fail with an error (never panic), and
//! whatever parses must print and parse back to the same program.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(program) = ane_mil::parse(text) {
        let printed = ane_mil::print(&program);
        let back = ane_mil::parse(&printed)
            .unwrap_or_else(|e| panic!("printed program does not parse: {e}\n{printed}"));
        assert_eq!(back, program, "round trip changed the program:\n{printed}");
    }
});
