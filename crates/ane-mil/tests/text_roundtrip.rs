//! Round trips through the MIL text: random programs in both dialects, every fp16 bit pattern and
//! many fp32 bit patterns print and parse back exactly.

mod text_common;
use text_common as common;

use ane_mil::{
    parse, print, Function, NamedType, Operation, Opset, Program, TensorData, TensorType,
    TensorValue, Value,
};
use half::f16;
use proptest::prelude::*;
use std::collections::BTreeMap;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_programs_round_trip(p in common::program()) {
        let text = print(&p);
        let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&back, &p, "text:\n{}", text);
        prop_assert_eq!(print(&back), text);
    }

    #[test]
    fn random_programs_round_trip_in_the_other_dialect(p in common::program()) {
        let mut p = p;
        p.version = if p.verbose_scalars() { "1.3".into() } else { "1.0".into() };
        let text = print(&p);
        let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&back, &p, "text:\n{}", text);
    }
}

/// A program whose only statement is a const holding `value`.
fn const_program(version: &str, value: TensorValue) -> Program {
    let op = common::const_op("v", Value::Tensor(value));
    Program {
        version: version.into(),
        attributes: BTreeMap::new(),
        functions: vec![common::main_fn(Opset::Ios18, vec![], vec![op], &["v"])],
    }
}

fn const_data(p: &Program) -> &TensorData {
    let f: &Function = &p.functions[0];
    let op: &Operation = &f.body[0];
    match &op.attributes["val"] {
        Value::Tensor(t) => &t.data,
        other => panic!("expected an inline tensor, got {other:?}"),
    }
}

#[test]
fn every_fp16_bit_pattern_round_trips() {
    let all: Vec<f16> = (0..=u16::MAX).map(f16::from_bits).collect();
    for version in ["1.0", "1.3"] {
        let p = const_program(
            version,
            TensorValue {
                ty: TensorType::new(ane_mil::DType::Fp16, [all.len()]),
                data: TensorData::Fp16(all.clone()),
            },
        );
        let back = parse(&print(&p)).unwrap();
        let TensorData::Fp16(got) = const_data(&back) else {
            panic!("wrong storage")
        };
        assert_eq!(got.len(), all.len());
        for (a, b) in all.iter().zip(got) {
            if a.is_nan() {
                assert!(
                    b.is_nan(),
                    "{:#06x} came back as {:#06x}",
                    a.to_bits(),
                    b.to_bits()
                );
            } else {
                assert_eq!(a.to_bits(), b.to_bits(), "fp16 {:#06x}", a.to_bits());
            }
        }
    }
    // Scalars take the other printing path.
    for bits in [0x0001u16, 0x8000, 0x03FF, 0x7BFF, 0xFC00, 0x7E01] {
        let p = const_program("1.3", TensorValue::fp16(f16::from_bits(bits)));
        assert_eq!(parse(&print(&p)).unwrap(), p);
    }
}

/// A small deterministic generator (xorshift64*), so the test needs no seed handling.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[test]
fn many_fp32_bit_patterns_round_trip() {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut values: Vec<f32> = (0..200_000)
        .map(|_| f32::from_bits(xorshift(&mut state) as u32))
        .collect();
    // Every power of two, the subnormal range edges and the ends of the finite range.
    values.extend((0..=255u32).map(|e| f32::from_bits(e << 23)));
    values.extend((0..64u32).map(f32::from_bits));
    values.extend([
        f32::MAX,
        f32::MIN,
        f32::MIN_POSITIVE,
        f32::EPSILON,
        0.1,
        -0.0,
    ]);
    values.extend((0..64u32).map(|i| f32::from_bits(0x007F_FFFF - i)));
    let p = const_program(
        "1.3",
        TensorValue {
            ty: TensorType::new(ane_mil::DType::Fp32, [values.len()]),
            data: TensorData::Fp32(values.clone()),
        },
    );
    let text = print(&p);
    let back = parse(&text).unwrap();
    let TensorData::Fp32(got) = const_data(&back) else {
        panic!("wrong storage")
    };
    for (a, b) in values.iter().zip(got) {
        if a.is_nan() {
            assert!(b.is_nan());
        } else {
            assert_eq!(a.to_bits(), b.to_bits(), "fp32 {:#010x}", a.to_bits());
        }
    }
}

#[test]
fn no_nonzero_value_prints_as_zero() {
    let tiny = [
        TensorValue::fp16(f16::from_bits(1)),
        TensorValue::fp32(f32::from_bits(1)),
    ];
    for v in tiny {
        let text = print(&const_program("1.3", v));
        assert!(!text.contains("0x0p+0"), "{text}");
        assert!(
            text.contains("0x1p-24") || text.contains("0x1p-149"),
            "{text}"
        );
    }
}

#[test]
fn parse_fills_source_positions() {
    let text = "program(1.3)\n{\n  func f<ios18>(fp16 a,\n      tensor<fp16, [2]> b) {\n    fp16 c, fp16 d = split(x = b)[name = string(\"c\")];\n  } -> (c);\n}\n";
    let p = parse(text).unwrap();
    let f = &p.functions[0];
    assert_eq!(f.pos.0, Some((3, 3)));
    let params: Vec<&NamedType> = f.params.iter().collect();
    assert_eq!(params[0].pos.0, Some((3, 17)));
    assert_eq!(params[1].pos.0, Some((4, 7)));
    assert_eq!(f.body[0].pos.0, Some((5, 5)));
    assert_eq!(f.body[0].outputs[0].pos.0, Some((5, 5)));
    assert_eq!(f.body[0].outputs[1].pos.0, Some((5, 13)));
}
