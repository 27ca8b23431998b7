//! Helpers shared by the simulator's integration tests: MIL programs from short text, prepared
//! and run with typed inputs.
#![allow(dead_code)]

pub mod reference;

use ane_mil::{parse, Program, WeightFiles};
use ane_sim::{PreparedProgram, SimError, SimOptions, Simulator};
use half::f16;

/// Adds `[name = string("<output>")]` to body lines without a name attribute, and `;`.
fn named_line(line: &str) -> String {
    let line = line.trim().trim_end_matches(';');
    if line.is_empty() || line.contains("name = string(") {
        return format!("        {line};");
    }
    let left = line.split(" = ").next().unwrap_or("");
    let name = left
        .split([' ', ','])
        .rfind(|s| !s.is_empty())
        .unwrap_or("op");
    format!("        {line}[name = string(\"{name}\")];")
}

/// A `program(1.3)` with one function `main<opset>(params)` whose body lines get op names.
pub fn program_text(opset: &str, params: &str, body: &str, outputs: &str) -> String {
    let lines: Vec<String> = body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(named_line)
        .collect();
    format!(
        "program(1.3)\n{{\n    func main<{opset}>({params}) {{\n{}\n    }} -> ({outputs});\n}}\n",
        lines.join("\n")
    )
}

/// Parses [`program_text`].
pub fn program(opset: &str, params: &str, body: &str, outputs: &str) -> Program {
    let text = program_text(opset, params, body, outputs);
    parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Prepares with the given options and no weight files.
pub fn prepare_with(p: &Program, options: SimOptions) -> Result<PreparedProgram, SimError> {
    Simulator::prepare(p, &WeightFiles::new(), options)
}

/// Prepares an ios18 program with default options, panicking with the error.
pub fn prepared(params: &str, body: &str, outputs: &str) -> PreparedProgram {
    let p = program("ios18", params, body, outputs);
    prepare_with(&p, SimOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs, panicking with the error.
pub fn run(p: &mut PreparedProgram) {
    p.run().unwrap_or_else(|e| panic!("{e}"));
}

/// Values rounded to fp16, as f32.
pub fn h(values: &[f32]) -> Vec<f32> {
    values.iter().map(|&v| f16::from_f32(v).to_f32()).collect()
}

/// The fp16 value nearest to an f64.
pub fn h64(v: f64) -> f32 {
    f16::from_f64(v).to_f32()
}

/// Asserts bit equality (NaNs equal).
pub fn assert_same(got: &[f32], expected: &[f32]) {
    assert_eq!(
        got.len(),
        expected.len(),
        "lengths: {got:?} vs {expected:?}"
    );
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            g.to_bits() == e.to_bits() || (g.is_nan() && e.is_nan()),
            "element {i}: got {g:?}, expected {e:?}\n got: {got:?}\nwant: {expected:?}"
        );
    }
}

/// Asserts |got − expected| ≤ tol · max(1, |expected|).
pub fn assert_close(got: &[f32], expected: &[f64], tol: f64) {
    assert_eq!(got.len(), expected.len(), "lengths");
    for (i, (&g, &e)) in got.iter().zip(expected).enumerate() {
        let ok = (g as f64 - e).abs() <= tol * e.abs().max(1.0) || (g.is_nan() && e.is_nan());
        assert!(
            ok,
            "element {i}: got {g}, expected {e}\n got: {got:?}\nwant: {expected:?}"
        );
    }
}

/// Distance in units in the last place between two fp16 values.
pub fn ulps16(a: f32, b: f32) -> u32 {
    let key = |v: f32| {
        let bits = f16::from_f32(v).to_bits() as i32;
        if bits & 0x8000 != 0 {
            0x8000 - bits
        } else {
            bits
        }
    };
    (key(a) - key(b)).unsigned_abs()
}

/// Deterministic pseudo-random values in `[-scale, scale)` (splitmix64).
pub fn random(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// [`random`] rounded to fp16 values.
pub fn random16(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    h(&random(n, seed, scale))
}

/// Rounds every f64 to the nearest fp16 value.
pub fn round16(values: &[f64]) -> Vec<f32> {
    values.iter().map(|&v| h64(v)).collect()
}
