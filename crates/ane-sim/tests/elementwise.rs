//! Elementwise ops: unary math and activations, broadcasting binary arithmetic and
//! comparisons, `select`, `cast`, `logical_not`, against hand-computed values and f64
//! references rounded to fp16; fp16 overflow, underflow and NaN rules.

mod common;

use ane_sim::SimError;
use common::*;

/// Runs `y = op(x = x{extra})` on a rank-1 tensor of `dtype`.
fn unary(op: &str, extra: &str, dtype: &str, x: &[f32]) -> Vec<f32> {
    let n = x.len();
    let mut p = prepared(
        &format!("tensor<{dtype}, [{n}]> x"),
        &format!("tensor<{dtype}, [{n}]> y = {op}(x = x{extra})"),
        "y",
    );
    p.set_input_f32("x", x).unwrap();
    run(&mut p);
    p.output_f32("y").unwrap()
}

/// Runs `z = op(x = x, y = y)` with broadcasting, returning the output.
fn binary(
    op: &str,
    dtype: &str,
    (xs, x): (&str, &[f32]),
    (ys, y): (&str, &[f32]),
    zs: &str,
) -> Vec<f32> {
    let mut p = prepared(
        &format!("tensor<{dtype}, {xs}> x, tensor<{dtype}, {ys}> y"),
        &format!("tensor<{dtype}, {zs}> z = {op}(x = x, y = y)"),
        "z",
    );
    p.set_input_f32("x", x).unwrap();
    p.set_input_f32("y", y).unwrap();
    run(&mut p);
    p.output_f32("z").unwrap()
}

fn sample() -> Vec<f32> {
    let mut v = vec![
        0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -3.25, 10.0, -10.0, 11.5, 60000.0, -0.001, 1e-6, 6e-8,
    ];
    v.extend(random16(200, 21, 8.0));
    h(&v)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn erf(x: f64) -> f64 {
    ane_cpu::elementwise::erf_f64(x)
}

/// Op, extra arguments, f64 reference, allowed fp16 ulps.
type UnaryCase = (&'static str, &'static str, fn(f64) -> f64, u32);

#[test]
fn fp16_unary_ops_match_f64_rounded_once() {
    let x = sample();
    let cases: Vec<UnaryCase> = vec![
        ("relu", "", |x| x.max(0.0), 0),
        ("abs", "", f64::abs, 0),
        ("square", "", |x| x * x, 0),
        ("sqrt", "", f64::sqrt, 0),
        ("exp", "", f64::exp, 1),
        ("tanh", "", f64::tanh, 1),
        ("sigmoid", "", sigmoid, 1),
        ("silu", "", |x| x * sigmoid(x), 1),
        (
            "gelu",
            ", mode = string(\"EXACT\")",
            |x| 0.5 * x * (1.0 + erf(x / 2f64.sqrt())),
            1,
        ),
        (
            "gelu",
            ", mode = string(\"TANH_APPROXIMATION\")",
            |x| {
                0.5 * x
                    * (1.0
                        + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh())
            },
            1,
        ),
        (
            "gelu",
            ", mode = string(\"SIGMOID_APPROXIMATION\")",
            |x| x * sigmoid(1.702 * x),
            1,
        ),
        // The epsilon is added first: −0 + 0 = +0.
        ("log", ", epsilon = fp16(0x0p+0)", |x| (x + 0.0).ln(), 1),
        (
            "rsqrt",
            ", epsilon = fp16(0x0p+0)",
            |x| 1.0 / (x + 0.0).sqrt(),
            1,
        ),
        (
            "inverse",
            ", epsilon = fp16(0x0p+0)",
            |x| 1.0 / (x + 0.0),
            0,
        ),
        (
            "clip",
            ", alpha = fp16(-2.0), beta = fp16(3.0)",
            |x| x.clamp(-2.0, 3.0),
            0,
        ),
    ];
    for (op, extra, f, ulps) in cases {
        let got = unary(op, extra, "fp16", &x);
        for (&g, &xi) in got.iter().zip(&x) {
            let e = h64(f(f64::from(xi)));
            let same = g.to_bits() == e.to_bits() || (g.is_nan() && e.is_nan());
            assert!(
                same || ulps16(g, e) <= ulps,
                "{op}{extra}({xi}) = {g}, expected {e}"
            );
        }
    }
}

#[test]
fn fp32_unary_ops_match_f64() {
    let x = random(300, 22, 6.0);
    for (op, f) in [
        ("exp", f64::exp as fn(f64) -> f64),
        ("tanh", f64::tanh),
        ("sigmoid", sigmoid),
    ] {
        let got = unary(op, "", "fp32", &x);
        let expected: Vec<f64> = x.iter().map(|&v| f(f64::from(v))).collect();
        assert_close(&got, &expected, 1e-6);
    }
}

#[test]
fn special_values_follow_ieee() {
    let x = [0.0, -1.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN];
    // log(0) = −inf, log(negative) = NaN.
    assert_same(
        &unary("log", ", epsilon = fp16(0x0p+0)", "fp16", &x),
        &[
            f32::NEG_INFINITY,
            f32::NAN,
            f32::INFINITY,
            f32::NAN,
            f32::NAN,
        ],
    );
    assert_same(
        &unary("sqrt", "", "fp16", &x),
        &[0.0, f32::NAN, f32::INFINITY, f32::NAN, f32::NAN],
    );
    assert_same(
        &unary("rsqrt", ", epsilon = fp16(0x0p+0)", "fp16", &x),
        &[f32::INFINITY, f32::NAN, 0.0, f32::NAN, f32::NAN],
    );
    assert_same(
        &unary("relu", "", "fp16", &x),
        &[0.0, 0.0, f32::INFINITY, 0.0, f32::NAN],
    );
    assert_same(
        &unary("clip", ", alpha = fp16(-0.5), beta = fp16(0.5)", "fp16", &x),
        &[0.0, -0.5, 0.5, -0.5, f32::NAN],
    );
    assert_same(
        &unary("sigmoid", "", "fp16", &x),
        &[0.5, h64(sigmoid(-1.0)), 1.0, 0.0, f32::NAN],
    );
    // exp overflows fp16 above ln(65504) ≈ 11.09.
    assert_same(
        &unary("exp", "", "fp16", &[11.0, 11.1, 12.0]),
        &[h64(11f64.exp()), f32::INFINITY, f32::INFINITY],
    );
}

#[test]
fn default_epsilons_are_taken_in_the_dtype_of_x() {
    // Omitted epsilons: log's 1e-45 and rsqrt's 1e-12 are 0 in fp16; inverse's 1e-4 is 0x068E.
    assert_same(&unary("log", "", "fp16", &[0.0]), &[f32::NEG_INFINITY]);
    assert_same(&unary("rsqrt", "", "fp16", &[0.0]), &[f32::INFINITY]);
    let eps = f64::from(half::f16::from_bits(0x068E).to_f32());
    assert_same(
        &unary("inverse", "", "fp16", &[4.0, 0.0]),
        &[h64(1.0 / (4.0 + eps)), h64(1.0 / eps)],
    );
    // In fp32 the default 1e-4 shows: inverse(4) < 0.25 (Chromium's observation).
    assert!(unary("inverse", "", "fp32", &[4.0])[0] < 0.25);
    // In fp32 log's epsilon is 2⁻¹⁴⁹: log(0) is finite.
    let got = unary("log", "", "fp32", &[0.0])[0];
    assert!(
        (f64::from(got) - (2f64.powi(-149)).ln()).abs() < 1e-4,
        "{got}"
    );
}

#[test]
fn fp16_results_overflow_to_infinity_and_keep_subnormals() {
    let big = binary(
        "mul",
        "fp16",
        ("[3]", &[300.0, -300.0, 255.0]),
        ("[3]", &[300.0, 300.0, 256.0]),
        "[3]",
    );
    assert_same(&big, &[f32::INFINITY, f32::NEG_INFINITY, 65280.0]);
    // 65504 + 16 is the midpoint to 65536: ties to even overflows; + 15 stays.
    let edge = binary(
        "add",
        "fp16",
        ("[2]", &[65504.0, 65504.0]),
        ("[2]", &[16.0, 15.0]),
        "[2]",
    );
    assert_same(&edge, &[f32::INFINITY, 65504.0]);
    let tiny = 2f32.powi(-14);
    let small = binary(
        "mul",
        "fp16",
        ("[3]", &[tiny, tiny, tiny]),
        (
            "[3]",
            &[2f32.powi(-5), 2f32.powi(-11), 0.75 * 2f32.powi(-10)],
        ),
        "[3]",
    );
    // 2⁻¹⁹ is a subnormal; 2⁻²⁵ ties to 0; 0.75·2⁻²⁴ rounds up to the smallest subnormal.
    assert_same(&small, &[2f32.powi(-19), 0.0, 2f32.powi(-24)]);
}

#[test]
fn nan_propagates_through_arithmetic_and_extrema() {
    let nan = f32::NAN;
    for op in ["add", "mul", "maximum", "minimum", "real_div", "sub"] {
        let z = binary(
            op,
            "fp16",
            ("[2]", &[nan, 1.0]),
            ("[2]", &[1.0, nan]),
            "[2]",
        );
        assert!(z.iter().all(|v| v.is_nan()), "{op}: {z:?}");
    }
    let z = binary(
        "maximum",
        "fp32",
        ("[3]", &[1.0, -0.0, 5.0]),
        ("[3]", &[2.0, 0.0, -5.0]),
        "[3]",
    );
    assert_eq!(z[0], 2.0);
    assert_eq!(z[2], 5.0);
}

#[test]
fn pow_follows_c_powf() {
    let x = [2.0, -8.0, 0.0, 0.0, -2.0, 1.0, f32::NAN, 4.0];
    let y = [10.0, 1.0 / 3.0, -1.0, 0.0, 3.0, f32::NAN, 0.0, 0.5];
    let z = binary("pow", "fp32", ("[8]", &x), ("[8]", &y), "[8]");
    assert_same(
        &z,
        &[1024.0, f32::NAN, f32::INFINITY, 1.0, -8.0, 1.0, 1.0, 2.0],
    );
}

#[test]
fn broadcasting_over_ranks_and_size_one_dims() {
    let x = random16(2 * 3, 23, 4.0);
    let y = random16(4, 24, 4.0);
    // [2, 1, 3] + [4, 1] → [2, 4, 3].
    let z = binary(
        "add",
        "fp16",
        ("[2, 1, 3]", &x),
        ("[4, 1]", &y),
        "[2, 4, 3]",
    );
    let mut expected = Vec::new();
    for a in 0..2 {
        for &yb in &y {
            for c in 0..3 {
                expected.push(h64(f64::from(x[a * 3 + c]) + f64::from(yb)));
            }
        }
    }
    assert_same(&z, &expected);
    // Rank 5 against rank 1, and a rank-0 scalar.
    let x5 = random16(2 * 3 * 2 * 4, 25, 2.0);
    let z = binary(
        "sub",
        "fp16",
        ("[2, 3, 2, 1, 4]", &x5),
        ("[4]", &[1.0, 2.0, 3.0, 4.0]),
        "[2, 3, 2, 1, 4]",
    );
    let expected: Vec<f32> = x5
        .iter()
        .enumerate()
        .map(|(i, &v)| h64(f64::from(v) - (i % 4 + 1) as f64))
        .collect();
    assert_same(&z, &expected);
    let z = binary(
        "real_div",
        "fp32",
        ("[3]", &[1.0, 2.0, 3.0]),
        ("[]", &[4.0]),
        "[3]",
    );
    assert_same(&z, &[0.25, 0.5, 0.75]);
    let z = binary(
        "mul",
        "fp32",
        ("[1]", &[3.0]),
        ("[1, 1, 1, 1, 1]", &[2.0]),
        "[1, 1, 1, 1, 1]",
    );
    assert_same(&z, &[6.0]);
    // Zero-size dims broadcast to empty outputs.
    let z = binary(
        "add",
        "fp16",
        ("[0, 3]", &[]),
        ("[3]", &[1.0, 2.0, 3.0]),
        "[0, 3]",
    );
    assert!(z.is_empty());
}

#[test]
fn large_broadcasts_split_across_threads_the_same_way() {
    let x = random16(300 * 257, 26, 3.0);
    let y = random16(257, 27, 3.0);
    let z = binary(
        "mul",
        "fp16",
        ("[300, 257]", &x),
        ("[257]", &y),
        "[300, 257]",
    );
    for (i, (&g, &xv)) in z.iter().zip(&x).enumerate() {
        assert_eq!(g, h64(f64::from(xv) * f64::from(y[i % 257])), "at {i}");
    }
}

fn int_binary(op: &str, x: &[i32], y: &[i32]) -> Result<Vec<i32>, SimError> {
    let n = x.len();
    let mut p = prepared(
        &format!("tensor<int32, [{n}]> x, tensor<int32, [{n}]> y"),
        &format!("tensor<int32, [{n}]> z = {op}(x = x, y = y)"),
        "z",
    );
    p.set_input_i32("x", x).unwrap();
    p.set_input_i32("y", y).unwrap();
    p.run()?;
    Ok(p.output_i32("z").unwrap())
}

#[test]
fn int32_arithmetic_wraps_and_divides_toward_zero() {
    let x = [7, -7, i32::MAX, i32::MIN, 6];
    let y = [2, 2, 1, -1, -4];
    assert_eq!(
        int_binary("add", &x, &y).unwrap(),
        vec![9, -5, i32::MIN, i32::MAX, 2]
    );
    assert_eq!(
        int_binary("mul", &x, &y).unwrap(),
        vec![14, -14, i32::MAX, i32::MIN, -24]
    );
    assert_eq!(
        int_binary("real_div", &x, &y).unwrap(),
        vec![3, -3, i32::MAX, i32::MIN, -1]
    );
    assert_eq!(
        int_binary("maximum", &x, &y).unwrap(),
        vec![7, 2, i32::MAX, -1, 6]
    );
    assert_eq!(
        int_binary("pow", &[3, -2, 5, 1], &[3, 3, -1, -4]).unwrap(),
        vec![27, -8, 0, 1]
    );
    let err = int_binary("real_div", &[1, 2], &[1, 0]).unwrap_err();
    assert!(
        matches!(&err, SimError::Run { op, .. } if op.contains("\"z\"")),
        "{err}"
    );
    assert!(err.to_string().contains("division by zero"), "{err}");
}

#[test]
fn comparisons_give_bools() {
    let x = [1.0, 2.0, f32::NAN, -0.0];
    let y = [2.0, 2.0, f32::NAN, 0.0];
    let mut results = Vec::new();
    for op in [
        "equal",
        "not_equal",
        "greater",
        "greater_equal",
        "less",
        "less_equal",
    ] {
        let mut p = prepared(
            "tensor<fp16, [4]> x, tensor<fp16, [4]> y",
            &format!("tensor<bool, [4]> z = {op}(x = x, y = y)"),
            "z",
        );
        p.set_input_f32("x", &x).unwrap();
        p.set_input_f32("y", &y).unwrap();
        run(&mut p);
        results.push(p.output_bool("z").unwrap());
    }
    assert_eq!(
        results,
        vec![
            vec![false, true, false, true],
            vec![true, false, true, false],
            vec![false, false, false, false],
            vec![false, true, false, true],
            vec![true, false, false, false],
            vec![true, true, false, true],
        ]
    );
    let mut p = prepared(
        "tensor<int32, [3]> x",
        "tensor<int32, []> k = const()[name = string(\"k\"), val = int32(2)]\ntensor<bool, [3]> z = less(x = x, y = k)\ntensor<bool, [3]> n = logical_not(x = z)",
        "z, n",
    );
    p.set_input_i32("x", &[1, 2, 3]).unwrap();
    run(&mut p);
    assert_eq!(p.output_bool("z").unwrap(), vec![true, false, false]);
    assert_eq!(p.output_bool("n").unwrap(), vec![false, true, true]);
}

#[test]
fn select_broadcasts_all_three_operands() {
    let mut p = prepared(
        "tensor<bool, [2, 1]> c, tensor<fp16, [3]> a, tensor<fp16, [2, 3]> b",
        "tensor<fp16, [2, 3]> z = select(cond = c, a = a, b = b)",
        "z",
    );
    p.set_input_bool("c", &[true, false]).unwrap();
    p.set_input_f32("a", &[1.0, 2.0, 3.0]).unwrap();
    p.set_input_f32("b", &[10.0, 20.0, 30.0, 40.0, 50.0, 60.0])
        .unwrap();
    run(&mut p);
    assert_same(
        &p.output_f32("z").unwrap(),
        &[1.0, 2.0, 3.0, 40.0, 50.0, 60.0],
    );
}

fn cast(
    from: &str,
    to: &str,
    shape: usize,
    set: impl FnOnce(&mut ane_sim::PreparedProgram),
) -> ane_sim::PreparedProgram {
    let mut p = prepared(
        &format!("tensor<{from}, [{shape}]> x"),
        &format!("tensor<{to}, [{shape}]> y = cast(x = x, dtype = string(\"{to}\"))"),
        "y",
    );
    set(&mut p);
    run(&mut p);
    p
}

#[test]
fn cast_truncates_saturates_and_rounds() {
    let x = [-1.2, -3.6, 4.5, 6.7, f32::NAN, 1e10, -1e10];
    let mut p = cast("fp32", "int32", 7, |p| p.set_input_f32("x", &x).unwrap());
    assert_eq!(
        p.output_i32("y").unwrap(),
        vec![-1, -3, 4, 6, 0, i32::MAX, i32::MIN]
    );
    let mut p = cast("fp32", "fp16", 4, |p| {
        p.set_input_f32("x", &[1.0 + 1.0 / 4096.0, 70000.0, 1e-8, 0.1])
            .unwrap()
    });
    assert_same(
        &p.output_f32("y").unwrap(),
        &[1.0, f32::INFINITY, 0.0, h64(0.1)],
    );
    let mut p = cast("int32", "fp16", 3, |p| {
        p.set_input_i32("x", &[2049, 65519, 70000]).unwrap()
    });
    assert_same(
        &p.output_f32("y").unwrap(),
        &[2048.0, 65504.0, f32::INFINITY],
    );
    let mut p = cast("fp16", "bool", 4, |p| {
        p.set_input_f32("x", &[0.0, -0.0, 0.5, f32::NAN]).unwrap()
    });
    assert_eq!(p.output_bool("y").unwrap(), vec![false, false, true, true]);
    let mut p = cast("bool", "fp32", 2, |p| {
        p.set_input_bool("x", &[true, false]).unwrap()
    });
    assert_same(&p.output_f32("y").unwrap(), &[1.0, 0.0]);
    let mut p = cast("int32", "bool", 3, |p| {
        p.set_input_i32("x", &[0, -5, 7]).unwrap()
    });
    assert_eq!(p.output_bool("y").unwrap(), vec![false, true, true]);
}
