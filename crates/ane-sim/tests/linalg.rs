//! `matmul`, `linear`, `conv`, `conv_transpose`, the poolings and attention against naive f64
//! references: every pad type, strides, dilations, groups (depthwise too), ceil mode,
//! broadcasting batch dims, ranks 1 to 5.

mod common;

use ane_cpu::shape::{broadcast_shapes, broadcast_strides};
use common::reference::{self, ConvRef};
use common::*;

fn dims(s: &[usize]) -> String {
    format!("{s:?}")
}

fn literal(dtype: &str, shape: &[usize], v: &[f32]) -> String {
    let items: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
    format!("tensor<{dtype}, {}>([{}])", dims(shape), items.join(", "))
}

/// numpy matmul of row-major tensors in f64, with MIL's rank-1 rules.
fn matmul_ref(a: &[f32], sa: &[usize], b: &[f32], sb: &[usize], ta: bool, tb: bool) -> Vec<f64> {
    let a2: Vec<usize> = if sa.len() == 1 {
        vec![1, sa[0]]
    } else {
        sa.to_vec()
    };
    let b2: Vec<usize> = if sb.len() == 1 {
        vec![sb[0], 1]
    } else {
        sb.to_vec()
    };
    let (ar, ac) = (a2[a2.len() - 2], a2[a2.len() - 1]);
    let (br, bc) = (b2[b2.len() - 2], b2[b2.len() - 1]);
    let (m, k) = if ta { (ac, ar) } else { (ar, ac) };
    let n = if tb { br } else { bc };
    let (ab, bb) = (&a2[..a2.len() - 2], &b2[..b2.len() - 2]);
    let batch = broadcast_shapes("t", ab, bb).unwrap();
    let (sa_, sb_) = (broadcast_strides(ab, &batch), broadcast_strides(bb, &batch));
    let mut out = Vec::new();
    for idx in reference::indices(&batch) {
        let oa: usize = idx.iter().zip(&sa_).map(|(i, s)| i * s).sum::<usize>() * m * k;
        let ob: usize = idx.iter().zip(&sb_).map(|(i, s)| i * s).sum::<usize>() * k * n;
        out.extend(reference::matmul(
            &a[oa..oa + m * k],
            &b[ob..ob + k * n],
            m,
            k,
            n,
            ta,
            tb,
        ));
    }
    out
}

/// `x` shape, `y` shape, transpose flags, output shape.
type MatmulCase = (
    &'static [usize],
    &'static [usize],
    bool,
    bool,
    &'static [usize],
);

#[test]
fn matmul_ranks_transposes_and_broadcasting() {
    let cases: &[MatmulCase] = &[
        (&[3, 4], &[4, 5], false, false, &[3, 5]),
        (&[7], &[7], false, false, &[]),
        (&[7], &[2, 7, 3], false, false, &[2, 3]),
        (&[2, 3, 7], &[7], false, false, &[2, 3]),
        (&[10, 4, 3], &[5, 10, 3, 2], false, false, &[5, 10, 4, 2]),
        (&[2, 5, 3], &[2, 4, 5], true, true, &[2, 3, 4]),
        (&[6, 3], &[5, 6], true, true, &[3, 5]),
        (
            &[2, 1, 2, 3, 4],
            &[1, 3, 1, 4, 2],
            false,
            false,
            &[2, 3, 2, 3, 2],
        ),
        (&[2, 0, 3], &[3, 4], false, false, &[2, 0, 4]),
        (&[2, 3, 0], &[0, 4], false, false, &[2, 3, 4]),
        (&[70, 90], &[90, 80], false, false, &[70, 80]),
    ];
    for (i, &(sa, sb, ta, tb, so)) in cases.iter().enumerate() {
        let a = random16(sa.iter().product(), 40 + i as u64, 1.0);
        let b = random16(sb.iter().product(), 60 + i as u64, 1.0);
        let expected = matmul_ref(&a, sa, &b, sb, ta, tb);
        for dtype in ["fp16", "fp32"] {
            let mut p = prepared(
                &format!("tensor<{dtype}, {}> a, tensor<{dtype}, {}> b", dims(sa), dims(sb)),
                &format!("tensor<{dtype}, {}> y = matmul(x = a, y = b, transpose_x = bool({ta}), transpose_y = bool({tb}))", dims(so)),
                "y",
            );
            p.set_input_f32("a", &a).unwrap();
            p.set_input_f32("b", &b).unwrap();
            run(&mut p);
            let got = p.output_f32("y").unwrap();
            if dtype == "fp16" {
                for (g, e) in got.iter().zip(&expected) {
                    assert!(ulps16(*g, h64(*e)) <= 1, "case {i}: {g} vs {e}");
                }
                assert_eq!(got.len(), expected.len());
            } else {
                assert_close(&got, &expected, 1e-5);
            }
        }
    }
}

#[test]
fn int32_matmul_and_mixed_const_operands() {
    let mut p = prepared(
        "tensor<int32, [2, 2]> a, tensor<fp16, [2, 3]> x",
        &format!(
            "tensor<int32, [2, 2]> y = matmul(x = a, y = a)\ntensor<fp16, [2, 2]> z = matmul(x = x, y = {}, transpose_y = bool(true))\ntensor<int32, [2, 3]> l = linear(x = a, weight = tensor<int32, [3, 2]>([1, 0, 0, 1, 1, 1]), bias = tensor<int32, [3]>([0, 10, 100]))",
            literal("fp32", &[2, 3], &[1.0, 0.0, -1.0, 0.5, 0.5, 0.5])
        ),
        "y, z, l",
    );
    p.set_input_i32("a", &[1, 2, 3, 4]).unwrap();
    p.set_input_f32("x", &[1.0, 2.0, 3.0, -1.0, 0.0, 1.0])
        .unwrap();
    run(&mut p);
    assert_eq!(p.output_i32("y").unwrap(), vec![7, 10, 15, 22]);
    assert_eq!(p.output_i32("l").unwrap(), vec![1, 12, 103, 3, 14, 107]);
    assert_same(&p.output_f32("z").unwrap(), &[-2.0, 3.0, -2.0, 0.0]);
}

#[test]
fn linear_is_x_times_weight_transposed_plus_bias() {
    let x = random16(2 * 3 * 4, 70, 1.0);
    let w = random16(5 * 4, 71, 1.0);
    let bias = random16(5, 72, 1.0);
    let mut p = prepared(
        "tensor<fp16, [2, 3, 4]> x",
        &format!(
            "tensor<fp16, [2, 3, 5]> y = linear(x = x, weight = {}, bias = {})\ntensor<fp16, [2, 3, 5]> z = linear(x = x, weight = {})",
            literal("fp16", &[5, 4], &w),
            literal("fp16", &[5], &bias),
            literal("fp16", &[5, 4], &w)
        ),
        "y, z",
    );
    p.set_input_f32("x", &x).unwrap();
    run(&mut p);
    let y = p.output_f32("y").unwrap();
    let z = p.output_f32("z").unwrap();
    for r in 0..6 {
        for o in 0..5 {
            let dot: f64 = (0..4)
                .map(|k| f64::from(x[r * 4 + k]) * f64::from(w[o * 4 + k]))
                .sum();
            assert!(ulps16(y[r * 5 + o], h64(dot + f64::from(bias[o]))) <= 1);
            assert!(ulps16(z[r * 5 + o], h64(dot)) <= 1);
        }
    }
}

struct ConvCase {
    x: Vec<usize>,
    w: Vec<usize>,
    out: Vec<usize>,
    args: String,
    strides: Vec<usize>,
    dilations: Vec<usize>,
    pads_before: Vec<usize>,
    groups: usize,
    bias: bool,
    const_weight: bool,
}

fn check_conv(c: &ConvCase, seed: u64, transpose: bool) {
    let x = random16(c.x.iter().product(), seed, 1.0);
    let w = random16(c.w.iter().product(), seed + 1, 0.5);
    let c_out = if transpose { c.w[1] * c.groups } else { c.w[0] };
    let bias = random16(c_out, seed + 2, 1.0);
    let op = if transpose { "conv_transpose" } else { "conv" };
    let weight = if c.const_weight {
        literal("fp16", &c.w, &w)
    } else {
        "w".to_string()
    };
    let bias_arg = if c.bias {
        format!(", bias = {}", literal("fp16", &[c_out], &bias))
    } else {
        String::new()
    };
    let mut params = format!("tensor<fp16, {}> x", dims(&c.x));
    if !c.const_weight {
        params.push_str(&format!(", tensor<fp16, {}> w", dims(&c.w)));
    }
    let mut p = prepared(
        &params,
        &format!(
            "tensor<fp16, {}> y = {op}(x = x, weight = {weight}{bias_arg}, groups = int32({}){})",
            dims(&c.out),
            c.groups,
            c.args
        ),
        "y",
    );
    p.set_input_f32("x", &x).unwrap();
    if !c.const_weight {
        p.set_input_f32("w", &w).unwrap();
    }
    run(&mut p);
    let g = ConvRef {
        x_shape: &c.x,
        w_shape: &c.w,
        out_sp: &c.out[2..],
        strides: &c.strides,
        dilations: &c.dilations,
        pads_before: &c.pads_before,
        groups: c.groups,
    };
    let b = c.bias.then_some(bias.as_slice());
    let expected = if transpose {
        reference::conv_transpose(&g, &x, &w, b)
    } else {
        reference::conv(&g, &x, &w, b)
    };
    let got = p.output_f32("y").unwrap();
    assert_eq!(got.len(), expected.len(), "{}", c.args);
    for (i, (gv, e)) in got.iter().zip(&expected).enumerate() {
        assert!(
            ulps16(*gv, h64(*e)) <= 1,
            "{op}{}: element {i}: {gv} vs {e}",
            c.args
        );
    }
}

/// A conv case from `[x, weight, output]` shapes, extra arguments, `[strides, dilations,
/// pads_before]` and the group count.
fn conv_case(shapes: [&[usize]; 3], args: &str, window: [&[usize]; 3], groups: usize) -> ConvCase {
    let [x, w, out] = shapes;
    let [strides, dilations, pads] = window;
    ConvCase {
        x: x.to_vec(),
        w: w.to_vec(),
        out: out.to_vec(),
        args: args.to_string(),
        strides: strides.to_vec(),
        dilations: dilations.to_vec(),
        pads_before: pads.to_vec(),
        groups,
        bias: false,
        const_weight: false,
    }
}

#[test]
fn conv_every_pad_type_stride_and_dilation() {
    // D = 7, k = 4, s = 2: same pads 1 before / 2 after; same_lower 2 / 1.
    let st = ", strides = tensor<int32, [2]>([2, 1])";
    let cases = [
        conv_case([&[2, 3, 7, 5], &[4, 3, 4, 3], &[2, 4, 4, 5]], &format!("{st}, pad_type = string(\"same\")"), [&[2, 1], &[1, 1], &[1, 1]], 1),
        conv_case([&[2, 3, 7, 5], &[4, 3, 4, 3], &[2, 4, 4, 5]], &format!("{st}, pad_type = string(\"same_lower\")"), [&[2, 1], &[1, 1], &[2, 1]], 1),
        conv_case([&[1, 3, 7, 5], &[2, 3, 4, 3], &[1, 2, 2, 3]], &format!("{st}, pad_type = string(\"valid\")"), [&[2, 1], &[1, 1], &[0, 0]], 1),
        ConvCase {
            const_weight: true,
            bias: true,
            ..conv_case([&[1, 2, 6, 6], &[3, 2, 2, 3], &[1, 3, 6, 4]], ", pad_type = string(\"custom\"), pad = tensor<int32, [4]>([1, 1, 2, 0]), dilations = tensor<int32, [2]>([2, 2])", [&[1, 1], &[2, 2], &[1, 2]], 1)
        },
        // 1-D and 3-D.
        conv_case([&[2, 2, 10], &[3, 2, 3], &[2, 3, 3]], ", strides = tensor<int32, [1]>([3])", [&[3], &[1], &[0]], 1),
        conv_case([&[1, 2, 3, 4, 4], &[2, 2, 2, 2, 2], &[1, 2, 3, 4, 4]], ", pad_type = string(\"same\")", [&[1, 1, 1], &[1, 1, 1], &[0, 0, 0]], 1),
    ];
    for (i, c) in cases.iter().enumerate() {
        check_conv(c, 100 + 10 * i as u64, false);
    }
}

#[test]
fn conv_groups_depthwise_and_pointwise() {
    let grouped = ConvCase {
        bias: true,
        ..conv_case(
            [&[2, 4, 5, 5], &[6, 2, 3, 3], &[2, 6, 3, 3]],
            "",
            [&[1, 1], &[1, 1], &[0, 0]],
            2,
        )
    };
    let depthwise = ConvCase {
        bias: true,
        const_weight: true,
        ..conv_case(
            [&[1, 4, 6, 6], &[4, 1, 3, 3], &[1, 4, 6, 6]],
            ", pad_type = string(\"same\")",
            [&[1, 1], &[1, 1], &[1, 1]],
            4,
        )
    };
    // The ANE workhorse: a 1×1 conv over [1, C, 1, S].
    let pointwise = ConvCase {
        bias: true,
        ..conv_case(
            [&[1, 64, 1, 48], &[96, 64, 1, 1], &[1, 96, 1, 48]],
            "",
            [&[1, 1], &[1, 1], &[0, 0]],
            1,
        )
    };
    for (i, c) in [grouped, depthwise, pointwise].iter().enumerate() {
        check_conv(c, 200 + 10 * i as u64, false);
    }
}

#[test]
fn conv_transpose_output_sizes_pads_and_groups() {
    let cases = [
        // valid: (D − 1)·s + E = (3 − 1)·2 + 3 = 7.
        ConvCase { bias: true, ..conv_case([&[2, 3, 3, 4], &[3, 2, 3, 3], &[2, 2, 7, 9]], ", strides = tensor<int32, [2]>([2, 2])", [&[2, 2], &[1, 1], &[0, 0]], 1) },
        // same: D·s; P = (D − 1)·s + E − D·s = 1 → 0 before.
        conv_case([&[1, 2, 3, 3], &[2, 2, 3, 3], &[1, 2, 6, 6]], ", strides = tensor<int32, [2]>([2, 2]), pad_type = string(\"same\")", [&[2, 2], &[1, 1], &[0, 0]], 1),
        // custom pads with dilation, groups and an explicit output shape larger than needed.
        ConvCase {
            const_weight: true,
            ..conv_case([&[1, 4, 3, 3], &[4, 1, 2, 2], &[1, 2, 6, 5]], ", pad_type = string(\"custom\"), pad = tensor<int32, [4]>([1, 0, 0, 1]), dilations = tensor<int32, [2]>([2, 1]), strides = tensor<int32, [2]>([2, 1]), output_shape = tensor<int32, [4]>([1, 2, 6, 5])", [&[2, 1], &[2, 1], &[1, 0]], 2)
        },
        conv_case([&[2, 2, 5], &[2, 3, 4], &[2, 3, 8]], "", [&[1], &[1], &[0]], 1),
    ];
    for (i, c) in cases.iter().enumerate() {
        check_conv(c, 300 + 10 * i as u64, true);
    }
}

/// Pools `x` with the given window and returns the output.
fn pool(op: &str, x_shape: &[usize], out_shape: &[usize], args: &str, x: &[f32]) -> Vec<f32> {
    let mut p = prepared(
        &format!("tensor<fp32, {}> x", dims(x_shape)),
        &format!("tensor<fp32, {}> y = {op}(x = x{args})", dims(out_shape)),
        "y",
    );
    p.set_input_f32("x", x).unwrap();
    run(&mut p);
    p.output_f32("y").unwrap()
}

#[test]
fn avg_pool_matches_the_coremltools_backend_examples() {
    let x: Vec<f32> = (1..=7).map(|v| v as f32).collect();
    let y = pool(
        "avg_pool",
        &[1, 1, 7],
        &[1, 1, 3],
        ", kernel_sizes = tensor<int32, [1]>([3]), strides = tensor<int32, [1]>([3]), pad_type = string(\"same\"), exclude_padding_from_average = bool(true)",
        &x,
    );
    assert_same(&y, &[1.5, 4.0, 6.5]);
    let y = pool(
        "avg_pool",
        &[1, 1, 2],
        &[1, 1, 2],
        ", kernel_sizes = tensor<int32, [1]>([2]), pad_type = string(\"same_lower\")",
        &[1.0, 2.0],
    );
    assert_same(&y, &[0.5, 1.5]);
}

#[test]
fn pooling_windows_padding_and_ceil_mode() {
    let x: Vec<f32> = (0..25).map(|v| v as f32).collect();
    // 5×5, k = 2, s = 2, pad 1 each side, ceil mode: floor((5 + 2 − 2 + 1)/2) + 1 = 4, but the
    // last window would start at (4 − 1)·2 = 6 ≥ 5 + pad_before, so it is dropped: 3.
    let args = ", kernel_sizes = tensor<int32, [2]>([2, 2]), strides = tensor<int32, [2]>([2, 2]), pad_type = string(\"custom\"), pad = tensor<int32, [4]>([1, 1, 1, 1]), ceil_mode = bool(true)";
    let max = pool("max_pool", &[1, 1, 5, 5], &[1, 1, 3, 3], args, &x);
    // Windows rows/cols: [-1,1) → {0}, [1,3) → {1,2}, [3,5) → {3,4}.
    let rows = [vec![0], vec![1, 2], vec![3, 4]];
    let mut expected_max = Vec::new();
    let mut expected_avg = Vec::new();
    for r in &rows {
        for c in &rows {
            let vals: Vec<f32> = r
                .iter()
                .flat_map(|&i| c.iter().map(move |&j| (i * 5 + j) as f32))
                .collect();
            expected_max.push(vals.iter().copied().fold(f32::NEG_INFINITY, f32::max));
            // Include padding: every window covers 2×2 of the padded input.
            expected_avg.push(vals.iter().sum::<f32>() / 4.0);
        }
    }
    assert_same(&max, &expected_max);
    let avg = pool("avg_pool", &[1, 1, 5, 5], &[1, 1, 3, 3], args, &x);
    assert_same(&avg, &expected_avg);
    // Ceil mode without padding keeps a partial last window: 5 → ceil((5 − 2)/2) + 1 = 3.
    let args = ", kernel_sizes = tensor<int32, [2]>([2, 2]), strides = tensor<int32, [2]>([2, 2]), pad_type = string(\"valid\"), ceil_mode = bool(true), exclude_padding_from_average = bool(true)";
    let avg = pool("avg_pool", &[1, 1, 5, 5], &[1, 1, 3, 3], args, &x);
    // Output column 2 covers input columns 4 and 5 (past the edge): only 4 is real.
    assert_eq!(avg[2], (4.0 + 9.0) / 2.0);
    assert_eq!(avg[8], 24.0, "the corner window holds one real element");
    // max_pool: padded positions never win, NaN wins.
    let neg: Vec<f32> = (0..9).map(|v| -(v as f32) - 1.0).collect();
    let args = ", kernel_sizes = tensor<int32, [2]>([3, 3]), pad_type = string(\"same\")";
    let max = pool("max_pool", &[1, 1, 3, 3], &[1, 1, 3, 3], args, &neg);
    assert_same(
        &max,
        &[-1.0, -1.0, -2.0, -1.0, -1.0, -2.0, -4.0, -4.0, -5.0],
    );
    let mut with_nan = neg.clone();
    with_nan[4] = f32::NAN;
    let max = pool("max_pool", &[1, 1, 3, 3], &[1, 1, 3, 3], args, &with_nan);
    assert!(max.iter().all(|v| v.is_nan()));
}

fn attention_ref(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    (l, s, e, ev): (usize, usize, usize, usize),
    mask: impl Fn(usize, usize) -> f64,
) -> Vec<f64> {
    let mut out = vec![0f64; l * ev];
    for i in 0..l {
        let scores: Vec<f64> = (0..s)
            .map(|j| {
                let dot: f64 = (0..e)
                    .map(|t| f64::from(q[i * e + t]) * f64::from(k[j * e + t]))
                    .sum();
                dot / (e as f64).sqrt() + mask(i, j)
            })
            .collect();
        let m = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = scores.iter().map(|x| (x - m).exp()).collect();
        let total: f64 = w.iter().sum();
        for t in 0..ev {
            out[i * ev + t] = (0..s)
                .map(|j| w[j] / total * f64::from(v[j * ev + t]))
                .sum();
        }
    }
    out
}

/// A mask value for (query row, key column).
type MaskFn<'a> = Box<dyn Fn(usize, usize) -> f64 + 'a>;

#[test]
fn attention_with_and_without_masks() {
    let (b, l, s, e, ev) = (2, 3, 5, 4, 6);
    let q = random16(b * l * e, 80, 1.0);
    let k = random16(b * s * e, 81, 1.0);
    let v = random16(b * s * ev, 82, 1.0);
    let fmask = random16(s, 83, 2.0);
    let bmask: Vec<bool> = (0..l * s).map(|i| i % 3 != 1).collect();
    let mut p = prepared(
        "tensor<fp16, [2, 3, 4]> q, tensor<fp16, [2, 5, 4]> k, tensor<fp16, [2, 5, 6]> v, tensor<bool, [3, 5]> bm, tensor<fp16, [1, 5]> fm",
        r#"tensor<fp16, [2, 3, 6]> plain = scaled_dot_product_attention(query = q, key = k, value = v)
        tensor<fp16, [2, 3, 6]> masked = scaled_dot_product_attention(query = q, key = k, value = v, attn_mask = bm)
        tensor<fp16, [2, 3, 6]> added = scaled_dot_product_attention(query = q, key = k, value = v, attn_mask = fm)"#,
        "plain, masked, added",
    );
    p.set_input_f32("q", &q).unwrap();
    p.set_input_f32("k", &k).unwrap();
    p.set_input_f32("v", &v).unwrap();
    p.set_input_bool("bm", &bmask).unwrap();
    p.set_input_f32("fm", &fmask).unwrap();
    run(&mut p);
    let masks: [(&str, MaskFn<'_>); 3] = [
        ("plain", Box::new(|_, _| 0.0)),
        (
            "masked",
            Box::new(|i, j| {
                if bmask[i * s + j] {
                    0.0
                } else {
                    f64::NEG_INFINITY
                }
            }),
        ),
        ("added", Box::new(|_, j| f64::from(fmask[j]))),
    ];
    for (name, mask) in masks {
        let got = p.output_f32(name).unwrap();
        for bi in 0..b {
            let expected = attention_ref(
                &q[bi * l * e..],
                &k[bi * s * e..],
                &v[bi * s * ev..],
                (l, s, e, ev),
                &mask,
            );
            for (g, x) in got[bi * l * ev..(bi + 1) * l * ev].iter().zip(&expected) {
                assert!(ulps16(*g, h64(*x)) <= 2, "{name}: {g} vs {x}");
            }
        }
    }
    // A row masked everywhere is NaN.
    let mut p = prepared(
        "tensor<fp32, [1, 1, 2]> q, tensor<fp32, [1, 2, 2]> k, tensor<bool, [1, 2]> m",
        "tensor<fp32, [1, 1, 2]> y = scaled_dot_product_attention(query = q, key = k, value = k, attn_mask = m)",
        "y",
    );
    p.set_input_f32("q", &[1.0, 2.0]).unwrap();
    p.set_input_f32("k", &[1.0, 2.0, 3.0, 4.0]).unwrap();
    p.set_input_bool("m", &[false, false]).unwrap();
    run(&mut p);
    assert!(p.output_f32("y").unwrap().iter().all(|v| v.is_nan()));
    // No keys at all: every output is an empty sum, 0.
    let mut p = prepared(
        "tensor<fp16, [1, 2, 2]> q, tensor<fp16, [1, 0, 2]> k, tensor<fp16, [1, 0, 3]> v",
        "tensor<fp16, [1, 2, 3]> y = scaled_dot_product_attention(query = q, key = k, value = v)",
        "y",
    );
    p.set_input_f32("q", &[1.0, 2.0, 3.0, 4.0]).unwrap();
    run(&mut p);
    assert_eq!(p.output_f32("y").unwrap(), vec![0.0; 6]);
}
