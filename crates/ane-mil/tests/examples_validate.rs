//! The reference example programs parse AND validate; programs made by the builder survive a
//! print/parse round trip in both dialects; parsed programs with errors report line:col.

use ane_mil::builder::{ConvParams, FunctionBuilder, PadSpec, ProgramBuilder};
use ane_mil::{parse, print, validate::validate, DType, Dialect, TensorType};

fn read(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn reference_examples_validate() {
    for name in [
        "ane_facts_example.mil",
        "mil_ops_ios18_example.mil",
        "verbose_ios16_rmsnorm.mil",
        "verbose_ios16_rmsnorm_loose.mil",
    ] {
        let p = parse(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Err(e) = validate(&p) {
            panic!("{name} does not validate:\n{e}");
        }
    }
}

fn small_program(dialect: Dialect) -> ane_mil::Program {
    let mut f = FunctionBuilder::new("main", dialect.opset());
    let x = f
        .input("x", TensorType::new(DType::Fp16, [1, 8, 1, 16]))
        .unwrap();
    let w = f
        .input("w", TensorType::new(DType::Fp16, [4, 8, 1, 1]))
        .unwrap();
    let mut p = ConvParams::new(2);
    p.pad = PadSpec::Valid;
    let y = f.conv(&x, &w, &p).unwrap();
    let s = f.sigmoid(&y).unwrap();
    let z = f.mul(&y, &s).unwrap();
    let r = f.reshape(&z, &[1, 4, 16]).unwrap();
    let sm = f.softmax(&r, -1).unwrap();
    f.output(&sm).unwrap();
    ProgramBuilder::new(dialect)
        .function(f.finish().unwrap())
        .build()
        .unwrap()
}

#[test]
fn builder_programs_round_trip_through_text_in_both_dialects() {
    for dialect in [Dialect::Ios18, Dialect::Ios16] {
        let p = small_program(dialect);
        let text = print(&p);
        let back = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, p);
        validate(&back).unwrap();
        if dialect == Dialect::Ios16 {
            assert!(text.starts_with("program(1.0)"));
            assert!(text.contains("tensor<string, []>(\"valid\")"));
            assert!(text.contains("func main<ios16>"));
        } else {
            assert!(text.starts_with("program(1.3)"));
            assert!(text.contains("string(\"valid\")"));
        }
    }
}

#[test]
fn validation_errors_of_parsed_text_carry_line_and_column() {
    let text = read("ane_facts_example.mil").replace(
        "x = hid)[name = string(\"gate\")]",
        "x = nope)[name = string(\"gate\")]",
    );
    let p = parse(&text).unwrap();
    let err = validate(&p).unwrap_err().to_string();
    assert!(err.contains("nope"), "{err}");
    let line = text.lines().position(|l| l.contains("nope")).unwrap() + 1;
    assert!(err.starts_with(&format!("{line}:")), "{err}");
}
