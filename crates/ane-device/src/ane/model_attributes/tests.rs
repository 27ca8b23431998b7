//! Parsing hand-built attribute trees and the layout decision, on any OS.

use super::*;
use ane_mil::{DType, TensorType};

fn n(v: f64) -> AttrValue {
    AttrValue::Number(v)
}

fn s(v: &str) -> AttrValue {
    AttrValue::string(v)
}

fn arr(items: Vec<AttrValue>) -> AttrValue {
    AttrValue::Array(items)
}

/// A live entry shaped like the Espresso report (ane-facts §7).
fn live(name: &str, width: f64, height: f64, strides: &[f64]) -> AttrValue {
    let planes = strides
        .iter()
        .enumerate()
        .map(|(i, &st)| AttrValue::dict([("PlaneID", n(i as f64)), (ROW_STRIDE, n(st))]))
        .collect();
    AttrValue::dict([
        ("Name", s(name)),
        ("Symbol", s(name)),
        ("Width", n(width)),
        ("Height", n(height)),
        ("4CCFormat", n(875_704_438.0)),
        (PLANE_DESCRIPTOR, arr(planes)),
    ])
}

fn network(name: &str, inputs: Vec<AttrValue>, outputs: Vec<AttrValue>) -> AttrValue {
    AttrValue::dict([
        ("Name", s(name)),
        (LIVE_INPUT_LIST, arr(inputs)),
        (LIVE_OUTPUT_LIST, arr(outputs)),
    ])
}

fn description(inputs: &[&str], outputs: &[&str], procedures: &[(&str, f64)]) -> AttrValue {
    let names = |l: &[&str]| arr(l.iter().map(|x| s(x)).collect());
    AttrValue::dict([
        ("kANEFModelInputSymbolsArrayKey", names(inputs)),
        ("kANEFModelOutputSymbolsArrayKey", names(outputs)),
        (
            "kANEFModelProcedureNameToIDMapKey",
            AttrValue::dict(procedures.iter().map(|(k, v)| (*k, n(*v)))),
        ),
    ])
}

fn attrs(description: AttrValue, networks: Vec<AttrValue>) -> AttrValue {
    AttrValue::dict([
        (MODEL_DESCRIPTION, description),
        (NETWORK_STATUS_LIST, arr(networks)),
    ])
}

fn spec(name: &str, shape: &[usize]) -> SurfaceSpec {
    SurfaceSpec::new(name, &TensorType::new(DType::Fp16, shape.iter().copied())).unwrap()
}

fn plan(inputs: &[(&str, &[usize])], outputs: &[(&str, &[usize])]) -> SurfacePlan {
    SurfacePlan {
        inputs: inputs.iter().map(|(n, sh)| spec(n, sh)).collect(),
        outputs: outputs.iter().map(|(n, sh)| spec(n, sh)).collect(),
    }
}

#[test]
fn values_answer_only_for_their_own_kind() {
    let d = AttrValue::dict([("a", n(3.0)), ("b", s("x"))]);
    assert_eq!(d.get("a").and_then(AttrValue::as_count), Some(3));
    assert_eq!(d.get("b").and_then(AttrValue::as_str), Some("x"));
    assert_eq!(d.get("c"), None);
    assert_eq!(s("x").get("a"), None);
    assert_eq!(n(1.0).as_array(), None);
    assert_eq!(n(1.0).as_str(), None);
    for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, 1e300] {
        assert_eq!(n(bad).as_count(), None, "{bad}");
    }
    assert_eq!(s("64").as_count(), None, "strings are not counts");
    assert_eq!(AttrValue::Null.as_count(), None);
    assert_eq!(n(0.0).as_count(), Some(0));
}

#[test]
fn find_searches_nested_trees_within_a_depth_limit() {
    let deep = AttrValue::dict([("outer", arr(vec![AttrValue::dict([("k", n(7.0))])]))]);
    assert_eq!(deep.find("k").and_then(AttrValue::as_count), Some(7));
    let mut chain = AttrValue::dict([("k", n(1.0))]);
    for _ in 0..MAX_DEPTH + 5 {
        chain = arr(vec![chain]);
    }
    assert_eq!(chain.find("k"), None, "too deep");
}

#[test]
fn the_espresso_shaped_report_is_read_for_procedure_zero() {
    // Two procedures; the name map says procedure 0 is "0@small".
    let tree = attrs(
        description(
            &["x", "x"],
            &["y@output", "y@output"],
            &[("0@default", 1.0), ("0@small", 0.0)],
        ),
        vec![
            network(
                "0@default",
                vec![live("x", 480.0, 480.0, &[512.0, 512.0])],
                vec![live("y@output", 960.0, 960.0, &[960.0, 960.0])],
            ),
            network(
                "0@small",
                vec![live("x", 320.0, 320.0, &[320.0, 320.0])],
                vec![live("y@output", 640.0, 640.0, &[640.0, 640.0])],
            ),
        ],
    );
    let io = parse_reported_io(&tree);
    assert_eq!(io.network.as_deref(), Some("0@small"));
    assert!(io.problems.is_empty(), "{:?}", io.problems);
    let x = io.find(Role::Input, "x").unwrap();
    assert_eq!((x.width, x.height), (Some(320), Some(320)));
    assert_eq!(x.row_stride(), Ok(Some(320)));
    assert_eq!(x.plane_descriptors, 2);
    let y = io
        .find(Role::Output, "y")
        .expect("the @output suffix is dropped");
    assert_eq!(y.row_stride(), Ok(Some(640)));
    assert!(
        io.find(Role::Input, "y").is_none(),
        "outputs are not inputs"
    );
    assert_eq!(io.input_symbols, ["x", "x"]);
}

#[test]
fn procedure_indices_pick_the_symbols_of_procedure_zero() {
    let mut d = description(&["a", "b"], &["p", "q"], &[]);
    if let AttrValue::Dict(map) = &mut d {
        map.insert(
            "ANEFModelProcedures".into(),
            arr(vec![
                AttrValue::dict([
                    ("ANEFModelProcedureID", n(1.0)),
                    ("ANEFModelInputSymbolIndexArray", arr(vec![n(0.0)])),
                    ("ANEFModelOutputSymbolIndexArray", arr(vec![n(0.0)])),
                ]),
                AttrValue::dict([
                    ("ANEFModelProcedureID", n(0.0)),
                    ("ANEFModelInputSymbolIndexArray", arr(vec![n(1.0), n(0.0)])),
                    ("ANEFModelOutputSymbolIndexArray", arr(vec![n(1.0)])),
                ]),
            ]),
        );
    }
    let io = parse_reported_io(&AttrValue::dict([(MODEL_DESCRIPTION, d)]));
    assert_eq!(io.input_symbols, ["b", "a"]);
    assert_eq!(io.output_symbols, ["q"]);
    assert!(io.inputs.is_empty() && io.network.is_none());
}

#[test]
fn empty_or_odd_trees_report_nothing_and_never_panic() {
    for tree in [
        AttrValue::dict::<&str>([]),
        AttrValue::Null,
        s("garbage"),
        arr(vec![n(1.0), AttrValue::Other("<NSData>".into())]),
        AttrValue::dict([(NETWORK_STATUS_LIST, arr(vec![]))]),
        AttrValue::dict([(MODEL_DESCRIPTION, s("not a dict"))]),
        AttrValue::dict([(
            NETWORK_STATUS_LIST,
            arr(vec![network("n", vec![n(3.0), s("junk")], vec![])]),
        )]),
    ] {
        let io = parse_reported_io(&tree);
        assert!(io.inputs.is_empty() && io.outputs.is_empty(), "{tree:?}");
    }
    let io = parse_reported_io(&AttrValue::dict([(NETWORK_STATUS_LIST, s("x"))]));
    assert!(io.problems[0].contains("not an array"), "{:?}", io.problems);
}

#[test]
fn malformed_numbers_become_problems_not_strides() {
    let entry = AttrValue::dict([
        ("Name", s("x")),
        ("Width", s("wide")),
        (
            PLANE_DESCRIPTOR,
            arr(vec![AttrValue::dict([(ROW_STRIDE, n(-64.0))])]),
        ),
    ]);
    let tree = AttrValue::dict([(
        NETWORK_STATUS_LIST,
        arr(vec![network("only", vec![entry], vec![])]),
    )]);
    let io = parse_reported_io(&tree);
    let x = io.find(Role::Input, "x").unwrap();
    assert_eq!(x.row_stride(), Ok(None));
    assert_eq!(x.width, None);
    assert_eq!(io.problems.len(), 2, "{:?}", io.problems);
    assert!(io.problems.iter().any(|p| p.contains("RowStride")));
}

#[test]
fn several_unnamed_procedures_are_ambiguous() {
    let tree = attrs(
        description(&[], &[], &[]),
        vec![
            network("a", vec![live("x", 8.0, 1.0, &[64.0])], vec![]),
            network("b", vec![live("x", 8.0, 1.0, &[32.0])], vec![]),
        ],
    );
    let io = parse_reported_io(&tree);
    assert!(io.inputs.is_empty());
    assert!(io.problems[0].contains("procedure 0"), "{:?}", io.problems);
}

#[test]
fn disagreeing_plane_strides_are_an_error_and_a_plane_stride_is_read() {
    let b = ReportedBuffer {
        row_strides: vec![64, 128],
        ..ReportedBuffer::default()
    };
    assert!(b.row_stride().unwrap_err().contains("[64, 128]"));
    let entry = AttrValue::dict([
        ("Symbol", s("x")),
        (
            PLANE_DESCRIPTOR,
            arr(vec![AttrValue::dict([
                (ROW_STRIDE, n(64.0)),
                (PLANE_STRIDE, n(4096.0)),
            ])]),
        ),
    ]);
    let tree = AttrValue::dict([(
        NETWORK_STATUS_LIST,
        arr(vec![network("n", vec![entry], vec![])]),
    )]);
    let io = parse_reported_io(&tree);
    assert_eq!(io.inputs[0].plane_stride, Some(4096));
}

// ---- the decision ----

fn reported(width: Option<usize>, strides: &[usize], plane: Option<usize>) -> ReportedBuffer {
    ReportedBuffer {
        name: Some("x".into()),
        symbol: Some("x".into()),
        width,
        height: None,
        row_strides: strides.to_vec(),
        plane_stride: plane,
        plane_descriptors: strides.len(),
    }
}

#[test]
fn no_reported_stride_keeps_the_dense_layout() {
    let x = spec("x", &[1, 4, 1, 8]);
    let (out, note) = decide_buffer(&x, Role::Input, None).unwrap();
    assert_eq!(out, x);
    assert_eq!(note.finding, StrideFinding::NoneReported);
    assert!(note.to_string().contains("gave no row stride"), "{note}");
    assert!(note.to_string().contains("16 bytes kept"), "{note}");
    let (out, note) = decide_buffer(&x, Role::Input, Some(&reported(Some(8), &[], None))).unwrap();
    assert_eq!(out, x);
    assert_eq!(note.finding, StrideFinding::NoneReported);
    assert_eq!(note.reported_width, Some(8));
}

#[test]
fn a_matching_stride_changes_nothing() {
    let x = spec("x", &[1, 4, 1, 8]);
    let (out, note) =
        decide_buffer(&x, Role::Input, Some(&reported(Some(8), &[16], None))).unwrap();
    assert_eq!(out, x);
    assert_eq!(note.finding, StrideFinding::Matches { row_stride: 16 });
}

#[test]
fn a_wider_stride_is_adopted() {
    let x = spec("x", &[1, 4, 1, 8]);
    let (out, note) =
        decide_buffer(&x, Role::Input, Some(&reported(Some(8), &[64], None))).unwrap();
    assert_eq!(out.layout.row_stride, 64);
    assert_eq!(out.layout.plane_stride, 64);
    assert_eq!(out.bytes, 64, "callers still see dense bytes");
    assert_eq!(out.alloc_bytes, 256);
    assert_eq!(
        note.finding,
        StrideFinding::Adopted {
            row_stride: 64,
            plane_stride: 64
        }
    );
    assert!(note.to_string().contains("copied"), "{note}");
    // A plane stride alone is honoured too.
    let (out, _) = decide_buffer(&x, Role::Input, Some(&reported(None, &[], Some(1024)))).unwrap();
    assert_eq!((out.layout.row_stride, out.layout.plane_stride), (16, 1024));
}

#[test]
fn inexpressible_strides_fail_naming_buffer_and_both_strides() {
    let x = spec("x", &[1, 4, 1, 8]);
    for (r, needle) in [
        (reported(None, &[8], None), "narrower"),
        (reported(None, &[32, 64], None), "different row strides"),
        (reported(None, &[32], Some(16)), "plane stride"),
        (reported(Some(16), &[64], None), "Width of 16"),
    ] {
        let err = decide_buffer(&x, Role::Output, Some(&r)).unwrap_err();
        assert!(err.contains("output \"x\""), "{err}");
        assert!(err.contains("16 bytes apart"), "expected stride: {err}");
        assert!(err.contains(needle), "{needle}: {err}");
        let reported = r.row_strides.first().unwrap().to_string();
        assert!(err.contains(&reported), "reported stride: {err}");
    }
}

#[test]
fn decide_layouts_covers_every_buffer_and_records_why() {
    let p = plan(
        &[("a", &[1, 4, 1, 8]), ("b", &[1, 2, 1, 8])],
        &[("y", &[1, 4, 1, 8])],
    );
    let (same, notes) = decide_layouts(&p, &AttributesReport::NotAnswered).unwrap();
    assert_eq!(same, p);
    assert_eq!(notes.len(), 3);
    assert!(notes
        .iter()
        .all(|n| n.finding == StrideFinding::NotAnswered));
    assert!(
        notes[0].to_string().contains("does not answer"),
        "{}",
        notes[0]
    );

    let (_, notes) = decide_layouts(&p, &AttributesReport::Unreadable("boom".into())).unwrap();
    assert!(notes[2].to_string().contains("boom"), "{}", notes[2]);

    let tree = AttrValue::dict([(
        NETWORK_STATUS_LIST,
        arr(vec![network(
            "main",
            vec![live("b", 8.0, 1.0, &[64.0])],
            vec![live("y@output", 8.0, 1.0, &[16.0])],
        )]),
    )]);
    let report = AttributesReport::from_runtime(Ok(Some(tree)));
    let (laid, notes) = decide_layouts(&p, &report).unwrap();
    assert_eq!(laid.inputs[0], p.inputs[0]);
    assert_eq!(laid.inputs[1].layout.row_stride, 64);
    assert_eq!(laid.outputs[0], p.outputs[0]);
    assert_eq!(notes[0].finding, StrideFinding::NoneReported);
    assert!(matches!(notes[1].finding, StrideFinding::Adopted { .. }));
    assert_eq!(notes[2].finding, StrideFinding::Matches { row_stride: 16 });
    assert_eq!(notes[2].role, Role::Output);

    let bad = AttributesReport::Read(ReportedIo {
        outputs: vec![ReportedBuffer {
            symbol: Some("y@output".into()),
            row_strides: vec![4],
            ..ReportedBuffer::default()
        }],
        ..ReportedIo::default()
    });
    let err = decide_layouts(&p, &bad).unwrap_err();
    assert!(
        err.contains("output \"y\"") && err.contains(" 4 bytes"),
        "{err}"
    );
}

#[test]
fn general_notes_report_problems_and_a_different_symbol_order() {
    let p = plan(
        &[("q", &[1, 4, 1, 8]), ("k", &[1, 4, 1, 8])],
        &[("y", &[1, 4, 1, 8])],
    );
    let report = AttributesReport::Read(ReportedIo {
        input_symbols: vec!["k".into(), "q".into()],
        output_symbols: vec!["y@output".into()],
        problems: vec!["odd".into()],
        ..ReportedIo::default()
    });
    let notes = report.general_notes(&p);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].contains("odd"));
    assert!(notes[1].contains("input symbols") && notes[1].contains("alphabetically"));
    assert!(AttributesReport::NotAnswered.general_notes(&p).is_empty());
    assert_eq!(
        AttributesReport::from_runtime(Err("e".into())),
        AttributesReport::Unreadable("e".into())
    );
}
