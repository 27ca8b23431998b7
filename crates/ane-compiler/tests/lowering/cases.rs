//! The op catalog: one small graph per IR op and variant (strides, padding, groups, broadcasting,
//! transposes, scalars, non-power-of-two sizes…), each with output `y`. Lowering tests iterate
//! over it, so every op is covered by every check.

use ane_compiler::{Conv2dParams, DType, Graph, Op, Pool2dParams, ValueId};

/// One op under test.
pub struct Case {
    /// Test name.
    pub name: &'static str,
    /// Builds the graph and returns `y`.
    pub build: fn(&mut Graph) -> ValueId,
    /// Integer inputs and their exclusive upper bound.
    pub ids: &'static [(&'static str, usize)],
    /// f32 inputs drawn from a range other than (−1, 1).
    pub ranges: &'static [(&'static str, f64, f64)],
    /// Reads integer tensors: only lowers to fp32 multi-input host kernels.
    pub host_only: bool,
}

impl Case {
    const fn new(name: &'static str, build: fn(&mut Graph) -> ValueId) -> Self {
        Case {
            name,
            build,
            ids: &[],
            ranges: &[],
            host_only: false,
        }
    }

    /// The case's graph with `y` as output.
    pub fn graph(&self) -> Graph {
        let mut g = Graph::new();
        let y = (self.build)(&mut g);
        g.output("y", y).unwrap();
        g
    }
}

fn f(g: &mut Graph, name: &str, shape: &[usize]) -> ValueId {
    g.input(name, shape, DType::F32).unwrap()
}

fn conv(
    p: Conv2dParams,
    x: [usize; 4],
    w: [usize; 4],
    bias: bool,
) -> impl Fn(&mut Graph) -> ValueId {
    move |g| {
        let xv = f(g, "x", &x);
        let wv = f(g, "w", &w);
        let b = bias.then(|| f(g, "b", &[w[0]]));
        g.conv2d(xv, wv, b, p).unwrap()
    }
}

fn params(stride: [usize; 2], padding: [usize; 2], groups: usize) -> Conv2dParams {
    Conv2dParams {
        stride,
        padding,
        groups,
    }
}

fn pool(kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> Pool2dParams {
    Pool2dParams {
        kernel,
        stride,
        padding,
    }
}

macro_rules! case {
    ($name:literal, |$g:ident| $body:expr) => {
        Case::new($name, |$g: &mut Graph| $body)
    };
}

/// Every case.
pub fn all() -> Vec<Case> {
    vec![
        // ---- generated
        case!("full_inline", |g| {
            let x = f(g, "x", &[2, 3]);
            let c = g.full(&[2, 3], 0.5).unwrap();
            g.add(x, c).unwrap()
        }),
        case!("full_tiled", |g| {
            let x = f(g, "x", &[4, 8]);
            let c = g.full(&[4, 8], -1.5).unwrap();
            g.mul(x, c).unwrap()
        }),
        case!("causal_mask_inline", |g| {
            let x = f(g, "x", &[3, 3]);
            let m = g.causal_mask(3).unwrap();
            g.add(x, m).unwrap()
        }),
        case!("causal_mask_blob", |g| {
            let x = f(g, "x", &[2, 8, 8]);
            let m = g.causal_mask(8).unwrap();
            g.add(x, m).unwrap()
        }),
        // ---- linear algebra
        case!("linear_bias_rank3", |g| {
            let x = f(g, "x", &[2, 3, 20]);
            let w = f(g, "w", &[7, 20]);
            let b = f(g, "b", &[7]);
            g.linear(x, w, Some(b)).unwrap()
        }),
        case!("linear_no_bias_rank1", |g| {
            let x = f(g, "x", &[33]);
            let w = f(g, "w", &[4, 33]);
            g.linear(x, w, None).unwrap()
        }),
        case!("matmul_nn", |g| {
            let a = f(g, "a", &[2, 3, 4]);
            let b = f(g, "b", &[2, 4, 5]);
            g.matmul_t(a, b, false, false).unwrap()
        }),
        case!("matmul_nt", |g| {
            let a = f(g, "a", &[2, 3, 4]);
            let b = f(g, "b", &[2, 5, 4]);
            g.matmul_t(a, b, false, true).unwrap()
        }),
        case!("matmul_tn", |g| {
            let a = f(g, "a", &[2, 4, 3]);
            let b = f(g, "b", &[2, 4, 5]);
            g.matmul_t(a, b, true, false).unwrap()
        }),
        case!("matmul_tt", |g| {
            let a = f(g, "a", &[2, 4, 3]);
            let b = f(g, "b", &[2, 5, 4]);
            g.matmul_t(a, b, true, true).unwrap()
        }),
        case!("matmul_broadcast_batch", |g| {
            let a = f(g, "a", &[2, 1, 3, 4]);
            let b = f(g, "b", &[3, 4, 2]);
            g.matmul(a, b).unwrap()
        }),
        case!("matmul_rank2", |g| {
            let a = f(g, "a", &[6, 40]);
            let b = f(g, "b", &[40, 3]);
            g.matmul(a, b).unwrap()
        }),
        case!("matmul_rank5", |g| {
            let a = f(g, "a", &[2, 1, 2, 3, 4]);
            let b = f(g, "b", &[1, 2, 2, 4, 3]);
            g.matmul(a, b).unwrap()
        }),
        // ---- convolution
        Case::new("conv2d_3x3_pad1_bias", |g| {
            conv(params([1, 1], [1, 1], 1), [2, 3, 6, 6], [4, 3, 3, 3], true)(g)
        }),
        Case::new("conv2d_stride2_5x5_pad2", |g| {
            conv(params([2, 2], [2, 2], 1), [1, 2, 9, 8], [3, 2, 5, 5], false)(g)
        }),
        Case::new("conv2d_groups2", |g| {
            conv(params([1, 1], [0, 1], 2), [2, 4, 5, 5], [6, 2, 3, 2], true)(g)
        }),
        Case::new("conv2d_1x1", |g| {
            conv(params([1, 1], [0, 0], 1), [3, 5, 4, 4], [2, 5, 1, 1], true)(g)
        }),
        Case::new("conv2d_stride_2x1", |g| {
            conv(params([2, 1], [1, 0], 1), [1, 3, 7, 5], [2, 3, 2, 3], false)(g)
        }),
        case!("conv2d_backward_data", |g| {
            let p = params([2, 2], [1, 1], 1);
            let dy = f(g, "dy", &[2, 4, 3, 3]);
            let w = f(g, "w", &[4, 3, 3, 3]);
            g.add_node(
                Op::Conv2dBackwardData {
                    params: p,
                    input_hw: [6, 6],
                },
                &[dy, w],
            )
            .unwrap()
        }),
        case!("conv2d_backward_data_groups", |g| {
            let p = params([1, 2], [1, 0], 2);
            let dy = f(g, "dy", &[1, 4, 5, 2]);
            let w = f(g, "w", &[4, 3, 3, 2]);
            g.add_node(
                Op::Conv2dBackwardData {
                    params: p,
                    input_hw: [5, 5],
                },
                &[dy, w],
            )
            .unwrap()
        }),
        case!("conv2d_backward_weight", |g| {
            let p = params([2, 2], [1, 1], 1);
            let x = f(g, "x", &[2, 3, 6, 6]);
            let dy = f(g, "dy", &[2, 4, 3, 3]);
            g.add_node(
                Op::Conv2dBackwardWeight {
                    params: p,
                    kernel_hw: [3, 3],
                },
                &[x, dy],
            )
            .unwrap()
        }),
        case!("conv2d_backward_weight_groups", |g| {
            let p = params([1, 1], [1, 1], 3);
            let x = f(g, "x", &[1, 6, 4, 5]);
            let dy = f(g, "dy", &[1, 3, 4, 5]);
            g.add_node(
                Op::Conv2dBackwardWeight {
                    params: p,
                    kernel_hw: [3, 3],
                },
                &[x, dy],
            )
            .unwrap()
        }),
        // ---- pooling
        case!("max_pool_2x2", |g| {
            let x = f(g, "x", &[2, 3, 6, 6]);
            g.max_pool2d(x, pool([2, 2], [2, 2], [0, 0])).unwrap()
        }),
        case!("max_pool_3x3_s2_p1", |g| {
            let x = f(g, "x", &[1, 2, 7, 6]);
            g.max_pool2d(x, pool([3, 3], [2, 2], [1, 1])).unwrap()
        }),
        case!("max_pool_backward_2x2", |g| {
            let p = pool([2, 2], [2, 2], [0, 0]);
            let x = f(g, "x", &[2, 3, 6, 6]);
            let dy = f(g, "dy", &[2, 3, 3, 3]);
            g.add_node(Op::MaxPool2dBackward(p), &[x, dy]).unwrap()
        }),
        case!("max_pool_backward_overlap", |g| {
            let p = pool([3, 3], [2, 2], [1, 1]);
            let x = f(g, "x", &[1, 2, 7, 6]);
            let dy = f(g, "dy", &[1, 2, 4, 3]);
            g.add_node(Op::MaxPool2dBackward(p), &[x, dy]).unwrap()
        }),
        case!("avg_pool_include_pad", |g| {
            let x = f(g, "x", &[2, 2, 5, 5]);
            g.avg_pool2d(x, pool([3, 3], [2, 2], [1, 1]), true).unwrap()
        }),
        case!("avg_pool_exclude_pad", |g| {
            let x = f(g, "x", &[2, 2, 5, 5]);
            g.avg_pool2d(x, pool([3, 3], [2, 2], [1, 1]), false)
                .unwrap()
        }),
        case!("avg_pool_backward_include_pad", |g| {
            let dy = f(g, "dy", &[2, 2, 3, 3]);
            g.add_node(
                Op::AvgPool2dBackward {
                    pool: pool([3, 3], [2, 2], [1, 1]),
                    count_include_pad: true,
                    input_hw: [5, 5],
                },
                &[dy],
            )
            .unwrap()
        }),
        case!("avg_pool_backward_exclude_pad", |g| {
            let dy = f(g, "dy", &[1, 3, 6, 3]);
            g.add_node(
                Op::AvgPool2dBackward {
                    pool: pool([2, 3], [1, 2], [1, 1]),
                    count_include_pad: false,
                    input_hw: [5, 6],
                },
                &[dy],
            )
            .unwrap()
        }),
        // ---- elementwise
        case!("add_broadcast", |g| {
            let a = f(g, "a", &[2, 3, 4]);
            let b = f(g, "b", &[3, 1]);
            g.add(a, b).unwrap()
        }),
        case!("sub_scalar_tensor", |g| {
            let a = f(g, "a", &[]);
            let b = f(g, "b", &[2, 3]);
            g.sub(a, b).unwrap()
        }),
        case!("mul_broadcast_both", |g| {
            let a = f(g, "a", &[4, 1]);
            let b = f(g, "b", &[1, 5]);
            g.mul(a, b).unwrap()
        }),
        Case {
            ranges: &[("b", 0.5, 2.0)],
            ..case!("div_broadcast", |g| {
                let a = f(g, "a", &[3, 4]);
                let b = f(g, "b", &[4]);
                g.div(a, b).unwrap()
            })
        },
        case!("scalar_mul", |g| {
            let x = f(g, "x", &[3, 5]);
            g.scalar_mul(x, -2.5).unwrap()
        }),
        case!("scalar_add", |g| {
            let x = f(g, "x", &[3, 5]);
            g.scalar_add(x, 0.75).unwrap()
        }),
        case!("scalars_only", |g| {
            let a = f(g, "a", &[]);
            let b = f(g, "b", &[]);
            g.mul(a, b).unwrap()
        }),
        // ---- activations
        Case {
            ranges: &[("x", -4.0, 4.0)],
            ..case!("relu", |g| {
                let x = f(g, "x", &[4, 6]);
                g.relu(x).unwrap()
            })
        },
        Case {
            ranges: &[("x", -4.0, 4.0)],
            ..case!("gelu", |g| {
                let x = f(g, "x", &[4, 6]);
                g.gelu(x).unwrap()
            })
        },
        Case {
            ranges: &[("x", -4.0, 4.0)],
            ..case!("gelu_tanh", |g| {
                let x = f(g, "x", &[4, 6]);
                g.gelu_tanh(x).unwrap()
            })
        },
        Case {
            ranges: &[("x", -4.0, 4.0)],
            ..case!("silu", |g| {
                let x = f(g, "x", &[4, 6]);
                g.silu(x).unwrap()
            })
        },
        Case {
            ranges: &[("x", -4.0, 4.0)],
            ..case!("sigmoid", |g| {
                let x = f(g, "x", &[4, 6]);
                g.sigmoid(x).unwrap()
            })
        },
        Case {
            ranges: &[("x", -4.0, 4.0)],
            ..case!("tanh", |g| {
                let x = f(g, "x", &[4, 6]);
                g.tanh(x).unwrap()
            })
        },
        Case {
            ranges: &[("x", -4.0, 4.0)],
            ..case!("relu_backward", |g| unary_backward(
                g,
                ane_compiler::UnaryOp::Relu
            ))
        },
        Case {
            ranges: &[("x", -4.0, 4.0)],
            ..case!("gelu_backward", |g| unary_backward(
                g,
                ane_compiler::UnaryOp::Gelu(ane_compiler::GeluApprox::Exact)
            ))
        },
        Case {
            ranges: &[("x", -4.0, 4.0)],
            ..case!("gelu_tanh_backward", |g| unary_backward(
                g,
                ane_compiler::UnaryOp::Gelu(ane_compiler::GeluApprox::Tanh)
            ))
        },
        Case {
            ranges: &[("x", -4.0, 4.0)],
            ..case!("silu_backward", |g| unary_backward(
                g,
                ane_compiler::UnaryOp::Silu
            ))
        },
        Case {
            ranges: &[("x", -4.0, 4.0)],
            ..case!("sigmoid_backward", |g| unary_backward(
                g,
                ane_compiler::UnaryOp::Sigmoid
            ))
        },
        Case {
            ranges: &[("x", -4.0, 4.0)],
            ..case!("tanh_backward", |g| unary_backward(
                g,
                ane_compiler::UnaryOp::Tanh
            ))
        },
        // ---- reductions and movement
        case!("reduce_sum_axis1", |g| {
            let x = f(g, "x", &[2, 3, 4]);
            g.reduce_sum(x, &[1], false).unwrap()
        }),
        case!("reduce_sum_keep", |g| {
            let x = f(g, "x", &[2, 3, 4]);
            g.reduce_sum(x, &[0, 2], true).unwrap()
        }),
        case!("reduce_sum_all", |g| {
            let x = f(g, "x", &[2, 3, 4]);
            g.sum_all(x).unwrap()
        }),
        case!("broadcast_to", |g| {
            let x = f(g, "x", &[3, 1]);
            g.broadcast_to(x, &[2, 3, 4]).unwrap()
        }),
        case!("broadcast_scalar", |g| {
            let x = f(g, "x", &[]);
            g.broadcast_to(x, &[2, 2]).unwrap()
        }),
        case!("reshape", |g| {
            let x = f(g, "x", &[2, 3, 4]);
            g.reshape(x, &[4, 6]).unwrap()
        }),
        case!("permute", |g| {
            let x = f(g, "x", &[2, 3, 4]);
            g.permute(x, &[2, 0, 1]).unwrap()
        }),
        case!("concat3", |g| {
            let a = f(g, "a", &[2, 1, 3]);
            let b = f(g, "b", &[2, 4, 3]);
            let c = f(g, "c", &[2, 2, 3]);
            g.concat(&[a, b, c], 1).unwrap()
        }),
        case!("slice", |g| {
            let x = f(g, "x", &[3, 7]);
            g.slice(x, 1, 2, 6).unwrap()
        }),
        case!("pad", |g| {
            let x = f(g, "x", &[2, 3, 4]);
            g.pad(x, 1, 2, 1).unwrap()
        }),
        // ---- normalisation
        Case {
            ranges: &[("x", -3.0, 3.0)],
            ..case!("softmax_last_pow2", |g| {
                let x = f(g, "x", &[3, 8]);
                g.softmax(x, -1).unwrap()
            })
        },
        Case {
            ranges: &[("x", -3.0, 3.0)],
            ..case!("softmax_last_odd", |g| {
                let x = f(g, "x", &[3, 5]);
                g.softmax(x, -1).unwrap()
            })
        },
        Case {
            ranges: &[("x", -3.0, 3.0)],
            ..case!("softmax_axis0", |g| {
                let x = f(g, "x", &[6, 4]);
                g.softmax(x, 0).unwrap()
            })
        },
        case!("layer_norm", |g| {
            let x = f(g, "x", &[2, 3, 10]);
            let gamma = f(g, "gamma", &[10]);
            let beta = f(g, "beta", &[10]);
            g.layer_norm(x, gamma, beta, 1e-5).unwrap()
        }),
        case!("layer_norm_backward_input", |g| {
            let x = f(g, "x", &[4, 10]);
            let gamma = f(g, "gamma", &[10]);
            let dy = f(g, "dy", &[4, 10]);
            g.add_node(Op::LayerNormBackwardInput { eps: 1e-5 }, &[x, gamma, dy])
                .unwrap()
        }),
        case!("layer_norm_backward_weight", |g| {
            let x = f(g, "x", &[2, 3, 10]);
            let dy = f(g, "dy", &[2, 3, 10]);
            g.add_node(Op::LayerNormBackwardWeight { eps: 1e-5 }, &[x, dy])
                .unwrap()
        }),
        case!("rms_norm", |g| {
            let x = f(g, "x", &[2, 3, 12]);
            let w = f(g, "w", &[12]);
            g.rms_norm(x, w, 1e-5).unwrap()
        }),
        case!("rms_norm_backward_input", |g| {
            let x = f(g, "x", &[4, 12]);
            let w = f(g, "w", &[12]);
            let dy = f(g, "dy", &[4, 12]);
            g.add_node(Op::RmsNormBackwardInput { eps: 1e-5 }, &[x, w, dy])
                .unwrap()
        }),
        case!("rms_norm_backward_weight", |g| {
            let x = f(g, "x", &[3, 12]);
            let dy = f(g, "dy", &[3, 12]);
            g.add_node(Op::RmsNormBackwardWeight { eps: 1e-5 }, &[x, dy])
                .unwrap()
        }),
        // ---- sequence ops
        Case {
            ids: &[("ids", 7)],
            host_only: true,
            ..case!("embedding", |g| {
                let ids = g.input_ids("ids", &[2, 5]).unwrap();
                let table = f(g, "table", &[7, 4]);
                g.embedding(ids, table).unwrap()
            })
        },
        Case {
            ids: &[("ids", 4)],
            host_only: true,
            ..case!("embedding_backward", |g| {
                let ids = g.input_ids("ids", &[3, 5]).unwrap();
                let dy = f(g, "dy", &[3, 5, 6]);
                g.add_node(Op::EmbeddingBackward { vocab: 4 }, &[ids, dy])
                    .unwrap()
            })
        },
        case!("rope", |g| {
            let x = f(g, "x", &[2, 3, 6, 8]);
            g.rope(x).unwrap()
        }),
        case!("rope_inverse", |g| {
            let x = f(g, "x", &[5, 4]);
            g.add_node(
                Op::Rope {
                    base: 500.0,
                    inverse: true,
                },
                &[x],
            )
            .unwrap()
        }),
        // ---- losses
        Case {
            ids: &[("labels", 5)],
            host_only: true,
            ranges: &[("logits", -3.0, 3.0)],
            ..case!("cross_entropy", |g| {
                let logits = f(g, "logits", &[2, 3, 5]);
                let labels = g.input_ids("labels", &[2, 3]).unwrap();
                g.cross_entropy(logits, labels).unwrap()
            })
        },
        Case {
            ids: &[("labels", 5)],
            host_only: true,
            ranges: &[("logits", -3.0, 3.0)],
            ..case!("cross_entropy_backward", |g| {
                let logits = f(g, "logits", &[4, 5]);
                let labels = g.input_ids("labels", &[4]).unwrap();
                let dloss = f(g, "dloss", &[]);
                g.add_node(Op::SoftmaxCrossEntropyBackward, &[logits, labels, dloss])
                    .unwrap()
            })
        },
        case!("mse_loss", |g| {
            let p = f(g, "p", &[3, 4]);
            let t = f(g, "t", &[3, 4]);
            g.mse_loss(p, t).unwrap()
        }),
    ]
}

fn unary_backward(g: &mut Graph, op: ane_compiler::UnaryOp) -> ValueId {
    let x = f(g, "x", &[4, 6]);
    let dy = f(g, "dy", &[4, 6]);
    g.add_node(Op::UnaryBackward(op), &[x, dy]).unwrap()
}
