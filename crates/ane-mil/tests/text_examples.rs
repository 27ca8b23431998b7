//! The example programs of our reference notes (ane-facts.md §1.7, mil-ops.md §2.2) and a
//! 1.0-dialect program parse; the canonical ones print back byte for byte; a loosely written
//! program reads as its canonical twin.

use ane_mil::{parse, print, DType, Opset, Program, TensorValue, Value};

fn read(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse_file(name: &str) -> Program {
    parse(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn reference_examples_parse_and_print_back_exactly() {
    for name in [
        "ane_facts_example.mil",
        "mil_ops_ios18_example.mil",
        "verbose_ios16_rmsnorm.mil",
    ] {
        let text = read(name);
        let p = parse_file(name);
        assert_eq!(print(&p), text, "{name} does not print back as written");
        assert_eq!(parse(&print(&p)).unwrap(), p);
    }
}

#[test]
fn ane_facts_example_has_the_expected_structure() {
    let p = parse_file("ane_facts_example.mil");
    assert_eq!(p.version, "1.3");
    assert!(!p.verbose_scalars());
    let main = p.main().unwrap();
    assert_eq!(main.opset, Opset::Ios18);
    assert_eq!(main.params.len(), 1);
    assert_eq!(main.body.len(), 10);
    assert_eq!(main.outputs, vec!["out".to_string()]);
    let conv = &main.body[5];
    assert_eq!(conv.op_type, "conv");
    assert_eq!(conv.name_attr(), Some("hid"));
    let keys: Vec<&str> = conv.inputs.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "dilations",
            "groups",
            "pad",
            "pad_type",
            "strides",
            "weight",
            "x"
        ]
    );
    let Value::Blob(w) = &main.body[4].attributes["val"] else {
        panic!("wfc should be a BLOBFILE const")
    };
    assert_eq!(w.path, "@model_path/weights/fc.bin");
    assert_eq!(w.offset, 64);
    assert_eq!(w.ty.known_shape(), Some(vec![128, 64, 1, 1]));
    let concat = &main.body[9];
    assert_eq!(
        concat.inputs["values"],
        ane_mil::Argument::Tuple(vec![
            ane_mil::Binding::Var("hid".into()),
            ane_mil::Binding::Var("gate".into()),
        ])
    );
    let Value::Dict { entries, .. } = &p.attributes["buildInfo"] else {
        panic!("buildInfo should be a dict")
    };
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[2].1.as_str(), Some(""));
}

#[test]
fn mil_ops_example_epsilon_is_the_fp16_subnormal() {
    let p = parse_file("mil_ops_ios18_example.mil");
    let eps = &p.main().unwrap().body[7];
    let v = eps.attributes["val"].as_tensor().unwrap();
    assert_eq!(v.ty.dtype, DType::Fp16);
    assert_eq!(v, &TensorValue::fp16(half::f16::from_bits(0x00A8)));
}

#[test]
fn verbose_dialect_reads_scalars_as_rank0_tensors() {
    let p = parse_file("verbose_ios16_rmsnorm.mil");
    assert!(p.verbose_scalars());
    let keep = &p.main().unwrap().body[2];
    assert_eq!(
        keep.attributes["val"],
        Value::Tensor(TensorValue::bool(true))
    );
    // The same statement in the bare spelling is the same operation.
    let bare = parse(
        "program(1.3) { func main<ios16>() { bool keep = const()[name = string(\"keep\"), val = bool(true)]; } -> (keep); }",
    )
    .unwrap();
    assert_eq!(bare.functions[0].body[0], *keep);
}

#[test]
fn loosely_written_program_equals_its_canonical_twin() {
    let loose = parse_file("verbose_ios16_rmsnorm_loose.mil");
    let canonical = parse_file("verbose_ios16_rmsnorm.mil");
    assert_eq!(loose, canonical);
    assert_eq!(print(&loose), read("verbose_ios16_rmsnorm.mil"));
}

#[test]
fn switching_dialect_changes_only_the_spelling() {
    let mut p = parse_file("mil_ops_ios18_example.mil");
    p.set_dialect(ane_mil::Dialect::Ios16);
    let text = print(&p);
    assert!(text.starts_with("program(1.0)\n[buildInfo = dict<tensor<string, []>, tensor<string, []>>({{\"coremlc-version\", \"3505.4.1\"}})]\n"));
    assert!(text.contains("tensor<int32, []> gr = const()[name = tensor<string, []>(\"gr\"), val = tensor<int32, []>(1)];"));
    assert!(text.contains("BLOBFILE(path = tensor<string, []>(\"@model_path/weights/weight.bin\"), offset = tensor<uint64, []>(64))"));
    assert!(text.contains("func main<ios16>("));
    assert_eq!(parse(&text).unwrap(), p);
}
