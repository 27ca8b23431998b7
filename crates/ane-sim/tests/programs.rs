//! Whole programs: the reference examples of ane-mil with real weight files, text versus
//! builder, repeated runs, thread counts, the fp32-like-ANE mode and error reporting.

mod common;

use ane_mil::blob::BlobWriter;
use ane_mil::builder::{ConvParams, FunctionBuilder, ProgramBuilder};
use ane_mil::{parse, print, DType, Dialect, Opset, TensorType, WeightFiles};
use ane_sim::{SimError, SimOptions, Simulator};
use common::*;
use half::f16;

fn example(name: &str) -> String {
    let path = format!(
        "{}/../ane-mil/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fp16_file(values: &[f32]) -> Vec<u8> {
    let mut w = BlobWriter::new();
    let halves: Vec<f16> = values.iter().map(|&v| f16::from_f32(v)).collect();
    assert_eq!(w.append_fp16(&halves).unwrap(), 64);
    w.finish()
}

/// `out[c, s] = Σ_k w[c, k] · x[k, s]` for `[C, K]` weights and `[K, S]` activations.
fn pointwise(w: &[f32], x: &[f32], c: usize, k: usize, s: usize) -> Vec<f64> {
    let mut out = vec![0f64; c * s];
    for ci in 0..c {
        for si in 0..s {
            out[ci * s + si] = (0..k)
                .map(|ki| f64::from(w[ci * k + ki]) * f64::from(x[ki * s + si]))
                .sum();
        }
    }
    out
}

#[test]
fn ane_facts_example_runs_conv_sigmoid_concat() {
    let program = parse(&example("ane_facts_example.mil")).unwrap();
    let w = random16(128 * 64, 1, 0.2);
    let x = random16(64 * 32, 2, 1.0);
    let mut weights = WeightFiles::new();
    weights.insert("@model_path/weights/fc.bin", fp16_file(&w));
    let mut p = Simulator::prepare(&program, &weights, SimOptions::default()).unwrap();
    p.set_input_f32("act", &x).unwrap();
    run(&mut p);
    let out = p.output_f32("out").unwrap();
    let hid = round16(&pointwise(&w, &x, 128, 64, 32));
    // Accumulation order differs from the f64 reference: allow one fp16 ulp.
    for (g, e) in out[..128 * 32].iter().zip(&hid) {
        assert!(ulps16(*g, *e) <= 1, "{g} vs {e}");
    }
    let gate: Vec<f32> = out[..128 * 32]
        .iter()
        .map(|&v| h64(1.0 / (1.0 + (-f64::from(v)).exp())))
        .collect();
    for (g, e) in out[128 * 32..].iter().zip(&gate) {
        assert!(ulps16(*g, *e) <= 1, "{g} vs {e}");
    }
}

#[test]
fn mil_ops_example_normalizes_over_channels() {
    let program = parse(&example("mil_ops_ios18_example.mil")).unwrap();
    let w = random16(64 * 64, 3, 0.3);
    let x = random16(64 * 32, 4, 1.0);
    let mut weights = WeightFiles::new();
    weights.insert("@model_path/weights/weight.bin", fp16_file(&w));
    let mut p = Simulator::prepare(&program, &weights, SimOptions::default()).unwrap();
    p.set_input_f32("x", &x).unwrap();
    run(&mut p);
    let y = p.output_f32("y").unwrap();
    let c: Vec<f64> = round16(&pointwise(&w, &x, 64, 64, 32))
        .iter()
        .map(|&v| f64::from(v))
        .collect();
    let eps = f64::from(f16::from_bits(0x00A8).to_f32());
    let mut expected = vec![0f64; 64 * 32];
    for s in 0..32 {
        let col: Vec<f64> = (0..64).map(|ch| c[ch * 32 + s]).collect();
        let mean = col.iter().sum::<f64>() / 64.0;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 64.0;
        for ch in 0..64 {
            expected[ch * 32 + s] = (col[ch] - mean) / (var + eps).sqrt();
        }
    }
    for (g, e) in y.iter().zip(round16(&expected)) {
        assert!(ulps16(*g, e) <= 2, "{g} vs {e}");
    }
}

#[test]
fn both_spellings_of_rmsnorm_give_identical_outputs() {
    let gamma = random16(64, 5, 1.0);
    let x = random16(64 * 32, 6, 2.0);
    let mut weights = WeightFiles::new();
    weights.insert("@model_path/weights/rms.bin", fp16_file(&gamma));
    let mut outputs = Vec::new();
    for name in [
        "verbose_ios16_rmsnorm.mil",
        "verbose_ios16_rmsnorm_loose.mil",
    ] {
        let program = parse(&example(name)).unwrap();
        let mut p = Simulator::prepare(&program, &weights, SimOptions::default()).unwrap();
        p.set_input_f32("x", &x).unwrap();
        run(&mut p);
        outputs.push(p.output_bytes("y").unwrap());
    }
    assert_eq!(outputs[0], outputs[1]);
    let y: Vec<f32> = outputs[0]
        .chunks(2)
        .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
        .collect();
    for s in 0..32 {
        let ms: f64 = (0..64)
            .map(|c| f64::from(x[c * 32 + s]).powi(2))
            .sum::<f64>()
            / 64.0;
        for c in 0..64 {
            let e = f64::from(x[c * 32 + s]) / (ms + 1e-5).sqrt() * f64::from(gamma[c]);
            let g = f64::from(y[c * 32 + s]);
            // Five fp16 roundings on the way (sq, sum, mean, +eps, pow, two muls).
            assert!((g - e).abs() <= 4e-3 * e.abs().max(1.0), "{g} vs {e}");
        }
    }
}

fn builder_program() -> ane_mil::Program {
    let mut f = FunctionBuilder::new("main", Opset::Ios18);
    let x = f
        .input("x", TensorType::new(DType::Fp16, [1, 8, 1, 16]))
        .unwrap();
    let w = f
        .input("w", TensorType::new(DType::Fp16, [4, 8, 1, 1]))
        .unwrap();
    let y = f.conv(&x, &w, &ConvParams::new(2)).unwrap();
    let s = f.sigmoid(&y).unwrap();
    let z = f.mul(&y, &s).unwrap();
    let r = f.reshape(&z, &[1, 4, 16]).unwrap();
    let sm = f.softmax(&r, -1).unwrap();
    f.output(&sm).unwrap();
    ProgramBuilder::new(Dialect::Ios18)
        .function(f.finish().unwrap())
        .build()
        .unwrap()
}

#[test]
fn parsed_and_built_programs_give_identical_outputs() {
    let built = builder_program();
    let parsed = parse(&print(&built)).unwrap();
    let x = random(8 * 16, 7, 2.0);
    let w = random(4 * 8, 8, 0.5);
    let mut outs = Vec::new();
    for program in [&built, &parsed] {
        let mut p =
            Simulator::prepare(program, &WeightFiles::new(), SimOptions::default()).unwrap();
        p.set_input_f32("x", &x).unwrap();
        p.set_input_f32("w", &w).unwrap();
        run(&mut p);
        let name = p.outputs()[0].name.clone();
        outs.push(p.output_bytes(&name).unwrap());
    }
    assert_eq!(outs[0], outs[1]);
}

#[test]
fn repeated_runs_recompute_from_the_current_inputs() {
    let mut p = prepared(
        "tensor<fp32, [4]> x",
        "tensor<fp32, [4]> y = mul(x = x, y = x)\ntensor<fp32, [4]> z = add(x = y, y = x)",
        "z",
    );
    p.set_input_f32("x", &[1.0, 2.0, 3.0, 4.0]).unwrap();
    run(&mut p);
    assert_same(&p.output_f32("z").unwrap(), &[2.0, 6.0, 12.0, 20.0]);
    run(&mut p);
    assert_same(&p.output_f32("z").unwrap(), &[2.0, 6.0, 12.0, 20.0]);
    p.set_input_f32("x", &[-1.0, 0.0, 0.5, 10.0]).unwrap();
    run(&mut p);
    assert_same(&p.output_f32("z").unwrap(), &[0.0, 0.0, 0.75, 110.0]);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let text = program_text(
        "ios18",
        "tensor<fp16, [4, 16, 24, 24]> x, tensor<fp16, [32, 16, 3, 3]> w, tensor<fp16, [4, 96, 64]> a, tensor<fp16, [64, 80]> b",
        r#"string same = const()[name = string("same"), val = string("same")]
        tensor<fp16, [4, 32, 24, 24]> c = conv(x = x, weight = w, pad_type = same)
        tensor<fp16, [4, 96, 80]> m = matmul(x = a, y = b)
        tensor<fp16, [4, 96, 80]> s = softmax(x = m)"#,
        "c, s",
    );
    let program = parse(&text).unwrap();
    let inputs = [
        ("x", random(4 * 16 * 24 * 24, 9, 1.0)),
        ("w", random(32 * 16 * 9, 10, 0.3)),
        ("a", random(4 * 96 * 64, 11, 1.0)),
        ("b", random(64 * 80, 12, 0.3)),
    ];
    let mut results = Vec::new();
    for threads in [Some(1), Some(2), Some(3), None] {
        let options = SimOptions {
            threads,
            ..SimOptions::default()
        };
        let mut p = Simulator::prepare(&program, &WeightFiles::new(), options).unwrap();
        for (name, v) in &inputs {
            p.set_input_f32(name, v).unwrap();
        }
        run(&mut p);
        results.push((p.output_bytes("c").unwrap(), p.output_bytes("s").unwrap()));
    }
    for r in &results[1..] {
        assert!(r == &results[0], "outputs differ between thread counts");
    }
}

#[test]
fn fp32_programs_are_exact_unless_computed_like_the_ane() {
    let program = program(
        "ios18",
        "tensor<fp32, [3]> x",
        "tensor<fp32, [3]> y = add(x = x, y = x)\ntensor<fp32, [3]> z = mul(x = y, y = x)",
        "z",
    );
    let x = [1.0 + 1.0 / 8192.0, 70000.0, 1e-9];
    let mut exact = prepare_with(&program, SimOptions::default()).unwrap();
    exact.set_input_f32("x", &x).unwrap();
    run(&mut exact);
    let z: Vec<f32> = x.iter().map(|&v| (v + v) * v).collect();
    assert_same(&exact.output_f32("z").unwrap(), &z);
    let options = SimOptions {
        fp32_like_ane: true,
        ..SimOptions::default()
    };
    let mut ane = prepare_with(&program, options).unwrap();
    ane.set_input_f32("x", &x).unwrap();
    run(&mut ane);
    // Inputs round to fp16 (1 + 2⁻¹³ → 1, 70000 → inf, 1e-9 → 0), and so does every result.
    assert_same(&ane.output_f32("z").unwrap(), &[2.0, f32::INFINITY, 0.0]);
    assert_eq!(ane.outputs()[0].ty.dtype, DType::Fp32);
    assert_eq!(ane.output_bytes("z").unwrap().len(), 12);
}

#[test]
fn wrong_inputs_are_errors_naming_the_input() {
    let mut p = prepared(
        "tensor<fp16, [2, 3]> x, tensor<int32, [2]> i",
        "tensor<fp16, [2, 3]> y = relu(x = x)",
        "y",
    );
    let err = p.set_input_f32("x", &[1.0; 5]).unwrap_err();
    assert!(
        matches!(&err, SimError::Input { name, .. } if name == "x"),
        "{err}"
    );
    assert!(err.to_string().contains("expected 6 values"), "{err}");
    let err = p.set_input_i32("x", &[1; 6]).unwrap_err();
    assert!(
        err.to_string().contains("input `x`") && err.to_string().contains("fp16"),
        "{err}"
    );
    let err = p.set_input_f32("i", &[1.0, 2.0]).unwrap_err();
    assert!(err.to_string().contains("input `i`"), "{err}");
    let err = p.set_input_bytes("x", &[0u8; 11]).unwrap_err();
    assert!(err.to_string().contains("expected 12 bytes"), "{err}");
    let err = p.set_input_f32("nope", &[]).unwrap_err();
    assert!(
        err.to_string().contains("`nope`") && err.to_string().contains("`x`"),
        "{err}"
    );
    assert!(p.write_input(7, &mut |_| {}).is_err());
    assert!(p.output_i32("y").is_err());
    assert!(p.output_f32("x").is_err());
}

#[test]
fn int8_inputs_and_outputs_use_their_own_byte_width() {
    let mut p = prepared(
        "tensor<int8, [3]> x",
        r#"string i32 = const()[name = string("i32"), val = string("int32")]
        tensor<int32, [3]> w = cast(x = x, dtype = i32)
        tensor<int32, [3]> d = add(x = w, y = w)
        string u8 = const()[name = string("u8"), val = string("uint8")]
        tensor<uint8, [3]> y = cast(x = d, dtype = u8)"#,
        "w, y",
    );
    assert!(
        p.set_input_i32("x", &[1, 200, 3]).is_err(),
        "200 does not fit int8"
    );
    p.set_input_bytes("x", &[0xFF, 100, 0x80]).unwrap();
    run(&mut p);
    assert_eq!(p.output_i32("w").unwrap(), vec![-1, 100, -128]);
    // -2 → 254, 200, -256 → 0 (wrapping into uint8).
    assert_eq!(p.output_bytes("y").unwrap(), vec![254, 200, 0]);
}

#[test]
fn missing_weights_and_unknown_functions_are_prepare_errors() {
    let program = parse(&example("ane_facts_example.mil")).unwrap();
    let err = Simulator::prepare(&program, &WeightFiles::new(), SimOptions::default()).unwrap_err();
    assert!(matches!(err, SimError::WeightRefs(_)), "{err}");
    assert!(err.to_string().contains("fc.bin"), "{err}");
    let options = SimOptions {
        function: Some("other".into()),
        ..SimOptions::default()
    };
    let mut weights = WeightFiles::new();
    weights.insert("@model_path/weights/fc.bin", fp16_file(&[0.0; 128 * 64]));
    let err = Simulator::prepare(&program, &weights, options).unwrap_err();
    assert!(
        err.to_string().contains("no function `other`") && err.to_string().contains("main"),
        "{err}"
    );
    let invalid = program.clone();
    let mut invalid = invalid;
    invalid.functions[0].outputs = vec!["missing".into()];
    let err = Simulator::prepare(&invalid, &weights, SimOptions::default()).unwrap_err();
    assert!(matches!(err, SimError::Invalid(_)), "{err}");
}

#[test]
fn unknown_dims_and_runtime_shapes_are_unsupported_not_panics() {
    let p = program(
        "ios18",
        "tensor<fp16, [?, 4]> x",
        "tensor<fp16, [?, 4]> y = relu(x = x)",
        "y",
    );
    let err = prepare_with(&p, SimOptions::default()).unwrap_err();
    assert!(matches!(err, SimError::Unsupported { .. }), "{err}");
    let p = program(
        "ios18",
        "tensor<fp16, [2, 4]> x, tensor<int32, [2]> s",
        "tensor<fp16, [?, ?]> y = reshape(x = x, shape = s)",
        "y",
    );
    let err = prepare_with(&p, SimOptions::default()).unwrap_err();
    assert!(matches!(err, SimError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("run-time"), "{err}");
}

#[test]
fn long_chains_reuse_buffers_and_keep_values_right() {
    let mut body = String::new();
    let mut prev = "x".to_string();
    for i in 0..60 {
        let op = ["add", "mul", "sub"][i % 3];
        body.push_str(&format!(
            "tensor<fp32, [64]> v{i} = {op}(x = {prev}, y = x)\n"
        ));
        prev = format!("v{i}");
    }
    let mut p = prepared("tensor<fp32, [64]> x", &body, &prev);
    let x = random(64, 13, 1.0);
    p.set_input_f32("x", &x).unwrap();
    run(&mut p);
    let mut expected = x.clone();
    for i in 0..60 {
        for (e, &xi) in expected.iter_mut().zip(&x) {
            *e = match i % 3 {
                0 => *e + xi,
                1 => *e * xi,
                _ => *e - xi,
            };
        }
    }
    assert_same(&p.output_f32(&prev).unwrap(), &expected);
    assert_eq!(p.kernel_count(), 60);
}

#[test]
fn prepared_programs_can_move_between_threads() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<ane_sim::PreparedProgram>();
    let mut p = prepared("tensor<fp16, [2]> x", "tensor<fp16, [2]> y = exp(x = x)", "y");
    p.set_input_f32("x", &[0.0, 1.0]).unwrap();
    let y = std::thread::spawn(move || {
        p.run().unwrap();
        p.output_f32("y").unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(y, vec![1.0, h64(std::f64::consts::E)]);
}
