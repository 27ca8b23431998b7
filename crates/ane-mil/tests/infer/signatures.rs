//! The signature table itself: coverage, opset ladder, defaults.

use crate::common::*;
use ane_mil::ops::{self, DefaultValue, Presence, ResolvedInputs};
use ane_mil::{DType, Opset, TensorData};

/// Every op of mil-ops §1 plus the extras the brief names.
const EXPECTED_OPS: [&str; 67] = [
    "const",
    "conv",
    "conv_transpose",
    "matmul",
    "linear",
    "add",
    "sub",
    "mul",
    "real_div",
    "pow",
    "maximum",
    "minimum",
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "relu",
    "gelu",
    "sigmoid",
    "silu",
    "tanh",
    "exp",
    "log",
    "sqrt",
    "rsqrt",
    "inverse",
    "abs",
    "square",
    "clip",
    "cast",
    "softmax",
    "layer_norm",
    "batch_norm",
    "instance_norm",
    "reduce_sum",
    "reduce_mean",
    "reduce_max",
    "reduce_l2_norm",
    "reduce_argmax",
    "slice_by_size",
    "slice_by_index",
    "reshape",
    "transpose",
    "concat",
    "split",
    "squeeze",
    "expand_dims",
    "tile",
    "pad",
    "max_pool",
    "avg_pool",
    "gather",
    "gather_along_axis",
    "one_hot",
    "select",
    "band_part",
    "cumsum",
    "scaled_dot_product_attention",
    "quantize",
    "dequantize",
    "constexpr_affine_dequantize",
    "identity",
    "reduce_min",
    "logical_not",
    "scatter_along_axis",
];

#[test]
fn every_requested_op_has_a_signature() {
    let all = ops::all_op_types();
    for op in EXPECTED_OPS {
        assert!(all.contains(&op), "missing {op}");
    }
    assert_eq!(
        all.len(),
        EXPECTED_OPS.len(),
        "unexpected extra ops: {all:?}"
    );
    let revisions = ops::all_signatures().count();
    println!("{} op types, {revisions} signature revisions", all.len());
    assert!(revisions > all.len());
}

#[test]
fn opset_ladder_matches_mil_ops_0_2() {
    let since = |op| {
        ops::revisions(op)
            .iter()
            .map(|s| s.since)
            .collect::<Vec<_>>()
    };
    let ios17_revised = [
        "conv",
        "conv_transpose",
        "matmul",
        "linear",
        "log",
        "rsqrt",
        "inverse",
        "layer_norm",
        "batch_norm",
        "instance_norm",
        "cast",
        "clip",
        "reshape",
        "transpose",
        "squeeze",
        "expand_dims",
        "slice_by_index",
        "slice_by_size",
        "reduce_argmax",
        "scatter_along_axis",
    ];
    for op in ios17_revised {
        assert_eq!(since(op), vec![Opset::Ios15, Opset::Ios17], "{op}");
    }
    for op in ["gather", "gather_along_axis"] {
        assert_eq!(
            since(op),
            vec![Opset::Ios15, Opset::Ios16, Opset::Ios17],
            "{op}"
        );
    }
    assert_eq!(since("constexpr_affine_dequantize"), vec![Opset::Ios16]);
    assert_eq!(since("quantize"), vec![Opset::Ios17]);
    assert_eq!(since("scaled_dot_product_attention"), vec![Opset::Ios18]);
    assert_eq!(since("add"), vec![Opset::Ios15]);
    assert_eq!(
        ops::signature("conv", Opset::Ios16).unwrap().since,
        Opset::Ios15
    );
    assert_eq!(
        ops::signature("conv", Opset::Ios26).unwrap().since,
        Opset::Ios17
    );
    assert!(ops::signature("quantize", Opset::Ios16).is_none());
    assert!(ops::signature("argmax", Opset::Ios18).is_none());
}

#[test]
fn rank_dependent_defaults() {
    let sig = ops::signature("conv", Opset::Ios18).unwrap();
    let inputs = args(vec![
        ("x", rt(h(&[1, 3, 8, 8]))),
        ("weight", opaque(h(&[4, 3, 1, 1]))),
    ]);
    let default = |name| {
        sig.input(name)
            .unwrap()
            .default_value(sig, &inputs)
            .unwrap()
    };
    assert_eq!(default("strides").as_ints().unwrap(), vec![1, 1]);
    assert_eq!(default("pad").as_ints().unwrap(), vec![0, 0, 0, 0]);
    assert_eq!(default("pad_type").as_str(), Some("valid"));
    assert_eq!(default("groups").as_int(), Some(1));
    assert!(
        sig.input("bias")
            .unwrap()
            .default_value(sig, &inputs)
            .is_none(),
        "bias has no default to emit"
    );
    let sig = ops::signature("slice_by_index", Opset::Ios18).unwrap();
    let inputs = args(vec![
        ("x", rt(h(&[2, 3, 4]))),
        ("begin", ints(&[0, 0, 0])),
        ("end", ints(&[1, 1, 1])),
    ]);
    assert_eq!(
        sig.input("stride")
            .unwrap()
            .default_value(sig, &inputs)
            .unwrap()
            .as_ints()
            .unwrap(),
        vec![1, 1, 1]
    );
    assert_eq!(
        sig.input("end_mask")
            .unwrap()
            .default_value(sig, &inputs)
            .unwrap()
            .as_bools()
            .unwrap(),
        &[false; 3]
    );
    let sig = ops::signature("linear", Opset::Ios18).unwrap();
    let inputs = args(vec![
        ("x", rt(h(&[2, 8]))),
        ("weight", opaque(ty(DType::Fp32, &[16, 8]))),
    ]);
    let bias = sig
        .input("bias")
        .unwrap()
        .default_value(sig, &inputs)
        .unwrap();
    assert_eq!(
        bias.ty,
        ty(DType::Fp32, &[16]),
        "linear's bias default is zeros of the weight's dtype"
    );
}

fn fp16_bits(op: &str, opset: Opset, x: DType) -> Vec<u16> {
    let sig = ops::signature(op, opset).unwrap();
    let inputs = args(vec![("x", rt(ty(x, &[4])))]);
    match sig
        .input("epsilon")
        .unwrap()
        .default_value(sig, &inputs)
        .unwrap()
        .data
    {
        TensorData::Fp16(v) => v.iter().map(|x| x.to_bits()).collect(),
        TensorData::Fp32(v) => v.iter().map(|x| x.to_bits() as u16).collect(),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn epsilon_defaults_round_like_coremltools() {
    // mil-ops §0.3: in fp16, rsqrt's 1e-12 and log's 1e-45 become 0, inverse's 1e-4 is 0x068E,
    // layer_norm's 1e-5 is 0x00A8.
    assert_eq!(fp16_bits("rsqrt", Opset::Ios18, DType::Fp16), vec![0]);
    assert_eq!(fp16_bits("log", Opset::Ios15, DType::Fp16), vec![0]);
    assert_eq!(
        fp16_bits("inverse", Opset::Ios18, DType::Fp16),
        vec![0x068E]
    );
    let sig = ops::signature("layer_norm", Opset::Ios18).unwrap();
    let eps = sig
        .input("epsilon")
        .unwrap()
        .default_value(sig, &args(vec![("x", rt(h(&[2, 4])))]))
        .unwrap();
    assert!(matches!(eps.data, TensorData::Fp16(ref v) if v[0].to_bits() == 0x00A8));
    // In fp32, log's default is the smallest subnormal 2^-149.
    let sig = ops::signature("log", Opset::Ios18).unwrap();
    let eps = sig
        .input("epsilon")
        .unwrap()
        .default_value(sig, &args(vec![("x", rt(ty(DType::Fp32, &[1])))]))
        .unwrap();
    assert_eq!(eps.as_f32(), Some(f32::from_bits(1)));
}

#[test]
fn every_default_fits_its_own_argument() {
    // A representative primary input per op, so rank-dependent defaults can be computed.
    for sig in ops::all_signatures() {
        let Some(primary) = sig.inputs.first() else {
            continue;
        };
        let dtype = primary.dtypes.allowed[0];
        let mut inputs = ResolvedInputs::new();
        if primary.variadic {
            inputs = inputs.with_tuple(primary.name, vec![rt(ty(dtype, &[1, 2, 3, 4]))]);
        } else {
            inputs = inputs.with(primary.name, rt(ty(dtype, &[1, 2, 3, 4])));
        }
        inputs = inputs.with("weight", opaque(ty(DType::Fp16, &[5, 4])));
        for spec in &sig.inputs {
            let Presence::Default(default) = spec.presence else {
                continue;
            };
            let value = spec.default_value(sig, &inputs).unwrap_or_else(|| {
                panic!(
                    "{}.{} default {default:?} did not materialize",
                    sig.op_type, spec.name
                )
            });
            assert!(
                spec.dtypes.accepts(value.ty.dtype),
                "{}.{}: {}",
                sig.op_type,
                spec.name,
                value.ty
            );
            assert!(
                spec.rank.accepts(value.ty.rank()),
                "{}.{}: {}",
                sig.op_type,
                spec.name,
                value.ty
            );
            if matches!(default, DefaultValue::IntPerSpatialDim(_)) {
                assert_eq!(value.ty.rank(), 1);
            }
        }
    }
}

#[test]
fn every_op_reports_unknown_arguments() {
    for op in ops::all_op_types() {
        for opset in Opset::ALL {
            if ops::signature(op, opset).is_none() {
                continue;
            }
            let inputs = args(vec![("not_an_argument", int(0))]);
            let e = ops::infer(op, opset, &inputs).unwrap_err().to_string();
            assert_mentions(&e, &[op, "`not_an_argument`"]);
        }
    }
}

#[test]
fn missing_defaults_lists_what_an_interpreter_fills_in() {
    let sig = ops::signature("avg_pool", Opset::Ios18).unwrap();
    let inputs = args(vec![
        ("x", rt(h(&[1, 2, 6]))),
        ("kernel_sizes", ints(&[2])),
        ("pad_type", string("valid")),
        ("ceil_mode", boolean(true)),
    ]);
    let defaults = sig.missing_defaults(&inputs);
    let names: Vec<&str> = defaults.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["strides", "pad", "exclude_padding_from_average"]);
    assert_eq!(defaults[1].1.as_ints().unwrap(), vec![0, 0]);
    let sig = ops::signature("conv", Opset::Ios18).unwrap();
    let names: Vec<&str> = sig
        .missing_defaults(&args(vec![("x", rt(h(&[1, 2, 6])))]))
        .iter()
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(
        names,
        ["strides", "pad_type", "pad", "dilations", "groups"],
        "bias has no default"
    );
}
