//! The conformance catalog: one small graph per kind of kernel the compiler sends to the ANE.
//!
//! Shapes are small but ANE-shaped: channel counts of 64 or more, inner (contraction) sizes that
//! are multiples of 32, batches of 1–2, sequence lengths of 64. Every case is lowered as a whole
//! into one kernel, so its graph inputs are the kernel's boundary inputs (packed into one buffer
//! by the Packed ABI) and its graph outputs the kernel's outputs (concatenated into one buffer).
//! Integer-tensor ops (embedding, cross-entropy) never reach the ANE and are not here.

use ane_compiler::{Conv2dParams, DType, GeluApprox, Graph, GraphError, Op, Pool2dParams};
use ane_compiler::{UnaryOp, ValueId};

/// The families cases are grouped in (the order `doctor` prints them).
pub const FAMILIES: [&str; 11] = [
    "linear",
    "conv",
    "pool",
    "activation",
    "softmax",
    "norm",
    "rope",
    "attention",
    "elementwise",
    "layout",
    "reduction",
];

/// One conformance case.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Unique name (`matmul_nt`), also the name of its `--dump` directory.
    pub name: &'static str,
    /// Which family it checks (`linear`, `conv`, …; losses count as `reduction`, the multi-tensor
    /// packing case as `elementwise`: see [`FAMILIES`]).
    pub family: &'static str,
    /// Adds the inputs, nodes and outputs of the case to an empty graph.
    pub build: fn(&mut Graph) -> Result<(), GraphError>,
    /// Inputs drawn from a range other than (−1, 1): `(input name, low, high)`.
    pub ranges: &'static [(&'static str, f32, f32)],
}

impl Case {
    /// The case's graph.
    pub fn graph(&self) -> Result<Graph, GraphError> {
        let mut graph = Graph::new();
        (self.build)(&mut graph)?;
        Ok(graph)
    }

    /// The range input `name` is drawn from.
    pub fn range_of(&self, name: &str) -> (f32, f32) {
        self.ranges
            .iter()
            .find(|(n, _, _)| *n == name)
            .map_or((-1.0, 1.0), |&(_, lo, hi)| (lo, hi))
    }
}

/// Activations are checked over (−4, 4), where every one of them bends.
const ACTIVATION_RANGE: &[(&str, f32, f32)] = &[("x", -4.0, 4.0)];
/// Reductions sum positive values, so the output's scale reflects the terms summed (a sum of
/// zero-mean terms can be near 0 and make every error look relatively huge).
const POSITIVE_X: &[(&str, f32, f32)] = &[("x", 0.0, 1.0)];

const fn case(
    name: &'static str,
    family: &'static str,
    build: fn(&mut Graph) -> Result<(), GraphError>,
) -> Case {
    Case {
        name,
        family,
        build,
        ranges: &[],
    }
}

const fn ranged(
    name: &'static str,
    family: &'static str,
    ranges: &'static [(&'static str, f32, f32)],
    build: fn(&mut Graph) -> Result<(), GraphError>,
) -> Case {
    Case {
        name,
        family,
        build,
        ranges,
    }
}

fn input(g: &mut Graph, name: &str, shape: &[usize]) -> Result<ValueId, GraphError> {
    g.input(name, shape, DType::F32)
}

fn conv_params(stride: usize, padding: usize) -> Conv2dParams {
    Conv2dParams {
        stride: [stride, stride],
        padding: [padding, padding],
        groups: 1,
    }
}

fn pool_params(kernel: usize, stride: usize, padding: usize) -> Pool2dParams {
    Pool2dParams {
        kernel: [kernel, kernel],
        stride: [stride, stride],
        padding: [padding, padding],
    }
}

/// `y = op(a) · op(b)` with `a: [2, 64, 96]`, `b: [2, 96, 64]` before the transposes.
fn matmul(g: &mut Graph, transpose_a: bool, transpose_b: bool) -> Result<(), GraphError> {
    let a_shape: &[usize] = if transpose_a {
        &[2, 96, 64]
    } else {
        &[2, 64, 96]
    };
    let b_shape: &[usize] = if transpose_b {
        &[2, 64, 96]
    } else {
        &[2, 96, 64]
    };
    let a = input(g, "a", a_shape)?;
    let b = input(g, "b", b_shape)?;
    let y = g.matmul_t(a, b, transpose_a, transpose_b)?;
    g.output("y", y)
}

fn activation(g: &mut Graph, op: UnaryOp) -> Result<(), GraphError> {
    let x = input(g, "x", &[64, 128])?;
    let y = g.unary(op, x)?;
    g.output("y", y)
}

fn activation_backward(g: &mut Graph, op: UnaryOp) -> Result<(), GraphError> {
    let x = input(g, "x", &[64, 128])?;
    let dy = input(g, "dy", &[64, 128])?;
    let dx = g.add_node(Op::UnaryBackward(op), &[x, dy])?;
    g.output("dx", dx)
}

fn binary(
    g: &mut Graph,
    b_shape: &[usize],
    a_shape: &[usize],
    op: fn(&mut Graph, ValueId, ValueId) -> Result<ValueId, GraphError>,
) -> Result<(), GraphError> {
    let a = input(g, "a", a_shape)?;
    let b = input(g, "b", b_shape)?;
    let y = op(g, a, b)?;
    g.output("y", y)
}

const GELU: UnaryOp = UnaryOp::Gelu(GeluApprox::Exact);
const GELU_TANH: UnaryOp = UnaryOp::Gelu(GeluApprox::Tanh);
const EPS: f32 = 1e-5;

/// Every case, in the order of [`FAMILIES`].
pub fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(linear_cases());
    cases.extend(conv_and_pool_cases());
    cases.extend(activation_cases());
    cases.extend(norm_and_sequence_cases());
    cases.extend(elementwise_cases());
    cases.extend(layout_and_reduction_cases());
    cases
}

fn linear_cases() -> Vec<Case> {
    vec![
        case("linear_bias", "linear", |g| {
            let x = input(g, "x", &[64, 64])?;
            let w = input(g, "w", &[128, 64])?;
            let b = input(g, "b", &[128])?;
            let y = g.linear(x, w, Some(b))?;
            g.output("y", y)
        }),
        case("linear_no_bias_rank3", "linear", |g| {
            let x = input(g, "x", &[2, 32, 96])?;
            let w = input(g, "w", &[64, 96])?;
            let y = g.linear(x, w, None)?;
            g.output("y", y)
        }),
        case("matmul_nn", "linear", |g| matmul(g, false, false)),
        case("matmul_nt", "linear", |g| matmul(g, false, true)),
        case("matmul_tn", "linear", |g| matmul(g, true, false)),
        case("matmul_tt", "linear", |g| matmul(g, true, true)),
    ]
}

fn conv_and_pool_cases() -> Vec<Case> {
    vec![
        case("conv2d_3x3_pad1_bias", "conv", |g| {
            let x = input(g, "x", &[2, 32, 8, 8])?;
            let w = input(g, "w", &[64, 32, 3, 3])?;
            let b = input(g, "b", &[64])?;
            let y = g.conv2d(x, w, Some(b), conv_params(1, 1))?;
            g.output("y", y)
        }),
        case("conv2d_3x3_stride2", "conv", |g| {
            let x = input(g, "x", &[1, 64, 8, 8])?;
            let w = input(g, "w", &[64, 64, 3, 3])?;
            let y = g.conv2d(x, w, None, conv_params(2, 1))?;
            g.output("y", y)
        }),
        case("conv2d_backward_data", "conv", |g| {
            let dy = input(g, "dy", &[2, 64, 8, 8])?;
            let w = input(g, "w", &[64, 32, 3, 3])?;
            let op = Op::Conv2dBackwardData {
                params: conv_params(1, 1),
                input_hw: [8, 8],
            };
            let dx = g.add_node(op, &[dy, w])?;
            g.output("dx", dx)
        }),
        case("conv2d_backward_weight", "conv", |g| {
            let x = input(g, "x", &[2, 32, 8, 8])?;
            let dy = input(g, "dy", &[2, 64, 8, 8])?;
            let op = Op::Conv2dBackwardWeight {
                params: conv_params(1, 1),
                kernel_hw: [3, 3],
            };
            let dw = g.add_node(op, &[x, dy])?;
            g.output("dw", dw)
        }),
        case("max_pool2d_2x2", "pool", |g| {
            let x = input(g, "x", &[2, 64, 8, 8])?;
            let y = g.max_pool2d(x, pool_params(2, 2, 0))?;
            g.output("y", y)
        }),
        case("max_pool2d_backward_2x2", "pool", |g| {
            let x = input(g, "x", &[2, 64, 8, 8])?;
            let dy = input(g, "dy", &[2, 64, 4, 4])?;
            let dx = g.add_node(Op::MaxPool2dBackward(pool_params(2, 2, 0)), &[x, dy])?;
            g.output("dx", dx)
        }),
        case("max_pool2d_backward_3x3_s2_p1", "pool", |g| {
            let x = input(g, "x", &[1, 64, 8, 8])?;
            let dy = input(g, "dy", &[1, 64, 4, 4])?;
            let dx = g.add_node(Op::MaxPool2dBackward(pool_params(3, 2, 1)), &[x, dy])?;
            g.output("dx", dx)
        }),
        case("avg_pool2d_2x2", "pool", |g| {
            let x = input(g, "x", &[2, 64, 8, 8])?;
            let y = g.avg_pool2d(x, pool_params(2, 2, 0), true)?;
            g.output("y", y)
        }),
        case("avg_pool2d_3x3_s2_p1_exclude_pad", "pool", |g| {
            let x = input(g, "x", &[1, 64, 8, 8])?;
            let y = g.avg_pool2d(x, pool_params(3, 2, 1), false)?;
            g.output("y", y)
        }),
        case("avg_pool2d_backward_2x2", "pool", |g| {
            let dy = input(g, "dy", &[2, 64, 4, 4])?;
            let op = Op::AvgPool2dBackward {
                pool: pool_params(2, 2, 0),
                count_include_pad: true,
                input_hw: [8, 8],
            };
            let dx = g.add_node(op, &[dy])?;
            g.output("dx", dx)
        }),
        case("avg_pool2d_backward_3x3_s2_p1", "pool", |g| {
            let dy = input(g, "dy", &[1, 64, 4, 4])?;
            let op = Op::AvgPool2dBackward {
                pool: pool_params(3, 2, 1),
                count_include_pad: false,
                input_hw: [8, 8],
            };
            let dx = g.add_node(op, &[dy])?;
            g.output("dx", dx)
        }),
    ]
}

fn activation_cases() -> Vec<Case> {
    let a = ACTIVATION_RANGE;
    vec![
        ranged("relu", "activation", a, |g| activation(g, UnaryOp::Relu)),
        ranged("gelu", "activation", a, |g| activation(g, GELU)),
        ranged("gelu_tanh", "activation", a, |g| activation(g, GELU_TANH)),
        ranged("silu", "activation", a, |g| activation(g, UnaryOp::Silu)),
        ranged("sigmoid", "activation", a, |g| {
            activation(g, UnaryOp::Sigmoid)
        }),
        ranged("tanh", "activation", a, |g| activation(g, UnaryOp::Tanh)),
        ranged("relu_backward", "activation", a, |g| {
            activation_backward(g, UnaryOp::Relu)
        }),
        ranged("gelu_backward", "activation", a, |g| {
            activation_backward(g, GELU)
        }),
        ranged("gelu_tanh_backward", "activation", a, |g| {
            activation_backward(g, GELU_TANH)
        }),
        ranged("silu_backward", "activation", a, |g| {
            activation_backward(g, UnaryOp::Silu)
        }),
        ranged("sigmoid_backward", "activation", a, |g| {
            activation_backward(g, UnaryOp::Sigmoid)
        }),
        ranged("tanh_backward", "activation", a, |g| {
            activation_backward(g, UnaryOp::Tanh)
        }),
    ]
}

fn norm_and_sequence_cases() -> Vec<Case> {
    const SCORES: &[(&str, f32, f32)] = &[("x", -4.0, 4.0)];
    vec![
        ranged("softmax_128", "softmax", SCORES, |g| {
            let x = input(g, "x", &[64, 128])?;
            let y = g.softmax(x, -1)?;
            g.output("y", y)
        }),
        // Not a power of two: lowered as exp(x − max) / Σ (LoweringLimits::ane).
        ranged("softmax_96", "softmax", SCORES, |g| {
            let x = input(g, "x", &[64, 96])?;
            let y = g.softmax(x, -1)?;
            g.output("y", y)
        }),
        case("layer_norm", "norm", |g| {
            let x = input(g, "x", &[64, 128])?;
            let gamma = input(g, "gamma", &[128])?;
            let beta = input(g, "beta", &[128])?;
            let y = g.layer_norm(x, gamma, beta, EPS)?;
            g.output("y", y)
        }),
        case("layer_norm_backward_input", "norm", |g| {
            let x = input(g, "x", &[64, 128])?;
            let gamma = input(g, "gamma", &[128])?;
            let dy = input(g, "dy", &[64, 128])?;
            let dx = g.add_node(Op::LayerNormBackwardInput { eps: EPS }, &[x, gamma, dy])?;
            g.output("dx", dx)
        }),
        case("layer_norm_backward_weight", "norm", |g| {
            let x = input(g, "x", &[64, 128])?;
            let dy = input(g, "dy", &[64, 128])?;
            let dgamma = g.add_node(Op::LayerNormBackwardWeight { eps: EPS }, &[x, dy])?;
            g.output("dgamma", dgamma)
        }),
        case("rms_norm", "norm", |g| {
            let x = input(g, "x", &[64, 128])?;
            let w = input(g, "w", &[128])?;
            let y = g.rms_norm(x, w, EPS)?;
            g.output("y", y)
        }),
        case("rms_norm_backward_input", "norm", |g| {
            let x = input(g, "x", &[64, 128])?;
            let w = input(g, "w", &[128])?;
            let dy = input(g, "dy", &[64, 128])?;
            let dx = g.add_node(Op::RmsNormBackwardInput { eps: EPS }, &[x, w, dy])?;
            g.output("dx", dx)
        }),
        case("rms_norm_backward_weight", "norm", |g| {
            let x = input(g, "x", &[64, 128])?;
            let dy = input(g, "dy", &[64, 128])?;
            let dw = g.add_node(Op::RmsNormBackwardWeight { eps: EPS }, &[x, dy])?;
            g.output("dw", dw)
        }),
        case("rope", "rope", |g| {
            let x = input(g, "x", &[1, 4, 64, 32])?;
            let y = g.rope(x)?;
            g.output("y", y)
        }),
        case("rope_inverse", "rope", |g| {
            let x = input(g, "x", &[1, 4, 64, 32])?;
            let op = Op::Rope {
                base: ane_compiler::ROPE_BASE,
                inverse: true,
            };
            let y = g.add_node(op, &[x])?;
            g.output("y", y)
        }),
        case("causal_attention_scores", "attention", |g| {
            let q = input(g, "q", &[1, 4, 64, 32])?;
            let k = input(g, "k", &[1, 4, 64, 32])?;
            let scores = g.matmul_t(q, k, false, true)?;
            let scaled = g.scalar_mul(scores, 1.0 / 32f32.sqrt())?;
            let mask = g.causal_mask(64)?;
            let masked = g.add(scaled, mask)?;
            let probs = g.softmax(masked, -1)?;
            g.output("probs", probs)
        }),
        case("causal_attention", "attention", |g| {
            let q = input(g, "q", &[1, 4, 64, 32])?;
            let k = input(g, "k", &[1, 4, 64, 32])?;
            let v = input(g, "v", &[1, 4, 64, 32])?;
            let y = g.causal_self_attention(q, k, v)?;
            g.output("y", y)
        }),
    ]
}

fn elementwise_cases() -> Vec<Case> {
    const POSITIVE_DIVISOR: &[(&str, f32, f32)] = &[("b", 0.5, 2.0)];
    vec![
        case("add_broadcast_row", "elementwise", |g| {
            binary(g, &[128], &[64, 128], Graph::add)
        }),
        case("sub_broadcast_column", "elementwise", |g| {
            binary(g, &[64, 1], &[64, 128], Graph::sub)
        }),
        case("mul_outer_broadcast", "elementwise", |g| {
            binary(g, &[1, 128], &[64, 1], Graph::mul)
        }),
        ranged("div_broadcast_row", "elementwise", POSITIVE_DIVISOR, |g| {
            binary(g, &[128], &[64, 128], Graph::div)
        }),
        case("scalar_mul_add", "elementwise", |g| {
            let x = input(g, "x", &[64, 128])?;
            let scaled = g.scalar_mul(x, -2.5)?;
            let y = g.scalar_add(scaled, 0.75)?;
            g.output("y", y)
        }),
        // A constant tensor (`full`) folded into the kernel.
        case("add_constant", "elementwise", |g| {
            let x = input(g, "x", &[64, 128])?;
            let c = g.full(&[64, 128], 0.375)?;
            let y = g.add(x, c)?;
            g.output("y", y)
        }),
        // The Packed ABI with several inputs of different shapes in one buffer and several
        // outputs concatenated into one: a two-layer MLP block with a row sum.
        case("packed_mlp_block", "elementwise", |g| {
            let x = input(g, "x", &[64, 64])?;
            let w1 = input(g, "w1", &[128, 64])?;
            let b1 = input(g, "b1", &[128])?;
            let w2 = input(g, "w2", &[64, 128])?;
            let b2 = input(g, "b2", &[64])?;
            let pre = g.linear(x, w1, Some(b1))?;
            let h = g.relu(pre)?;
            let y = g.linear(h, w2, Some(b2))?;
            let row_sum = g.reduce_sum(y, &[-1], false)?;
            g.output("h", h)?;
            g.output("y", y)?;
            g.output("row_sum", row_sum)
        }),
    ]
}

fn layout_and_reduction_cases() -> Vec<Case> {
    vec![
        case("reshape", "layout", |g| {
            let x = input(g, "x", &[2, 64, 128])?;
            let y = g.reshape(x, &[2, 128, 64])?;
            g.output("y", y)
        }),
        case("permute", "layout", |g| {
            let x = input(g, "x", &[2, 64, 96])?;
            let y = g.permute(x, &[2, 0, 1])?;
            g.output("y", y)
        }),
        case("transpose_last_two", "layout", |g| {
            let x = input(g, "x", &[4, 64, 96])?;
            let y = g.transpose(x, -1, -2)?;
            g.output("y", y)
        }),
        case("concat3", "layout", |g| {
            let a = input(g, "a", &[64, 32])?;
            let b = input(g, "b", &[64, 64])?;
            let c = input(g, "c", &[64, 32])?;
            let y = g.concat(&[a, b, c], -1)?;
            g.output("y", y)
        }),
        case("slice", "layout", |g| {
            let x = input(g, "x", &[64, 128])?;
            let y = g.slice(x, -1, 32, 96)?;
            g.output("y", y)
        }),
        case("pad", "layout", |g| {
            let x = input(g, "x", &[64, 96])?;
            let y = g.pad(x, -1, 16, 16)?;
            g.output("y", y)
        }),
        case("broadcast_to", "layout", |g| {
            let x = input(g, "x", &[1, 128])?;
            let y = g.broadcast_to(x, &[64, 128])?;
            g.output("y", y)
        }),
        ranged("reduce_sum_last", "reduction", POSITIVE_X, |g| {
            let x = input(g, "x", &[64, 128])?;
            let y = g.reduce_sum(x, &[-1], false)?;
            g.output("y", y)
        }),
        ranged("reduce_sum_keep_dims", "reduction", POSITIVE_X, |g| {
            let x = input(g, "x", &[4, 64, 128])?;
            let y = g.reduce_sum(x, &[0, 2], true)?;
            g.output("y", y)
        }),
        ranged("sum_all", "reduction", POSITIVE_X, |g| {
            let x = input(g, "x", &[64, 128])?;
            let y = g.sum_all(x)?;
            g.output("y", y)
        }),
        case("mse_loss", "reduction", |g| {
            let p = input(g, "prediction", &[64, 128])?;
            let t = input(g, "target", &[64, 128])?;
            let loss = g.mse_loss(p, t)?;
            g.output("loss", loss)
        }),
        case("mse_loss_backward", "reduction", mse_backward),
    ]
}

/// The MSE loss and its gradient with respect to the prediction, as autodiff derives it.
fn mse_backward(g: &mut Graph) -> Result<(), GraphError> {
    let mut forward = Graph::new();
    let p = input(&mut forward, "prediction", &[64, 128])?;
    let t = input(&mut forward, "target", &[64, 128])?;
    let loss = forward.mse_loss(p, t)?;
    forward.output("loss", loss)?;
    let options = ane_compiler::autodiff::GradOptions {
        wrt_inputs: vec!["prediction".into()],
    };
    *g = ane_compiler::autodiff::training_graph(&forward, "loss", &options)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_case_builds_and_names_are_unique() {
        let cases = all();
        let mut names = HashSet::new();
        for case in &cases {
            assert!(names.insert(case.name), "duplicate case {}", case.name);
            assert!(FAMILIES.contains(&case.family), "{}", case.family);
            let graph = case
                .graph()
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert!(!graph.outputs().is_empty(), "{}", case.name);
            for (name, _, _) in case.ranges {
                assert!(
                    graph.inputs().iter().any(|i| i.name == *name),
                    "{}: range for unknown input {name}",
                    case.name
                );
            }
        }
        for family in FAMILIES {
            assert!(
                cases.iter().any(|c| c.family == family),
                "no case in {family}"
            );
        }
    }

    #[test]
    fn every_ane_op_of_the_ir_has_a_case() {
        let mut seen = HashSet::new();
        for case in all() {
            for node in case.graph().unwrap().nodes() {
                seen.insert(node.op.name());
            }
        }
        // Ops that read or produce integer tensors (or dropout masks) only run in host kernels.
        let host_only = [
            "dropout_mask",
            "embedding",
            "embedding_backward",
            "softmax_cross_entropy",
            "softmax_cross_entropy_backward",
        ];
        let every_op = [
            "full",
            "causal_mask",
            "linear",
            "matmul",
            "conv2d",
            "conv2d_backward_data",
            "conv2d_backward_weight",
            "max_pool2d",
            "max_pool2d_backward",
            "avg_pool2d",
            "avg_pool2d_backward",
            "add",
            "sub",
            "mul",
            "div",
            "scalar_mul",
            "scalar_add",
            "relu",
            "gelu",
            "gelu_tanh",
            "silu",
            "sigmoid",
            "tanh",
            "relu_backward",
            "gelu_backward",
            "gelu_tanh_backward",
            "silu_backward",
            "sigmoid_backward",
            "tanh_backward",
            "reduce_sum",
            "broadcast_to",
            "reshape",
            "permute",
            "concat",
            "slice",
            "pad",
            "softmax",
            "layer_norm",
            "layer_norm_backward_input",
            "layer_norm_backward_weight",
            "rms_norm",
            "rms_norm_backward_input",
            "rms_norm_backward_weight",
            "rope",
            "mse_loss",
        ];
        for op in every_op {
            assert!(!host_only.contains(&op));
            assert!(seen.contains(op), "no conformance case uses `{op}`");
        }
    }
}
