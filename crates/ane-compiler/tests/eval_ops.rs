//! The reference evaluator against hand-computed values: the finite-difference checks only prove
//! forward and backward agree, these pin down what the forward ops mean (and the documented tie,
//! padding and stability behaviour).

use ane_compiler::eval::{evaluate, EvalError, Feeds, Tensor};
use ane_compiler::{Conv2dParams, DType, Graph, GraphMode, Op, Pool2dParams, ValueId};

fn t(shape: &[usize], data: &[f64]) -> Tensor {
    Tensor::new(shape.to_vec(), data.to_vec()).unwrap()
}

/// Evaluates `y` with the given feeds.
fn run(mut g: Graph, y: ValueId, feeds: &[(&str, Tensor)]) -> Tensor {
    g.output("y", y).unwrap();
    let feeds: Feeds = feeds
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect();
    evaluate(&g, &feeds).unwrap().remove("y").unwrap()
}

fn assert_close(got: &Tensor, want: &[f64]) {
    assert_eq!(got.data().len(), want.len(), "{got:?}");
    for (a, b) in got.data().iter().zip(want) {
        assert!((a - b).abs() < 1e-12, "got {:?}, want {want:?}", got.data());
    }
}

fn nine() -> Tensor {
    t(&[1, 1, 3, 3], &[1., 2., 3., 4., 5., 6., 7., 8., 9.])
}

#[test]
fn linear_and_matmul_values() {
    let mut g = Graph::new();
    let x = g.input("x", &[1, 2], DType::F32).unwrap();
    let w = g.param("w", &[3, 2]).unwrap();
    let b = g.param("b", &[3]).unwrap();
    let y = g.linear(x, w, Some(b)).unwrap();
    let out = run(
        g,
        y,
        &[
            ("x", t(&[1, 2], &[1., 2.])),
            ("w", t(&[3, 2], &[1., 2., 3., 4., 5., 6.])),
            ("b", t(&[3], &[1., 1., 1.])),
        ],
    );
    assert_close(&out, &[6., 12., 18.]);

    // aᵀ·b with a = [[1, 2], [3, 4]] stored, b = identity-ish.
    let mut g = Graph::new();
    let a = g.input("a", &[2, 2], DType::F32).unwrap();
    let b = g.input("b", &[2, 2], DType::F32).unwrap();
    let y = g.matmul_t(a, b, true, false).unwrap();
    let out = run(
        g,
        y,
        &[
            ("a", t(&[2, 2], &[1., 2., 3., 4.])),
            ("b", t(&[2, 2], &[1., 0., 0., 2.])),
        ],
    );
    assert_close(&out, &[1., 6., 2., 8.]);
}

#[test]
fn conv2d_values_plain_strided_grouped() {
    let w = t(&[1, 1, 2, 2], &[1., 0., 0., -1.]);
    let mut g = Graph::new();
    let x = g.input("x", &[1, 1, 3, 3], DType::F32).unwrap();
    let wv = g.param("w", &[1, 1, 2, 2]).unwrap();
    let y = g.conv2d(x, wv, None, Conv2dParams::default()).unwrap();
    assert_close(
        &run(g, y, &[("x", nine()), ("w", w.clone())]),
        &[-4., -4., -4., -4.],
    );

    let mut g = Graph::new();
    let x = g.input("x", &[1, 1, 3, 3], DType::F32).unwrap();
    let wv = g.param("w", &[1, 1, 2, 2]).unwrap();
    let b = g.param("b", &[1]).unwrap();
    let p = Conv2dParams {
        stride: [2, 2],
        padding: [1, 1],
        groups: 1,
    };
    let y = g.conv2d(x, wv, Some(b), p).unwrap();
    let out = run(g, y, &[("x", nine()), ("w", w), ("b", t(&[1], &[0.5]))]);
    assert_close(&out, &[-0.5, -2.5, -6.5, -3.5]);

    let mut g = Graph::new();
    let x = g.input("x", &[1, 2, 1, 1], DType::F32).unwrap();
    let wv = g.param("w", &[2, 1, 1, 1]).unwrap();
    let p = Conv2dParams {
        groups: 2,
        ..Conv2dParams::default()
    };
    let y = g.conv2d(x, wv, None, p).unwrap();
    let out = run(
        g,
        y,
        &[
            ("x", t(&[1, 2, 1, 1], &[2., 3.])),
            ("w", t(&[2, 1, 1, 1], &[10., 100.])),
        ],
    );
    assert_close(&out, &[20., 300.]);
}

fn pool(kernel: usize, stride: usize, padding: usize) -> Pool2dParams {
    Pool2dParams {
        kernel: [kernel; 2],
        stride: [stride; 2],
        padding: [padding; 2],
    }
}

#[test]
fn max_pool_ties_go_to_the_first_maximum_and_padding_never_wins() {
    for (x, want) in [
        ([1., 1., 1., 1.], [5., 0., 0., 0.]),
        ([0., 3., 3., 1.], [0., 5., 0., 0.]),
    ] {
        let mut g = Graph::new();
        let xv = g.input("x", &[1, 1, 2, 2], DType::F32).unwrap();
        let dy = g.input("dy", &[1, 1, 1, 1], DType::F32).unwrap();
        let dx = g
            .add_node(Op::MaxPool2dBackward(pool(2, 2, 0)), &[xv, dy])
            .unwrap();
        let out = run(
            g,
            dx,
            &[("x", t(&[1, 1, 2, 2], &x)), ("dy", t(&[1, 1, 1, 1], &[5.]))],
        );
        assert_close(&out, &want);
    }
    let mut g = Graph::new();
    let x = g.input("x", &[1, 1, 2, 2], DType::F32).unwrap();
    let y = g.max_pool2d(x, pool(2, 1, 1)).unwrap();
    let out = run(g, y, &[("x", t(&[1, 1, 2, 2], &[-1., -2., -3., -4.]))]);
    assert_close(&out, &[-1., -1., -2., -1., -1., -2., -3., -3., -4.]);
}

#[test]
fn avg_pool_padding_counting() {
    for (include, corner) in [(true, 0.25), (false, 1.0)] {
        let mut g = Graph::new();
        let x = g.input("x", &[1, 1, 2, 2], DType::F32).unwrap();
        let y = g.avg_pool2d(x, pool(2, 1, 1), include).unwrap();
        let out = run(g, y, &[("x", t(&[1, 1, 2, 2], &[1., 2., 3., 4.]))]);
        assert_eq!(out.shape().dims(), &[1, 1, 3, 3]);
        assert!((out.data()[0] - corner).abs() < 1e-12);
        assert!(
            (out.data()[4] - 2.5).abs() < 1e-12,
            "the centre window is all real"
        );
    }
}

#[test]
fn causal_mask_values() {
    let mut g = Graph::new();
    let m = g.causal_mask(3).unwrap();
    let out = run(g, m, &[]);
    let n = -65504.0;
    assert_close(&out, &[0., n, n, 0., 0., n, 0., 0., 0.]);
}

#[test]
fn rope_rotates_interleaved_pairs_by_position() {
    // x: [S = 2, HD = 4], every pair = (1, 0). Position 0 is unchanged; at position 1 pair 0
    // turns by 1 rad and pair 1 by 1/10000^(2/4) = 0.01 rad.
    let mut g = Graph::new();
    let x = g.input("x", &[2, 4], DType::F32).unwrap();
    let y = g.rope(x).unwrap();
    let out = run(
        g,
        y,
        &[("x", t(&[2, 4], &[1., 0., 1., 0., 1., 0., 1., 0.]))],
    );
    let (s1, c1) = 1f64.sin_cos();
    let (s2, c2) = 0.01f64.sin_cos();
    let want = [1., 0., 1., 0., c1, s1, c2, s2];
    for (a, b) in out.data().iter().zip(want) {
        assert!((a - b).abs() < 1e-9, "{:?}", out.data());
    }
}

#[test]
fn cross_entropy_is_stable_and_exact() {
    let cases = [
        ([0., 0.], 0, std::f64::consts::LN_2),
        ([1000., 0.], 0, 0.0),
        ([1000., 0.], 1, 1000.0),
    ];
    for (logits, label, want) in cases {
        let mut g = Graph::new();
        let l = g.input("logits", &[1, 2], DType::F32).unwrap();
        let y = g.input_ids("labels", &[1]).unwrap();
        let loss = g.cross_entropy(l, y).unwrap();
        let out = run(
            g,
            loss,
            &[
                ("logits", t(&[1, 2], &logits)),
                ("labels", Tensor::from_ids([1], &[label]).unwrap()),
            ],
        );
        assert!(
            (out.item().unwrap() - want).abs() < 1e-12,
            "{logits:?} {label}"
        );
    }
}

#[test]
fn norms_softmax_and_activations() {
    let mut g = Graph::new();
    let x = g.input("x", &[3], DType::F32).unwrap();
    let one = g.param("gamma", &[3]).unwrap();
    let zero = g.param("beta", &[3]).unwrap();
    let y = g.layer_norm(x, one, zero, 1e-5).unwrap();
    let out = run(
        g,
        y,
        &[
            ("x", t(&[3], &[1., 2., 3.])),
            ("gamma", t(&[3], &[1., 1., 1.])),
            ("beta", t(&[3], &[0., 0., 0.])),
        ],
    );
    let s = (2.0f64 / 3.0 + 1e-5f32 as f64).sqrt();
    assert_close(&out, &[-1. / s, 0., 1. / s]);

    let mut g = Graph::new();
    let x = g.input("x", &[2], DType::F32).unwrap();
    let w = g.param("w", &[2]).unwrap();
    let y = g.rms_norm(x, w, 1e-5).unwrap();
    let out = run(
        g,
        y,
        &[("x", t(&[2], &[3., 4.])), ("w", t(&[2], &[1., 2.]))],
    );
    let r = (12.5 + 1e-5f32 as f64).sqrt();
    assert_close(&out, &[3. / r, 8. / r]);

    let mut g = Graph::new();
    let x = g.input("x", &[2], DType::F32).unwrap();
    let y = g.softmax(x, 0).unwrap();
    assert_close(
        &run(g, y, &[("x", t(&[2], &[0., 3f64.ln()]))]),
        &[0.25, 0.75],
    );

    let mut g = Graph::new();
    let x = g.input("x", &[1], DType::F32).unwrap();
    let a = g.gelu(x).unwrap();
    let b = g.gelu_tanh(x).unwrap();
    let y = g.concat(&[a, b], 0).unwrap();
    let out = run(g, y, &[("x", t(&[1], &[1.]))]);
    assert!((out.data()[0] - 0.841_344_746_068_542_9).abs() < 1e-13);
    assert!((out.data()[1] - 0.841_191_990_608_276_8).abs() < 1e-13);
}

#[test]
fn movement_ops_values() {
    let mut g = Graph::new();
    let x = g.input("x", &[2, 3], DType::F32).unwrap();
    let tr = g.transpose(x, 0, 1).unwrap(); // [3, 2]
    let cut = g.slice(tr, 0, 1, 3).unwrap(); // rows 1..3 of xᵀ
    let padded = g.pad(cut, 1, 1, 0).unwrap(); // [2, 3]
    let summed = g.reduce_sum(padded, &[0], false).unwrap();
    let out = run(g, summed, &[("x", t(&[2, 3], &[1., 2., 3., 4., 5., 6.]))]);
    // xᵀ = [[1,4],[2,5],[3,6]] → rows 1..3 = [[2,5],[3,6]] → pad → [[0,2,5],[0,3,6]] → Σ rows.
    assert_close(&out, &[0., 5., 11.]);
}

#[test]
fn embedding_rows_and_out_of_range_ids() {
    let table = t(&[3, 2], &[0., 1., 10., 11., 20., 21.]);
    let build = || {
        let mut g = Graph::new();
        let ids = g.input_ids("ids", &[3]).unwrap();
        let tab = g.param("table", &[3, 2]).unwrap();
        let y = g.embedding(ids, tab).unwrap();
        g.output("y", y).unwrap();
        g
    };
    let feeds = |ids: &[i32]| -> Feeds {
        [
            ("ids".to_string(), Tensor::from_ids([3], ids).unwrap()),
            ("table".to_string(), table.clone()),
        ]
        .into()
    };
    let out = evaluate(&build(), &feeds(&[2, 0, 2])).unwrap();
    assert_close(&out["y"], &[20., 21., 0., 1., 20., 21.]);
    let err = evaluate(&build(), &feeds(&[0, 3, 1])).unwrap_err();
    assert_eq!(
        err,
        EvalError::IndexOutOfRange {
            op: "embedding".into(),
            index: 3,
            limit: 3
        }
    );
}

#[test]
fn dropout_masks_are_reproducible_and_off_in_eval_mode() {
    let build = |mode| {
        let mut g = Graph::with_mode(mode);
        let x = g.input("x", &[64], DType::F32).unwrap();
        let y = g.dropout(x, 0.5).unwrap();
        let z = g.dropout(y, 0.5).unwrap();
        g.output("y", y).unwrap();
        g.output("z", z).unwrap();
        g
    };
    let ones = t(&[64], &[1.0; 64]);
    let feeds = |step: i32| -> Feeds {
        [
            ("x".to_string(), ones.clone()),
            (
                "dropout_rng".to_string(),
                Tensor::from_ids([2], &[99, step]).unwrap(),
            ),
        ]
        .into()
    };
    let train = build(GraphMode::Train);
    let a = evaluate(&train, &feeds(5)).unwrap();
    let b = evaluate(&train, &feeds(5)).unwrap();
    let c = evaluate(&train, &feeds(6)).unwrap();
    assert_eq!(a, b, "same seed and step give the same masks");
    assert_ne!(a["y"], c["y"], "the next step draws a new mask");
    assert!(a["y"].data().iter().all(|&v| v == 0.0 || v == 2.0));
    // The second site draws its own mask: z is not simply y scaled.
    let z_from_y: Vec<f64> = a["y"].data().iter().map(|v| v * 2.0).collect();
    assert_ne!(a["z"].data(), z_from_y.as_slice());

    let eval = build(GraphMode::Eval);
    assert!(eval.nodes().is_empty() && eval.inputs().len() == 1);
    let out = evaluate(&eval, &[("x".to_string(), ones.clone())].into()).unwrap();
    assert_eq!(out["z"], ones);
}

#[test]
fn bad_feeds_are_errors() {
    let mut g = Graph::new();
    let x = g.input("x", &[2], DType::F32).unwrap();
    let ids = g.input_ids("ids", &[1]).unwrap();
    g.output("x", x).unwrap();
    g.output("ids", ids).unwrap();
    let missing: Feeds = [("x".to_string(), t(&[2], &[1., 2.]))].into();
    assert_eq!(
        evaluate(&g, &missing).unwrap_err(),
        EvalError::MissingInput("ids".into())
    );
    let wrong_shape: Feeds = [
        ("x".to_string(), t(&[3], &[1., 2., 3.])),
        ("ids".to_string(), t(&[1], &[0.])),
    ]
    .into();
    assert!(matches!(
        evaluate(&g, &wrong_shape),
        Err(EvalError::InputShape { .. })
    ));
    let fractional: Feeds = [
        ("x".to_string(), t(&[2], &[1., 2.])),
        ("ids".to_string(), t(&[1], &[0.5])),
    ]
    .into();
    assert!(matches!(
        evaluate(&g, &fractional),
        Err(EvalError::NotInteger { .. })
    ));
}
