//! The builder: emission rules (every parameter explicit, literals through deduplicated consts,
//! names), typed helpers for every op, and errors.

mod common;

use ane_mil::builder::{
    Arg, BuildError, ConvParams, ConvTransposeParams, FunctionBuilder, GeluMode, PadMode, PadSpec,
    PoolParams, ProgramBuilder, ScatterMode, SliceByIndex, Split, Var,
};
use ane_mil::program::{Argument, Binding, Function, Operation};
use ane_mil::validate::{is_valid_identifier, ValidationErrorKind};
use ane_mil::{BlobRef, DType, Dialect, Opset, TensorData, TensorValue, Value};
use common::{dims, h, ty};
use std::collections::HashSet;

fn op_named<'f>(f: &'f Function, name: &str) -> &'f Operation {
    f.body
        .iter()
        .find(|o| o.outputs.iter().any(|out| out.name == name))
        .unwrap_or_else(|| panic!("no op defines {name}"))
}

/// The `val` of the const bound to argument `arg` of `op`.
fn const_arg<'f>(f: &'f Function, op: &Operation, arg: &str) -> &'f Value {
    let Some(Argument::Single(Binding::Var(name))) = op.inputs.get(arg) else {
        panic!("{arg} of {} is not bound to a name", op.op_type)
    };
    let c = op_named(f, name);
    assert_eq!(c.op_type, "const", "{arg} should come from a const");
    &c.attributes["val"]
}

fn example() -> (Function, Var) {
    let mut f = FunctionBuilder::new("main", Opset::Ios18);
    let x = f.input("x", h(&[1, 64, 1, 32])).unwrap();
    let w = f.input("w", h(&[128, 64, 1, 1])).unwrap();
    let y = f.conv(&x, &w, &ConvParams::new(2)).unwrap();
    let z = f.add(&y, &y).unwrap();
    let s = f.softmax(&z, -1).unwrap();
    let r = f.reshape(&s, &[1, 128, 32]).unwrap();
    f.output(&r).unwrap();
    (f.finish().unwrap(), r)
}

#[test]
fn the_example_builds_validates_and_infers() {
    let (f, r) = example();
    assert_eq!(r.ty, h(&[1, 128, 32]));
    let program = ProgramBuilder::new(Dialect::Ios18)
        .function(f)
        .build()
        .unwrap();
    assert_eq!(program.version, "1.3");
    let ops: Vec<&str> = program.functions[0]
        .body
        .iter()
        .map(|o| o.op_type.as_str())
        .filter(|t| *t != "const")
        .collect();
    assert_eq!(ops, ["conv", "add", "softmax", "reshape"]);
}

#[test]
fn every_parameter_is_explicit_and_bound_through_a_const() {
    let (f, _) = example();
    let conv = f.body.iter().find(|o| o.op_type == "conv").unwrap();
    let args: Vec<&str> = conv.inputs.keys().map(String::as_str).collect();
    assert_eq!(
        args,
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
    assert_eq!(
        const_arg(&f, conv, "pad")
            .as_tensor()
            .unwrap()
            .as_ints()
            .unwrap(),
        vec![0, 0, 0, 0]
    );
    assert_eq!(
        const_arg(&f, conv, "pad_type")
            .as_tensor()
            .unwrap()
            .as_str(),
        Some("valid")
    );
    for op in &f.body {
        for arg in op.inputs.values() {
            let bindings = match arg {
                Argument::Single(b) => vec![b],
                Argument::Tuple(bs) => bs.iter().collect(),
            };
            for b in bindings {
                assert!(
                    matches!(b, Binding::Var(_)),
                    "inline literal in {}: {b:?}",
                    op.op_type
                );
            }
        }
    }
}

#[test]
fn names_are_unique_identifiers_and_match_the_name_attribute() {
    let (f, _) = example();
    let mut seen = HashSet::new();
    for op in &f.body {
        assert_eq!(op.outputs.len(), 1);
        let name = &op.outputs[0].name;
        assert!(is_valid_identifier(name), "{name}");
        assert!(seen.insert(name.clone()), "{name} twice");
        assert_eq!(op.name_attr(), Some(name.as_str()));
    }
    assert!(seen.iter().any(|n| n.starts_with("conv_")), "{seen:?}");
}

#[test]
fn literals_are_deduplicated_per_value_and_type() {
    let (f, _) = example();
    let ones: Vec<_> = f
        .body
        .iter()
        .filter(|o| {
            o.op_type == "const"
                && o.attributes["val"] == Value::from(TensorValue::int32_vec(&[1, 1]))
        })
        .collect();
    assert_eq!(ones.len(), 1, "strides and dilations share one const");
    let conv = f.body.iter().find(|o| o.op_type == "conv").unwrap();
    assert_eq!(conv.inputs["strides"], conv.inputs["dilations"]);
    // -1 as int32 (softmax axis) is not the same const as anything else of another type.
    let mut g = FunctionBuilder::new("main", Opset::Ios18);
    let x = g.input("x", h(&[2, 3])).unwrap();
    let a = g.softmax(&x, -1).unwrap();
    let b = g.softmax(&a, -1).unwrap();
    let c = g.reduce_argmax(&b, -1, false).unwrap();
    g.output(&c).unwrap();
    let g = g.finish().unwrap();
    let minus_one = g
        .body
        .iter()
        .filter(|o| {
            o.op_type == "const" && o.attributes["val"] == Value::from(TensorValue::int32(-1))
        })
        .count();
    assert_eq!(minus_one, 1);
    // The same blob reference gives the same const.
    let mut k = FunctionBuilder::new("main", Opset::Ios18);
    let blob = BlobRef {
        ty: h(&[4, 4]),
        path: "@model_path/weights/w.bin".into(),
        offset: 64,
    };
    let w1 = k.blob_constant("w", blob.clone()).unwrap();
    let w2 = k.blob_constant("w", blob).unwrap();
    assert_eq!(w1, w2);
}

#[test]
fn defaults_are_emitted_per_opset() {
    let build = |opset: Opset| {
        let mut f = FunctionBuilder::new("main", opset);
        let x = f.input("x", h(&[5, 4])).unwrap();
        let i = f.input("i", ty(DType::Int32, &[3])).unwrap();
        let g = f.gather(&x, &i, 0).unwrap();
        let a = f.reduce_argmax(&g, -1, false).unwrap();
        f.output(&a).unwrap();
        f.finish().unwrap()
    };
    let args_of = |f: &Function, op: &str| -> Vec<String> {
        f.body
            .iter()
            .find(|o| o.op_type == op)
            .unwrap()
            .inputs
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(
        args_of(&build(Opset::Ios15), "gather"),
        ["axis", "indices", "x"]
    );
    assert_eq!(
        args_of(&build(Opset::Ios16), "gather"),
        ["axis", "batch_dims", "indices", "x"]
    );
    assert_eq!(
        args_of(&build(Opset::Ios17), "gather"),
        ["axis", "batch_dims", "indices", "validate_indices", "x"]
    );
    assert_eq!(
        args_of(&build(Opset::Ios16), "reduce_argmax"),
        ["axis", "keep_dims", "x"]
    );
    assert_eq!(
        args_of(&build(Opset::Ios18), "reduce_argmax"),
        ["axis", "keep_dims", "output_dtype", "x"]
    );

    // Through the generic entry point, omitted defaults are filled in too; omittable ones are not.
    let mut f = FunctionBuilder::new("main", Opset::Ios18);
    let x = f.input("x", h(&[1, 3, 8, 8])).unwrap();
    let w = f.input("w", h(&[4, 3, 3, 3])).unwrap();
    let y = f
        .op(
            "conv",
            "conv",
            &[("x", (&x).into()), ("weight", (&w).into())],
        )
        .unwrap();
    assert_eq!(y[0].ty, h(&[1, 4, 6, 6]));
    let m = f
        .op("matmul", "mm", &[("x", (&x).into()), ("y", (&x).into())])
        .unwrap();
    f.output(&m[0]).unwrap();
    let f = f.finish().unwrap();
    let conv = f.body.iter().find(|o| o.op_type == "conv").unwrap();
    assert!(conv.inputs.contains_key("strides") && !conv.inputs.contains_key("bias"));
    let mm = f.body.iter().find(|o| o.op_type == "matmul").unwrap();
    assert!(mm.inputs.contains_key("transpose_x") && mm.inputs.contains_key("transpose_y"));
}

#[test]
fn literal_dtypes_follow_the_domain() {
    let mut f = FunctionBuilder::new("main", Opset::Ios18);
    let x = f.input("x", h(&[2, 8])).unwrap();
    let a = f.rsqrt(&x, 1e-5).unwrap();
    let b = f.clip(&a, -1.0, 1.0).unwrap();
    let g32 = f
        .constant(
            "g",
            TensorValue {
                ty: ty(DType::Fp32, &[8]),
                data: TensorData::Fp32(vec![1.0; 8]),
            },
        )
        .unwrap();
    let c = f.layer_norm(&b, &[-1], Some(&g32), None, 1e-5).unwrap();
    let d = f.layer_norm(&c, &[-1], None, None, 1e-5).unwrap();
    let l = f.input("w", h(&[4, 8])).unwrap();
    let _ = l;
    f.output(&d).unwrap();
    let f = f.finish().unwrap();
    let dtype_of = |out: &str, arg: &str| {
        let op = op_named(&f, out);
        const_arg(&f, op, arg).as_tensor().unwrap().ty.dtype
    };
    assert_eq!(dtype_of(&a.name, "epsilon"), DType::Fp16);
    assert_eq!(dtype_of(&b.name, "alpha"), DType::Fp16);
    assert_eq!(dtype_of(&b.name, "beta"), DType::Fp16);
    assert_eq!(
        dtype_of(&c.name, "epsilon"),
        DType::Fp32,
        "iOS17+: epsilon shares gamma's domain U"
    );
    assert_eq!(dtype_of(&d.name, "epsilon"), DType::Fp16);
    // fp16 rounding of the literal: 1e-5 becomes the subnormal 0x00A8.
    let eps = const_arg(&f, op_named(&f, &d.name), "epsilon")
        .as_tensor()
        .unwrap();
    assert!(matches!(eps.data, TensorData::Fp16(ref v) if v[0].to_bits() == 0x00A8));
}

#[test]
fn split_returns_every_part() {
    let mut f = FunctionBuilder::new("main", Opset::Ios18);
    let x = f.input("x", h(&[6, 4])).unwrap();
    let parts = f.split(&x, 0, &Split::Sizes(vec![1, 2, 3])).unwrap();
    assert_eq!(
        parts.iter().map(|p| dims(&p.ty)).collect::<Vec<_>>(),
        vec![vec![1, 4], vec![2, 4], vec![3, 4]]
    );
    let names: HashSet<_> = parts.iter().map(|p| p.name.clone()).collect();
    assert_eq!(names.len(), 3);
    let halves = f.split(&x, 1, &Split::Count(2)).unwrap();
    let y = f
        .concat(&[&parts[2], &parts[0], &parts[1]], 0, false)
        .unwrap();
    f.output(&y).unwrap();
    f.output(&halves[1]).unwrap();
    let f = f.finish().unwrap();
    let split = f.body.iter().find(|o| o.op_type == "split").unwrap();
    assert_eq!(split.outputs.len(), 3);
    assert!(split
        .name_attr()
        .is_some_and(|n| !split.outputs.iter().any(|o| o.name == n)));
}

#[test]
fn a_failed_op_changes_nothing() {
    let mut f = FunctionBuilder::new("main", Opset::Ios18);
    let x = f.input("x", h(&[2, 3])).unwrap();
    let y = f.input("y", h(&[4])).unwrap();
    let e = f.add(&x, &y).unwrap_err();
    assert!(e.to_string().contains("cannot broadcast"), "{e}");
    // This one fails after its literal (the perm) was planned: no const may be left behind.
    let e = f.transpose(&x, &[0, 0]).unwrap_err();
    assert!(e.to_string().contains("repeated"), "{e}");
    f.output(&x).unwrap();
    let done = f.finish().unwrap();
    assert!(done.body.is_empty(), "nothing added: {:?}", done.body);
}

#[test]
fn builder_errors() {
    let mut f = FunctionBuilder::new("main", Opset::Ios18);
    let x = f.input("x", h(&[2])).unwrap();
    assert!(matches!(
        f.input("x", h(&[2])),
        Err(BuildError::DuplicateName { .. })
    ));
    assert!(matches!(
        f.input("2x", h(&[2])),
        Err(BuildError::InvalidIdentifier { .. })
    ));
    let mut other = FunctionBuilder::new("other", Opset::Ios18);
    let foreign = other.input("q", h(&[2])).unwrap();
    assert!(matches!(
        f.relu(&foreign),
        Err(BuildError::ForeignVar { .. })
    ));
    let retyped = Var {
        name: x.name.clone(),
        ty: h(&[3]),
    };
    assert!(matches!(
        f.relu(&retyped),
        Err(BuildError::ForeignVar { .. })
    ));
    assert!(matches!(
        f.op("relu", "r", &[("x", (&x).into()), ("x", (&x).into())]),
        Err(BuildError::DuplicateArgument { .. })
    ));
    let e = f
        .op("relu", "r", &[("x", (&x).into()), ("beta", Arg::int(1))])
        .unwrap_err();
    assert!(e.to_string().contains("unknown argument `beta`"), "{e}");
    let e = f.op("scaled_dot_product_attention", "s", &[]).unwrap_err();
    assert!(
        e.to_string().contains("ios18") || e.to_string().contains("missing"),
        "{e}"
    );
    assert!(matches!(
        f.conv(
            &x,
            &x,
            &ConvParams {
                groups: 1 << 40,
                ..ConvParams::new(1)
            }
        ),
        Err(BuildError::OutOfRange { .. })
    ));
    let mut g = FunctionBuilder::new("main", Opset::Ios16);
    let q = g.input("q", h(&[1, 2, 4])).unwrap();
    let e = g
        .scaled_dot_product_attention(&q, &q, &q, None)
        .unwrap_err();
    assert!(
        e.to_string().contains("not available in opset ios16"),
        "{e}"
    );
    // A function without outputs does not finish.
    match FunctionBuilder::new("main", Opset::Ios18).finish() {
        Err(BuildError::Invalid(errors)) => assert!(errors.has(ValidationErrorKind::NoOutputs)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn program_builder_checks_the_dialect() {
    let (f, _) = example();
    let e = ProgramBuilder::new(Dialect::Ios16)
        .function(f)
        .build()
        .unwrap_err();
    assert!(matches!(e, BuildError::OpsetMismatch { .. }), "{e}");
    let mut g = FunctionBuilder::new("main", Opset::Ios16);
    let x = g.input("x", h(&[1, 8, 1, 4])).unwrap();
    let y = g.sigmoid(&x).unwrap();
    g.output(&y).unwrap();
    let p = ProgramBuilder::new(Dialect::Ios16)
        .function(g.finish().unwrap())
        .build()
        .unwrap();
    assert_eq!(p.version, "1.0");
}

#[test]
fn constexpr_ops_are_written_in_attribute_form() {
    let mut f = FunctionBuilder::new("main", Opset::Ios18);
    let x = f.input("x", h(&[2, 3])).unwrap();
    let data = TensorValue {
        ty: ty(DType::Int8, &[4, 3]),
        data: TensorData::Int(vec![1; 12]),
    };
    let zp = TensorValue {
        ty: ty(DType::Int8, &[]),
        data: TensorData::Int(vec![0]),
    };
    let w = f
        .op(
            "constexpr_affine_dequantize",
            "w",
            &[
                ("quantized_data", data.into()),
                ("zero_point", zp.into()),
                ("scale", Arg::Number(0.5)),
                ("axis", Arg::int(0)),
            ],
        )
        .unwrap();
    assert_eq!(w[0].ty, h(&[4, 3]));
    let y = f.linear(&x, &w[0], None).unwrap();
    f.output(&y).unwrap();
    let f = f.finish().unwrap();
    let deq = f
        .body
        .iter()
        .find(|o| o.op_type == "constexpr_affine_dequantize")
        .unwrap();
    assert!(deq.inputs.is_empty());
    let attrs: Vec<&str> = deq.attributes.keys().map(String::as_str).collect();
    assert_eq!(
        attrs,
        ["axis", "name", "quantized_data", "scale", "zero_point"]
    );
    assert_eq!(
        deq.attributes["scale"].as_tensor().unwrap().ty.dtype,
        DType::Fp16
    );
}

#[test]
fn hints_are_sanitized() {
    let mut f = FunctionBuilder::new("main", Opset::Ios18);
    let x = f.input("x", h(&[2])).unwrap();
    let r = f.op("relu", "my-relu!", &[("x", (&x).into())]).unwrap();
    assert!(r[0].name.starts_with("my_relu__"), "{}", r[0].name);
    let r = f.op("relu", "9lives", &[("x", (&x).into())]).unwrap();
    assert!(is_valid_identifier(&r[0].name), "{}", r[0].name);
}

/// Every typed helper, in one function that must validate.
#[test]
fn every_typed_helper_builds_a_valid_program() {
    let mut f = FunctionBuilder::new("main", Opset::Ios18);
    let x = f.input("x", h(&[1, 4, 8, 8])).unwrap();
    let seq = f.input("seq", h(&[2, 4, 6, 16])).unwrap();
    let idx = f.input("idx", ty(DType::Int32, &[3])).unwrap();
    let blob = |shape: &[i64], offset| BlobRef {
        ty: h(shape),
        path: "@model_path/weights/w.bin".into(),
        offset,
    };
    let w = f.blob_constant("w", blob(&[8, 4, 3, 3], 64)).unwrap();
    let bias = f.blob_constant("b", blob(&[8], 640)).unwrap();
    let mut outs = Vec::new();

    let c = f
        .conv(
            &x,
            &w,
            &ConvParams {
                pad: PadSpec::Same,
                bias: Some(bias.clone()),
                ..ConvParams::new(2)
            },
        )
        .unwrap();
    let c2 = f
        .conv(
            &x,
            &w,
            &ConvParams {
                pad: PadSpec::Custom(vec![1, 1, 0, 0]),
                strides: vec![2, 1],
                ..ConvParams::new(2)
            },
        )
        .unwrap();
    assert_eq!(dims(&c2.ty), vec![1, 8, 4, 6]);
    let wt = f.blob_constant("wt", blob(&[8, 2, 2, 2], 4096)).unwrap();
    let ct = f
        .conv_transpose(
            &c,
            &wt,
            &ConvTransposeParams {
                strides: vec![2, 2],
                ..ConvTransposeParams::new(2)
            },
        )
        .unwrap();
    assert_eq!(dims(&ct.ty), vec![1, 2, 16, 16]);
    let mp = f
        .max_pool(
            &c,
            &PoolParams {
                kernel_sizes: vec![2, 2],
                strides: vec![2, 2],
                pad: PadSpec::Valid,
                ceil_mode: false,
            },
        )
        .unwrap();
    let ap = f
        .avg_pool(
            &c,
            &PoolParams {
                kernel_sizes: vec![3, 3],
                strides: vec![2, 2],
                pad: PadSpec::Custom(vec![1, 1, 1, 1]),
                ceil_mode: false,
            },
            true,
        )
        .unwrap();
    assert_eq!(dims(&mp.ty), dims(&ap.ty));
    outs.push(f.add(&mp, &ap).unwrap());

    let n = f
        .batch_norm(&c, &bias, &bias, Some(&bias), Some(&bias), 1e-5)
        .unwrap();
    let n = f.instance_norm(&n, Some(&bias), None, 1e-5).unwrap();
    let n = f.layer_norm(&n, &[1, 2, 3], None, None, 1e-5).unwrap();
    let a = f.relu(&n).unwrap();
    let a = f.sigmoid(&a).unwrap();
    let a = f.silu(&a).unwrap();
    let a = f.tanh(&a).unwrap();
    let a = f.gelu(&a, GeluMode::TanhApproximation).unwrap();
    let a = f.exp(&a).unwrap();
    let a = f.log(&a, 0.0).unwrap();
    let a = f.sqrt(&a).unwrap();
    let a = f.rsqrt(&a, 1e-4).unwrap();
    let a = f.inverse(&a, 0.0).unwrap();
    let a = f.abs(&a).unwrap();
    let a = f.square(&a).unwrap();
    let a = f.clip(&a, 0.0, 6.0).unwrap();
    let a = f.identity(&a).unwrap();
    let a = f.softmax(&a, 1).unwrap();
    let b = f.sub(&a, &c).unwrap();
    let b = f.mul(&b, &a).unwrap();
    let b = f.real_div(&b, &a).unwrap();
    let two = f.scalar(2.0, DType::Fp16).unwrap();
    let b = f.pow(&b, &two).unwrap();
    let b = f.maximum(&b, &a).unwrap();
    let b = f.minimum(&b, &a).unwrap();
    outs.push(b.clone());
    for cmp in [
        FunctionBuilder::equal,
        FunctionBuilder::not_equal,
        FunctionBuilder::greater,
        FunctionBuilder::greater_equal,
        FunctionBuilder::less,
        FunctionBuilder::less_equal,
    ] {
        let m = cmp(&mut f, &a, &b).unwrap();
        assert_eq!(m.ty.dtype, DType::Bool);
        let m = f.logical_not(&m).unwrap();
        outs.push(f.select(&m, &a, &b).unwrap());
    }
    let i = f.cast(&a, DType::Int32).unwrap();
    outs.push(f.cast(&i, DType::Fp16).unwrap());

    for red in [
        FunctionBuilder::reduce_sum,
        FunctionBuilder::reduce_mean,
        FunctionBuilder::reduce_max,
        FunctionBuilder::reduce_min,
        FunctionBuilder::reduce_l2_norm,
    ] {
        outs.push(red(&mut f, &a, &[1, -1], true).unwrap());
    }
    let am = f.reduce_argmax(&a, 1, false).unwrap();
    outs.push(f.cast(&am, DType::Fp16).unwrap());

    let r = f.reshape(&a, &[1, 8, 64]).unwrap();
    let t = f.transpose(&r, &[0, 2, 1]).unwrap();
    let s = f.slice_by_size(&t, &[0, 8, 0], &[1, -1, 2]).unwrap();
    assert_eq!(dims(&s.ty), vec![1, 56, 2]);
    let s = f
        .slice_by_index(
            &s,
            &SliceByIndex {
                begin: vec![0, -1, 0],
                end: vec![1, 0, 2],
                stride: Some(vec![1, -2, 1]),
                end_mask: Some(vec![false, true, false]),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(dims(&s.ty), vec![1, 28, 2]);
    let s = f.squeeze(&s, &[0]).unwrap();
    let s = f.expand_dims(&s, &[0, -1]).unwrap();
    let s = f.tile(&s, &[2, 1, 1, 3]).unwrap();
    let s = f.pad(&s, &[1, 1, 0, 2], PadMode::Constant, 0.0).unwrap();
    let s = f.pad(&s, &[1, 2], PadMode::Replicate, 0.0).unwrap();
    let s = f.band_part(&s, -1, 0).unwrap();
    let s = f.cumsum(&s, 1, true, false).unwrap();
    let parts = f.split(&s, 3, &Split::Count(2)).unwrap();
    outs.push(f.concat(&[&parts[0], &parts[1]], 3, true).unwrap());

    let flat = f.reshape(&a, &[512, 1]).unwrap();
    let g = f.gather(&flat, &idx, 0).unwrap();
    assert_eq!(dims(&g.ty), vec![3, 1]);
    let idx2 = f.expand_dims(&idx, &[1]).unwrap();
    let ga = f.gather_along_axis(&flat, &idx2, 0).unwrap();
    outs.push(
        f.scatter_along_axis(&flat, &idx2, &ga, 0, ScatterMode::Add)
            .unwrap(),
    );
    let oh = f.one_hot(&idx, 10, -1, 1.0, 0.0, DType::Fp16).unwrap();
    assert_eq!(oh.ty, h(&[3, 10]));
    let lw = f.blob_constant("lw", blob(&[5, 10], 8192)).unwrap();
    let lin = f.linear(&oh, &lw, None).unwrap();
    outs.push(f.matmul(&lin, &lin, false, true).unwrap());

    let mask = f
        .constant(
            "mask",
            TensorValue {
                ty: ty(DType::Bool, &[6, 6]),
                data: TensorData::Bool(vec![true; 36]),
            },
        )
        .unwrap();
    outs.push(
        f.scaled_dot_product_attention(&seq, &seq, &seq, Some(&mask))
            .unwrap(),
    );

    for o in &outs {
        f.output(o).unwrap();
    }
    let function = f.finish().unwrap_or_else(|e| panic!("{e}"));
    ProgramBuilder::new(Dialect::Ios18)
        .function(function)
        .build()
        .unwrap();
}
