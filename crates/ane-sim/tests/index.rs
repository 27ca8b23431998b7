//! Index and quantization ops: `gather` (negative indices per opset, batch_dims, errors),
//! `gather_along_axis`, every `scatter_along_axis` mode, `one_hot`, `quantize`, `dequantize`
//! and `constexpr_affine_dequantize` (inline and BLOBFILE operands).

mod common;

use ane_mil::blob::BlobWriter;
use ane_mil::{parse, WeightFiles};
use ane_sim::{SimError, SimOptions, Simulator};
use common::*;

fn gather(opset: &str, idx: &[i32]) -> Result<Vec<f32>, SimError> {
    let n = idx.len();
    let prog = program(
        opset,
        &format!("tensor<fp16, [3, 2]> x, tensor<int32, [{n}]> i"),
        &format!("tensor<fp16, [{n}, 2]> y = gather(x = x, indices = i, axis = int32(0))"),
        "y",
    );
    let mut p = prepare_with(&prog, SimOptions::default())?;
    p.set_input_f32("x", &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        .unwrap();
    p.set_input_i32("i", idx).unwrap();
    p.run()?;
    Ok(p.output_f32("y").unwrap())
}

#[test]
fn gather_rows_and_negative_indices_per_opset() {
    assert_eq!(
        gather("ios18", &[2, 0, 2]).unwrap(),
        vec![5.0, 6.0, 1.0, 2.0, 5.0, 6.0]
    );
    // Before iOS17 negative indices count from the end.
    assert_eq!(
        gather("ios16", &[-1, -3]).unwrap(),
        vec![5.0, 6.0, 1.0, 2.0]
    );
    // From iOS17 they are out of range, like indices ≥ D: a run-time error naming the index.
    let err = gather("ios18", &[0, -1]).unwrap_err();
    assert!(matches!(err, SimError::Run { .. }), "{err}");
    assert!(
        err.to_string().contains("index -1 is out of range [0, 3)"),
        "{err}"
    );
    let err = gather("ios16", &[3]).unwrap_err();
    assert!(
        err.to_string().contains("index 3 is out of range [-3, 3)"),
        "{err}"
    );
}

#[test]
fn gather_inner_axis_and_batch_dims() {
    let mut p = prepared(
        "tensor<int32, [2, 3, 2]> x, tensor<int32, [2, 2]> i",
        "tensor<int32, [2, 2, 2, 2]> y = gather(x = x, indices = i, axis = int32(1))\ntensor<int32, [2, 2, 2]> b = gather(x = x, indices = i, axis = int32(1), batch_dims = int32(1))",
        "y, b",
    );
    p.set_input_i32("x", &(0..12).collect::<Vec<_>>()).unwrap();
    p.set_input_i32("i", &[2, 0, 1, 1]).unwrap();
    run(&mut p);
    // y[a, i, j, c] = x[a, idx[i, j], c].
    let x = |a: i32, r: i32, c: i32| a * 6 + r * 2 + c;
    let mut expected = Vec::new();
    for a in 0..2 {
        for r in [2, 0, 1, 1] {
            for c in 0..2 {
                expected.push(x(a, r, c));
            }
        }
    }
    assert_eq!(p.output_i32("y").unwrap(), expected);
    // b[a, j, c] = x[a, idx[a, j], c].
    let expected: Vec<i32> = [(0, 2), (0, 0), (1, 1), (1, 1)]
        .iter()
        .flat_map(|&(a, r)| [x(a, r, 0), x(a, r, 1)])
        .collect();
    assert_eq!(p.output_i32("b").unwrap(), expected);
}

#[test]
fn gather_along_axis_takes_per_position_indices() {
    let mut p = prepared(
        "tensor<fp32, [2, 3]> x, tensor<int32, [2, 2]> i",
        "tensor<fp32, [2, 2]> y = gather_along_axis(x = x, indices = i, axis = int32(1))",
        "y",
    );
    p.set_input_f32("x", &[10.0, 11.0, 12.0, 20.0, 21.0, 22.0])
        .unwrap();
    p.set_input_i32("i", &[2, 0, 1, 1]).unwrap();
    run(&mut p);
    assert_eq!(p.output_f32("y").unwrap(), vec![12.0, 10.0, 21.0, 21.0]);
    p.set_input_i32("i", &[0, 3, 0, 0]).unwrap();
    assert!(p.run().unwrap_err().to_string().contains("index 3"));
}

#[test]
fn scatter_along_axis_every_mode() {
    let data: [f32; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let updates: [f32; 4] = [10.0, 20.0, 30.0, 40.0];
    // indices along axis 1 of [2, 3]: row 0 writes cols 2 and 2 (repeated), row 1 cols 0 and 1.
    let idx = [2, 2, 0, 1];
    let expect = |mode: &str| -> Vec<f32> {
        let mut out = data.to_vec();
        for (k, &i) in idx.iter().enumerate() {
            let at = (k / 2) * 3 + i as usize;
            let u = updates[k];
            out[at] = match mode {
                "update" => u,
                "add" => out[at] + u,
                "sub" => out[at] - u,
                "mul" => out[at] * u,
                "div" => out[at] / u,
                "max" => out[at].max(u),
                _ => out[at].min(u),
            };
        }
        out
    };
    for mode in ["update", "add", "sub", "mul", "div", "max", "min"] {
        let mut p = prepared(
            "tensor<fp32, [2, 3]> d, tensor<int32, [2, 2]> i, tensor<fp32, [2, 2]> u",
            &format!("tensor<fp32, [2, 3]> y = scatter_along_axis(data = d, indices = i, updates = u, axis = int32(1), mode = string(\"{mode}\"))"),
            "y",
        );
        p.set_input_f32("d", &data).unwrap();
        p.set_input_i32("i", &idx).unwrap();
        p.set_input_f32("u", &updates).unwrap();
        run(&mut p);
        assert_eq!(p.output_f32("y").unwrap(), expect(mode), "{mode}");
    }
    // Embedding backward: add rows of gradients into a table, in fp16 (rounded once).
    let mut p = prepared(
        "tensor<fp16, [3, 2]> table, tensor<int32, [4, 2]> i, tensor<fp16, [4, 2]> g",
        "tensor<fp16, [3, 2]> y = scatter_along_axis(data = table, indices = i, updates = g, axis = int32(0), mode = string(\"add\"))",
        "y",
    );
    p.set_input_f32("table", &[0.0; 6]).unwrap();
    p.set_input_i32("i", &[1, 1, 1, 1, 0, 0, 1, 1]).unwrap();
    p.set_input_f32("g", &[1.0, 2048.0, 1.0, 1.0, 3.0, 4.0, 1.0, 1.0])
        .unwrap();
    run(&mut p);
    // 2048 + 1 + 1 in f32 is 2050, representable in fp16 (step 2): one rounding at the end.
    assert_eq!(
        p.output_f32("y").unwrap(),
        vec![3.0, 4.0, 3.0, 2050.0, 0.0, 0.0]
    );
    // Int32 division by zero is an error.
    let mut p = prepared(
        "tensor<int32, [2]> d, tensor<int32, [1]> i, tensor<int32, [1]> u",
        "tensor<int32, [2]> y = scatter_along_axis(data = d, indices = i, updates = u, mode = string(\"div\"))",
        "y",
    );
    p.set_input_i32("d", &[7, 8]).unwrap();
    p.set_input_i32("i", &[1]).unwrap();
    p.set_input_i32("u", &[-3]).unwrap();
    run(&mut p);
    assert_eq!(p.output_i32("y").unwrap(), vec![7, -2]);
    p.set_input_i32("u", &[0]).unwrap();
    assert!(p
        .run()
        .unwrap_err()
        .to_string()
        .contains("division by zero"));
}

#[test]
fn one_hot_defaults_axes_and_out_of_range() {
    let mut p = prepared(
        "tensor<int32, [3]> i",
        "tensor<int32, [3, 4]> a = one_hot(indices = i, one_hot_vector_size = int32(4))\ntensor<fp16, [4, 3]> b = one_hot(indices = i, one_hot_vector_size = int32(4), axis = int32(0), on_value = fp16(2.0), off_value = fp16(-1.0))",
        "a, b",
    );
    p.set_input_i32("i", &[1, -1, 3]).unwrap();
    run(&mut p);
    assert_eq!(
        p.output_i32("a").unwrap(),
        vec![0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    );
    let m = -1.0;
    assert_eq!(
        p.output_f32("b").unwrap(),
        vec![m, m, m, 2.0, m, m, m, m, m, m, m, 2.0]
    );
}

#[test]
fn quantize_and_dequantize_per_tensor_and_per_axis() {
    let mut p = prepared(
        "tensor<fp16, [2, 3]> x",
        r#"tensor<int8, [2, 3]> q = quantize(input = x, scale = fp16(0.5), zero_point = int8(1), output_dtype = string("int8"))
        tensor<uint8, [2, 3]> u = quantize(input = x, scale = tensor<fp16, [2]>([1.0, 0.25]), zero_point = tensor<uint8, [2]>([10, 20]), axis = int32(0), output_dtype = string("uint8"))
        tensor<fp16, [2, 3]> d = dequantize(input = q, scale = fp16(0.5), zero_point = int8(1))"#,
        "q, u, d",
    );
    p.set_input_f32("x", &[0.25, 0.75, -100.0, 1.0, 2.5, 100.0])
        .unwrap();
    run(&mut p);
    // round_half_even(x / 0.5) + 1, clamped to int8: 0.5 → 0, 1.5 → 2, −200 → −128.
    assert_eq!(p.output_i32("q").unwrap(), vec![1, 3, -128, 3, 6, 127]);
    // Row 0 scale 1, zp 10; row 1 scale 0.25, zp 20: 4 + 20, 10 + 20, 400 + 20 → 255.
    assert_eq!(p.output_i32("u").unwrap(), vec![10, 11, 0, 24, 30, 255]);
    assert_eq!(
        p.output_f32("d").unwrap(),
        vec![0.0, 1.0, -64.5, 1.0, 2.5, 63.0]
    );
}

#[test]
fn constexpr_affine_dequantize_reads_inline_and_blob_operands() {
    let mut w = BlobWriter::new();
    let offset = w.append_int8(&[-2, 0, 2, 4, 6, 8]).unwrap();
    let mut weights = WeightFiles::new();
    weights.insert("@model_path/weights/q.bin", w.finish());
    let text = program_text(
        "ios18",
        "tensor<fp16, [3]> x",
        &format!(
            r#"tensor<fp16, [2, 3]> w = constexpr_affine_dequantize()[axis = int32(0), name = string("w"), quantized_data = tensor<int8, [2, 3]>(BLOBFILE(path = string("@model_path/weights/q.bin"), offset = uint64({offset}))), scale = tensor<fp16, [2]>([0.5, 2.0]), zero_point = tensor<int8, [2]>([0, 2])]
            tensor<fp16, [2]> y = matmul(x = w, y = x)"#
        ),
        "w, y",
    );
    let program = parse(&text).unwrap();
    let mut p = Simulator::prepare(&program, &weights, SimOptions::default()).unwrap();
    p.set_input_f32("x", &[1.0, 1.0, 1.0]).unwrap();
    run(&mut p);
    // Row 0: 0.5·(q − 0); row 1: 2·(q − 2).
    assert_eq!(
        p.output_f32("w").unwrap(),
        vec![-1.0, 0.0, 1.0, 4.0, 8.0, 12.0]
    );
    assert_eq!(p.output_f32("y").unwrap(), vec![0.0, 24.0]);
    assert_eq!(
        p.kernel_count(),
        1,
        "the constexpr is evaluated when preparing"
    );
}
