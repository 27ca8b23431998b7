//! The parser's memory grows with the program it builds, not with the text: it pulls borrowed
//! tokens one at a time instead of holding the text as `Vec<char>` and every token in a vector
//! (a valid 50 MB program once took 3 GB to check, issue 15).

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::fmt::Write;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn a_large_inline_literal_parses_in_memory_proportional_to_its_values() {
    let n = 200_000;
    let mut values = String::new();
    for i in 0..n {
        if i > 0 {
            values.push_str(", ");
        }
        write!(values, "0x1.{:03x}p-3", i % 4096).unwrap();
    }
    let text = format!(
        "program(1.3)\n{{\n    func main<ios18>(tensor<fp16, [{n}]> x) {{\n        \
         tensor<fp16, [{n}]> w = const()[name = string(\"w\"), val = tensor<fp16, [{n}]>([{values}])];\n        \
         tensor<fp16, [{n}]> y = add(x = x, y = w)[name = string(\"y\")];\n    }} -> (y);\n}}\n"
    );
    let region = Region::new(GLOBAL);
    let program = ane_mil::parse(&text).unwrap();
    let allocated = region.change().bytes_allocated;
    assert_eq!(program.functions[0].body.len(), 2);
    // The values themselves take 2 bytes each (400 kB, doubled while the vector grows); the
    // text is about 2.6 MB. Holding it as chars (4 bytes each) plus a 48-byte token per value
    // and comma allocated over 30 MB.
    assert!(
        allocated < text.len(),
        "parsing {} bytes of text allocated {allocated} bytes",
        text.len()
    );
}
