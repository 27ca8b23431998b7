//! Finite-difference gradient checks for every differentiable op, through the full
//! forward + backward graph (so every dedicated backward op is exercised by its forward op's check).
//!
//! Each test builds a small forward graph on random data, turns the op's output into the scalar
//! `Σ y·probe` (random probe), and compares every gradient element produced by autodiff with a
//! central difference in f64: step 1e-5, tolerance |a − n| ≤ 1e-7 + 1e-6·max(|a|, |n|)
//! (constants in `common`).

mod common;

use ane_compiler::eval::Tensor;
use ane_compiler::{Conv2dParams, DType, Graph, GraphError, Op, Pool2dParams, ValueId};
use common::{assert_gradients, feeds, gradient_mismatches, probe_loss, TestRng};

/// Builds `y = build(g)`, adds the probe loss and checks gradients w.r.t. every parameter and the
/// named data inputs.
fn check(
    seed: u64,
    given: &[(&str, Tensor)],
    wrt: &[&str],
    build: impl FnOnce(&mut Graph) -> ValueId,
) {
    let mut g = Graph::new();
    let y = build(&mut g);
    probe_loss(&mut g, y);
    let mut rng = TestRng::new(seed);
    let feeds = feeds(&g, &mut rng, given);
    assert_gradients(&g, &feeds, wrt, None);
}

fn x(g: &mut Graph, shape: &[usize]) -> ValueId {
    g.input("x", shape, DType::F32).unwrap()
}

// ---------------------------------------------------------------- linear algebra

#[test]
fn linear_with_bias_on_rank3_input() {
    check(1, &[], &["x"], |g| {
        let x = x(g, &[2, 3, 4]);
        let w = g.param("w", &[5, 4]).unwrap();
        let b = g.param("b", &[5]).unwrap();
        g.linear(x, w, Some(b)).unwrap()
    });
}

#[test]
fn linear_without_bias() {
    check(2, &[], &["x"], |g| {
        let x = x(g, &[3, 4]);
        let w = g.param("w", &[2, 4]).unwrap();
        g.linear(x, w, None).unwrap()
    });
}

#[test]
fn matmul_in_every_transpose_combination() {
    for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
        check(3, &[], &["a", "b"], |g| {
            let a_shape = if ta { [2, 4, 3] } else { [2, 3, 4] };
            let b_shape = if tb { [2, 5, 4] } else { [2, 4, 5] };
            let a = g.input("a", &a_shape, DType::F32).unwrap();
            let b = g.input("b", &b_shape, DType::F32).unwrap();
            g.matmul_t(a, b, ta, tb).unwrap()
        });
    }
}

#[test]
fn matmul_with_broadcast_batch_axes() {
    check(4, &[], &["a", "b"], |g| {
        let a = g.input("a", &[2, 1, 3, 4], DType::F32).unwrap();
        let b = g.input("b", &[3, 4, 2], DType::F32).unwrap();
        g.matmul(a, b).unwrap()
    });
    check(5, &[], &["a", "b"], |g| {
        let a = g.input("a", &[2, 3, 4], DType::F32).unwrap();
        let b = g.input("b", &[4, 2], DType::F32).unwrap();
        g.matmul_t(a, b, false, false).unwrap()
    });
}

// ---------------------------------------------------------------- convolution and pooling

fn conv_check(
    seed: u64,
    x_shape: [usize; 4],
    w_shape: [usize; 4],
    bias: bool,
    params: Conv2dParams,
) {
    check(seed, &[], &["x"], |g| {
        let x = x(g, &x_shape);
        let w = g.param("w", &w_shape).unwrap();
        let b = bias.then(|| g.param("b", &[w_shape[0]]).unwrap());
        g.conv2d(x, w, b, params).unwrap()
    });
}

#[test]
fn conv2d_3x3_same_padding_with_bias() {
    let p = Conv2dParams {
        stride: [1, 1],
        padding: [1, 1],
        groups: 1,
    };
    conv_check(6, [2, 3, 5, 5], [4, 3, 3, 3], true, p);
}

#[test]
fn conv2d_strided_and_padded() {
    let p = Conv2dParams {
        stride: [2, 2],
        padding: [1, 1],
        groups: 1,
    };
    conv_check(7, [1, 2, 6, 7], [3, 2, 3, 3], true, p);
}

#[test]
fn conv2d_non_square_kernel_and_uneven_stride() {
    let p = Conv2dParams {
        stride: [2, 1],
        padding: [0, 1],
        groups: 1,
    };
    conv_check(8, [2, 2, 5, 4], [3, 2, 2, 3], false, p);
}

#[test]
fn conv2d_grouped() {
    let p = Conv2dParams {
        stride: [1, 1],
        padding: [1, 0],
        groups: 2,
    };
    conv_check(9, [2, 4, 4, 4], [6, 2, 3, 2], true, p);
}

#[test]
fn conv2d_depthwise() {
    let p = Conv2dParams {
        stride: [2, 2],
        padding: [1, 1],
        groups: 3,
    };
    conv_check(10, [1, 3, 5, 5], [3, 1, 3, 3], true, p);
}

/// Distinct, well-separated values so no pooling window has a near-tie (a tie within the
/// finite-difference step would make the numeric derivative meaningless).
fn spread_values(rng: &mut TestRng, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    Tensor::new(
        shape.to_vec(),
        order.iter().map(|&k| k as f64 * 0.01 - 0.3).collect(),
    )
    .unwrap()
}

#[test]
fn max_pool2d_plain_overlapping_and_padded() {
    let cases = [
        (
            [2, 2, 4, 4],
            Pool2dParams {
                kernel: [2, 2],
                stride: [2, 2],
                padding: [0, 0],
            },
        ),
        (
            [1, 2, 5, 5],
            Pool2dParams {
                kernel: [3, 3],
                stride: [2, 2],
                padding: [1, 1],
            },
        ),
        (
            [1, 1, 5, 6],
            Pool2dParams {
                kernel: [3, 2],
                stride: [1, 2],
                padding: [1, 0],
            },
        ),
    ];
    for (seed, (shape, pool)) in cases.into_iter().enumerate() {
        let mut rng = TestRng::new(100 + seed as u64);
        let xs = spread_values(&mut rng, &shape);
        check(11 + seed as u64, &[("x", xs)], &["x"], |g| {
            let x = x(g, &shape);
            g.max_pool2d(x, pool).unwrap()
        });
    }
}

#[test]
fn avg_pool2d_with_and_without_counting_padding() {
    let pool = Pool2dParams {
        kernel: [3, 3],
        stride: [2, 2],
        padding: [1, 1],
    };
    for include in [true, false] {
        check(14, &[], &["x"], |g| {
            let x = x(g, &[2, 2, 5, 6]);
            g.avg_pool2d(x, pool, include).unwrap()
        });
    }
    let plain = Pool2dParams {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0, 0],
    };
    check(15, &[], &["x"], |g| {
        let x = x(g, &[1, 3, 4, 4]);
        g.avg_pool2d(x, plain, true).unwrap()
    });
}

// ---------------------------------------------------------------- elementwise

#[test]
fn binary_ops_with_broadcasting() {
    type Build = fn(&mut Graph, ValueId, ValueId) -> Result<ValueId, GraphError>;
    let ops: [(&str, Build); 3] = [
        ("add", Graph::add),
        ("sub", Graph::sub),
        ("mul", Graph::mul),
    ];
    let shapes: [(&[usize], &[usize]); 3] =
        [(&[2, 3], &[3]), (&[2, 1, 3], &[4, 1]), (&[2, 3], &[2, 3])];
    for (name, op) in ops {
        for (sa, sb) in shapes {
            let mut g = Graph::new();
            let a = g.input("a", sa, DType::F32).unwrap();
            let b = g.input("b", sb, DType::F32).unwrap();
            let y = op(&mut g, a, b).unwrap();
            probe_loss(&mut g, y);
            let feeds = feeds(&g, &mut TestRng::new(16), &[]);
            let (bad, _) = gradient_mismatches(&g, &feeds, &["a", "b"], None);
            assert!(bad.is_empty(), "{name} {sa:?} {sb:?}: {bad:?}");
        }
    }
}

#[test]
fn div_with_broadcasting() {
    let mut rng = TestRng::new(17);
    // Denominators away from zero.
    let b = rng.tensor(&[1, 3], 0.5, 2.0);
    check(17, &[("b", b)], &["a", "b"], |g| {
        let a = g.input("a", &[2, 3], DType::F32).unwrap();
        let b = g.input("b", &[1, 3], DType::F32).unwrap();
        g.div(a, b).unwrap()
    });
}

#[test]
fn scalar_mul_and_add() {
    check(18, &[], &["x"], |g| {
        let x = x(g, &[3, 2]);
        let y = g.scalar_mul(x, -1.75).unwrap();
        g.scalar_add(y, 0.5).unwrap()
    });
}

#[test]
fn every_activation() {
    type Build = fn(&mut Graph, ValueId) -> Result<ValueId, GraphError>;
    let ops: [(&str, Build); 6] = [
        ("relu", Graph::relu),
        ("gelu", Graph::gelu),
        ("gelu_tanh", Graph::gelu_tanh),
        ("silu", Graph::silu),
        ("sigmoid", Graph::sigmoid),
        ("tanh", Graph::tanh),
    ];
    for (name, op) in ops {
        let mut g = Graph::new();
        let x = g.input("x", &[4, 5], DType::F32).unwrap();
        let y = op(&mut g, x).unwrap();
        probe_loss(&mut g, y);
        // Inputs in [−3, 3]; ReLU's kink at 0 is hit with probability ~0.
        let xs = TestRng::new(19).tensor(&[4, 5], -3.0, 3.0);
        let feeds = feeds(&g, &mut TestRng::new(20), &[("x", xs)]);
        let (bad, checked) = gradient_mismatches(&g, &feeds, &["x"], None);
        assert_eq!(checked, 20);
        assert!(bad.is_empty(), "{name}: {bad:?}");
    }
}

// ---------------------------------------------------------------- normalisation

#[test]
fn softmax_on_last_and_inner_axes() {
    for axis in [-1, 1, 0] {
        check(21, &[], &["x"], |g| {
            let x = x(g, &[2, 3, 4]);
            let scaled = g.scalar_mul(x, 3.0).unwrap();
            g.softmax(scaled, axis).unwrap()
        });
    }
}

#[test]
fn layer_norm_all_inputs() {
    check(22, &[], &["x"], |g| {
        let x = x(g, &[2, 3, 5]);
        let gamma = g.param("gamma", &[5]).unwrap();
        let beta = g.param("beta", &[5]).unwrap();
        g.layer_norm(x, gamma, beta, 1e-5).unwrap()
    });
}

#[test]
fn rms_norm_all_inputs() {
    check(23, &[], &["x"], |g| {
        let x = x(g, &[2, 3, 6]);
        let w = g.param("w", &[6]).unwrap();
        g.rms_norm(x, w, 1e-5).unwrap()
    });
}

// ---------------------------------------------------------------- sequence ops

#[test]
fn embedding_with_repeated_ids() {
    // Id 2 appears three times: its row's gradient must accumulate.
    let ids = Tensor::from_ids([2, 3], &[2, 0, 2, 4, 2, 1]).unwrap();
    check(24, &[("ids", ids)], &[], |g| {
        let ids = g.input_ids("ids", &[2, 3]).unwrap();
        let table = g.param("table", &[6, 4]).unwrap();
        g.embedding(ids, table).unwrap()
    });
}

#[test]
fn rope_on_heads() {
    check(25, &[], &["x"], |g| {
        let x = x(g, &[2, 2, 5, 6]);
        g.rope(x).unwrap()
    });
}

#[test]
fn causal_self_attention_with_rope() {
    check(26, &[], &["q", "k", "v"], |g| {
        let q = g.input("q", &[2, 2, 4, 3 * 2], DType::F32).unwrap();
        let k = g.input("k", &[2, 2, 4, 6], DType::F32).unwrap();
        let v = g.input("v", &[2, 2, 4, 6], DType::F32).unwrap();
        let q = g.rope(q).unwrap();
        let k = g.rope(k).unwrap();
        g.causal_self_attention(q, k, v).unwrap()
    });
}

// ---------------------------------------------------------------- losses

#[test]
fn cross_entropy_rank2_and_rank3_logits() {
    let labels = Tensor::from_ids([4], &[1, 0, 4, 1]).unwrap();
    check(27, &[("labels", labels)], &["logits"], |g| {
        let logits = g.input("logits", &[4, 5], DType::F32).unwrap();
        let labels = g.input_ids("labels", &[4]).unwrap();
        g.cross_entropy(logits, labels).unwrap()
    });
    let labels = Tensor::from_ids([2, 3], &[0, 2, 2, 1, 0, 2]).unwrap();
    check(28, &[("labels", labels)], &["logits"], |g| {
        let logits = g.input("logits", &[2, 3, 3], DType::F32).unwrap();
        let big = g.scalar_mul(logits, 4.0).unwrap();
        let labels = g.input_ids("labels", &[2, 3]).unwrap();
        g.cross_entropy(big, labels).unwrap()
    });
}

#[test]
fn mse_loss_both_inputs() {
    check(29, &[], &["prediction", "target"], |g| {
        let p = g.input("prediction", &[3, 4], DType::F32).unwrap();
        let t = g.input("target", &[3, 4], DType::F32).unwrap();
        g.mse_loss(p, t).unwrap()
    });
}

// ---------------------------------------------------------------- reductions and movement

#[test]
fn reductions_and_broadcasts() {
    for keep in [false, true] {
        check(30, &[], &["x"], |g| {
            let x = x(g, &[2, 3, 4]);
            g.reduce_sum(x, &[0, -1], keep).unwrap()
        });
    }
    check(31, &[], &["x"], |g| {
        let x = x(g, &[3, 1]);
        g.broadcast_to(x, &[2, 3, 4]).unwrap()
    });
}

#[test]
fn reshape_permute_transpose() {
    check(32, &[], &["x"], |g| {
        let x = x(g, &[2, 3, 4]);
        let r = g.reshape(x, &[6, 4]).unwrap();
        let t = g.transpose(r, 0, 1).unwrap();
        let r2 = g.reshape(t, &[2, 2, 6]).unwrap();
        g.permute(r2, &[2, 0, 1]).unwrap()
    });
}

#[test]
fn concat_slice_pad() {
    check(33, &[], &["a", "b", "c"], |g| {
        let a = g.input("a", &[2, 1, 3], DType::F32).unwrap();
        let b = g.input("b", &[2, 4, 3], DType::F32).unwrap();
        let c = g.input("c", &[2, 2, 3], DType::F32).unwrap();
        let joined = g.concat(&[a, b, c], 1).unwrap();
        let cut = g.slice(joined, 1, 2, 6).unwrap();
        g.pad(cut, -1, 1, 2).unwrap()
    });
}

// ---------------------------------------------------------------- dropout and reuse

#[test]
fn dropout_gradient_uses_the_forward_mask() {
    let rng_feed = Tensor::from_ids([2], &[1234, 7]).unwrap();
    let mut g = Graph::new();
    let x = g.input("x", &[4, 8], DType::F32).unwrap();
    let y = g.dropout(x, 0.5).unwrap();
    probe_loss(&mut g, y);
    let feeds = feeds(&g, &mut TestRng::new(34), &[("dropout_rng", rng_feed)]);
    assert_gradients(&g, &feeds, &["x"], None);

    // The gradient is exactly probe·mask: zero where dropped, 2·probe where kept.
    let train = ane_compiler::autodiff::training_graph(
        &g,
        "loss",
        &ane_compiler::autodiff::GradOptions {
            wrt_inputs: vec!["x".into()],
        },
    )
    .unwrap();
    let out = ane_compiler::eval::evaluate(&train, &feeds).unwrap();
    let probe = feeds["probe"].data();
    let grad = out["grad.x"].data();
    let kept = (0..32).filter(|&i| grad[i] != 0.0).count();
    assert!((8..=24).contains(&kept), "kept {kept} of 32 at p = 0.5");
    for i in 0..32 {
        assert!(grad[i] == 0.0 || (grad[i] - 2.0 * probe[i]).abs() < 1e-12);
    }
}

#[test]
fn values_used_several_times_accumulate() {
    // x·x, x + x, and tanh(x) feeding two branches.
    check(35, &[], &["x"], |g| {
        let x = x(g, &[3, 4]);
        let sq = g.mul(x, x).unwrap();
        let twice = g.add(x, x).unwrap();
        let t = g.tanh(x).unwrap();
        let a = g.mul(t, sq).unwrap();
        let b = g.add(t, twice).unwrap();
        g.add(a, b).unwrap()
    });
    // One weight used by two layers.
    check(36, &[], &["x"], |g| {
        let x = x(g, &[2, 4]);
        let w = g.param("shared", &[4, 4]).unwrap();
        let h = g.linear(x, w, None).unwrap();
        let h = g.sigmoid(h).unwrap();
        g.linear(h, w, None).unwrap()
    });
}

// ---------------------------------------------------------------- the checker itself

#[test]
fn the_checker_detects_a_wrong_gradient() {
    // At x = 0 ReLU has a kink: the central difference sees slope 1/2, autodiff uses 0. The
    // checker must report it (proving the comparison is not vacuous).
    let mut g = Graph::new();
    let x = g.input("x", &[3], DType::F32).unwrap();
    let y = g.relu(x).unwrap();
    probe_loss(&mut g, y);
    let xs = Tensor::new([3], vec![0.0, 0.5, -0.5]).unwrap();
    let probe = Tensor::new([3], vec![1.0, 1.0, 1.0]).unwrap();
    let feeds = feeds(&g, &mut TestRng::new(37), &[("x", xs), ("probe", probe)]);
    let (bad, checked) = gradient_mismatches(&g, &feeds, &["x"], None);
    assert_eq!(checked, 3);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].index, 0);
    assert!((bad[0].numeric - 0.5).abs() < 1e-9 && bad[0].analytic == 0.0);
}

#[test]
fn backward_ops_are_not_differentiated_again() {
    let mut g = Graph::new();
    let x = g.input("x", &[2, 3], DType::F32).unwrap();
    let dy = g.input("dy", &[2, 3], DType::F32).unwrap();
    let dx = g
        .add_node(Op::UnaryBackward(ane_compiler::UnaryOp::Tanh), &[x, dy])
        .unwrap();
    let loss = g.sum_all(dx).unwrap();
    g.output("loss", loss).unwrap();
    let err = ane_compiler::autodiff::training_graph(
        &g,
        "loss",
        &ane_compiler::autodiff::GradOptions {
            wrt_inputs: vec!["x".into()],
        },
    )
    .unwrap_err();
    assert!(matches!(err, GraphError::NoGradientRule { .. }), "{err}");
}
