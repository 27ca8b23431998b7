//! The op set of the graph IR: what each node computes, its attributes and the names of its inputs.
//!
//! Forward ops cover MLPs, CNNs and Llama-style transformers. Backward ops exist where the gradient
//! is not naturally a handful of primitives (convolution, pooling, norms, embedding scatter, the fused
//! cross-entropy, activations); autodiff emits them and lowering treats them like any other op.
//! Semantics are pinned down by the reference evaluator (`crate::eval`).

mod params;
mod unary;

pub use params::{window_output_size, Conv2dParams, Pool2dParams};
pub use unary::{BinaryOp, GeluApprox, UnaryOp};

use crate::shape::Shape;
use std::fmt;

/// The value placed above the diagonal of the causal mask: the most negative finite fp16, so the
/// mask survives the cast to fp16 and `exp` of it underflows to exactly 0.
pub const CAUSAL_MASK_VALUE: f32 = -65504.0;

/// What a node computes. Inputs are listed in the order given by [`Op::input_names`].
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    // ---- constants and generated tensors (no inputs unless stated) ----
    /// A tensor filled with one value.
    Full {
        /// Output shape.
        shape: Shape,
        /// The fill value.
        value: f32,
    },
    /// `[size, size]` additive causal mask: 0 on and below the diagonal, [`CAUSAL_MASK_VALUE`] above.
    CausalMask {
        /// Sequence length.
        size: usize,
    },
    /// Inputs `rng: i32[2]` = (seed, step). A dropout multiplier mask: each element is `0` (dropped,
    /// probability `p`) or `1/(1−p)` (kept), decided by [`crate::dropout::keep`] from seed, step,
    /// `site` and the element index — a pure function, so a resumed run replays the same masks.
    DropoutMask {
        /// Output shape.
        shape: Shape,
        /// Drop probability in `[0, 1)`.
        p: f32,
        /// Distinguishes dropout layers within one graph.
        site: u32,
    },

    // ---- linear algebra ----
    /// Inputs `x: [..., in]`, `w: [out, in]`, optional `b: [out]`: `y = x·wᵀ + b`, shape `[..., out]`.
    Linear,
    /// Inputs `a: [..., M, K]`, `b: [..., K, N]` (each possibly transposed in its last two axes;
    /// batch axes broadcast numpy-style): `op(a)·op(b)`, shape `[..., M, N]`.
    MatMul {
        /// Use `aᵀ` (swap the last two axes of `a`).
        transpose_a: bool,
        /// Use `bᵀ`.
        transpose_b: bool,
    },

    // ---- convolution and pooling (NCHW) ----
    /// Inputs `x: [N, C, H, W]`, `w: [O, C/groups, kh, kw]`, optional `b: [O]`; cross-correlation as
    /// PyTorch's `conv2d`, output `[N, O, OH, OW]`.
    Conv2d(Conv2dParams),
    /// Inputs `dy: [N, O, OH, OW]`, `w`: the gradient of [`Op::Conv2d`] with respect to `x`.
    Conv2dBackwardData {
        /// The forward convolution's geometry.
        params: Conv2dParams,
        /// The forward input's `[H, W]` (strides make it ambiguous from `dy`).
        input_hw: [usize; 2],
    },
    /// Inputs `x`, `dy`: the gradient of [`Op::Conv2d`] with respect to `w`.
    Conv2dBackwardWeight {
        /// The forward convolution's geometry.
        params: Conv2dParams,
        /// The kernel's `[kh, kw]`.
        kernel_hw: [usize; 2],
    },
    /// Input `x: [N, C, H, W]`; max over each window (padding never wins).
    MaxPool2d(Pool2dParams),
    /// Inputs `x`, `dy`: routes each window's gradient to its maximum. Ties: the first maximum in
    /// row-major window order (top-left first) takes all of it, as PyTorch's CPU kernel does.
    /// Overlapping windows accumulate.
    MaxPool2dBackward(Pool2dParams),
    /// Input `x: [N, C, H, W]`; mean over each window.
    AvgPool2d {
        /// Window geometry.
        pool: Pool2dParams,
        /// Divide by the full window size even where it covers padding (PyTorch's default);
        /// otherwise by the number of real elements.
        count_include_pad: bool,
    },
    /// Input `dy`: the gradient of [`Op::AvgPool2d`] with respect to `x`.
    AvgPool2dBackward {
        /// Window geometry.
        pool: Pool2dParams,
        /// As in the forward op.
        count_include_pad: bool,
        /// The forward input's `[H, W]`.
        input_hw: [usize; 2],
    },

    // ---- elementwise ----
    /// Inputs `a`, `b` with numpy broadcasting.
    Binary(BinaryOp),
    /// Input `x`: `x · factor`.
    ScalarMul(f32),
    /// Input `x`: `x + addend`.
    ScalarAdd(f32),
    /// Input `x`: an activation.
    Unary(UnaryOp),
    /// Inputs `x` (the activation's input), `dy`: `dy · f'(x)`.
    UnaryBackward(UnaryOp),

    // ---- reductions and data movement ----
    /// Input `x`: sum over `axes` (sorted, distinct).
    ReduceSum {
        /// Axes to sum over.
        axes: Vec<usize>,
        /// Keep summed axes as size 1.
        keep_dims: bool,
    },
    /// Input `x`: numpy-broadcast to `shape`.
    BroadcastTo {
        /// Target shape.
        shape: Shape,
    },
    /// Input `x`: same elements in row-major order, new shape.
    Reshape {
        /// Target shape (same element count).
        shape: Shape,
    },
    /// Input `x`: axes reordered; output axis `i` is input axis `perm[i]`.
    Permute {
        /// A permutation of `0..rank`.
        perm: Vec<usize>,
    },
    /// Inputs `values...` (at least one): joined along `axis`.
    Concat {
        /// The joining axis.
        axis: usize,
    },
    /// Input `x`: the range `start..end` of `axis`.
    Slice {
        /// The sliced axis.
        axis: usize,
        /// First index kept.
        start: usize,
        /// One past the last index kept.
        end: usize,
    },
    /// Input `x`: zeros added before and after along `axis` (the transpose of [`Op::Slice`]).
    Pad {
        /// The padded axis.
        axis: usize,
        /// Zeros before.
        before: usize,
        /// Zeros after.
        after: usize,
    },

    // ---- normalisation ----
    /// Input `x`: softmax along `axis`.
    Softmax {
        /// Normalised axis.
        axis: usize,
    },
    /// Inputs `x: [..., D]`, `gamma: [D]`, `beta: [D]`: layer norm over the last axis (biased
    /// variance), then `·gamma + beta`.
    LayerNorm {
        /// Added to the variance.
        eps: f32,
    },
    /// Inputs `x`, `gamma`, `dy`: the gradient of [`Op::LayerNorm`] with respect to `x`.
    LayerNormBackwardInput {
        /// As in the forward op.
        eps: f32,
    },
    /// Inputs `x`, `dy`: the gradient with respect to `gamma`, `Σ dy·x̂` over all leading axes.
    LayerNormBackwardWeight {
        /// As in the forward op.
        eps: f32,
    },
    /// Inputs `x: [..., D]`, `w: [D]`: `x / sqrt(mean(x²) + eps) · w` over the last axis.
    RmsNorm {
        /// Added to the mean square.
        eps: f32,
    },
    /// Inputs `x`, `w`, `dy`: the gradient of [`Op::RmsNorm`] with respect to `x`.
    RmsNormBackwardInput {
        /// As in the forward op.
        eps: f32,
    },
    /// Inputs `x`, `dy`: the gradient with respect to `w`, `Σ dy·x·r` over all leading axes.
    RmsNormBackwardWeight {
        /// As in the forward op.
        eps: f32,
    },

    // ---- embedding and positions ----
    /// Inputs `ids: i32[...]`, `table: [V, D]`: rows of the table, shape `[..., D]`.
    Embedding,
    /// Inputs `ids`, `dy: [..., D]`: scatter-add of `dy` rows into a zero `[vocab, D]` table.
    EmbeddingBackward {
        /// Rows of the table.
        vocab: usize,
    },
    /// Input `x: [..., S, HD]` (HD even): rotary position embedding, llama2.c's interleaved pairs.
    /// Position `s` is the index along axis −2; pair `(2i, 2i+1)` of the last axis is rotated by
    /// `θ = s / base^(2i/HD)` (by `−θ` when `inverse`, which is also the gradient).
    Rope {
        /// Frequency base (10000 in Llama 2).
        base: f32,
        /// Rotate backwards.
        inverse: bool,
    },

    // ---- losses (scalar outputs) ----
    /// Inputs `logits: [..., C]`, `labels: i32[...]`: mean over all positions of
    /// `logsumexp(logits) − logits[label]` (numerically stable).
    SoftmaxCrossEntropy,
    /// Inputs `logits`, `labels`, `dloss: []`: `(softmax(logits) − onehot(labels)) / count · dloss`.
    SoftmaxCrossEntropyBackward,
    /// Inputs `prediction`, `target` (same shape): mean of squared differences.
    MseLoss,
}

impl Op {
    /// The op's name in printed graphs (snake case).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Full { .. } => "full",
            Op::CausalMask { .. } => "causal_mask",
            Op::DropoutMask { .. } => "dropout_mask",
            Op::Linear => "linear",
            Op::MatMul { .. } => "matmul",
            Op::Conv2d(_) => "conv2d",
            Op::Conv2dBackwardData { .. } => "conv2d_backward_data",
            Op::Conv2dBackwardWeight { .. } => "conv2d_backward_weight",
            Op::MaxPool2d(_) => "max_pool2d",
            Op::MaxPool2dBackward(_) => "max_pool2d_backward",
            Op::AvgPool2d { .. } => "avg_pool2d",
            Op::AvgPool2dBackward { .. } => "avg_pool2d_backward",
            Op::Binary(b) => b.name(),
            Op::ScalarMul(_) => "scalar_mul",
            Op::ScalarAdd(_) => "scalar_add",
            Op::Unary(u) => u.name(),
            Op::UnaryBackward(u) => match u {
                UnaryOp::Relu => "relu_backward",
                UnaryOp::Gelu(GeluApprox::Exact) => "gelu_backward",
                UnaryOp::Gelu(GeluApprox::Tanh) => "gelu_tanh_backward",
                UnaryOp::Silu => "silu_backward",
                UnaryOp::Sigmoid => "sigmoid_backward",
                UnaryOp::Tanh => "tanh_backward",
            },
            Op::ReduceSum { .. } => "reduce_sum",
            Op::BroadcastTo { .. } => "broadcast_to",
            Op::Reshape { .. } => "reshape",
            Op::Permute { .. } => "permute",
            Op::Concat { .. } => "concat",
            Op::Slice { .. } => "slice",
            Op::Pad { .. } => "pad",
            Op::Softmax { .. } => "softmax",
            Op::LayerNorm { .. } => "layer_norm",
            Op::LayerNormBackwardInput { .. } => "layer_norm_backward_input",
            Op::LayerNormBackwardWeight { .. } => "layer_norm_backward_weight",
            Op::RmsNorm { .. } => "rms_norm",
            Op::RmsNormBackwardInput { .. } => "rms_norm_backward_input",
            Op::RmsNormBackwardWeight { .. } => "rms_norm_backward_weight",
            Op::Embedding => "embedding",
            Op::EmbeddingBackward { .. } => "embedding_backward",
            Op::Rope { .. } => "rope",
            Op::SoftmaxCrossEntropy => "softmax_cross_entropy",
            Op::SoftmaxCrossEntropyBackward => "softmax_cross_entropy_backward",
            Op::MseLoss => "mse_loss",
        }
    }

    /// Names of the inputs, in order (for messages and printing). Concat's inputs are all `values`;
    /// ops with an optional last input (bias) list it and may receive one fewer.
    pub fn input_names(&self) -> &'static [&'static str] {
        match self {
            Op::Full { .. } | Op::CausalMask { .. } => &[],
            Op::DropoutMask { .. } => &["rng"],
            Op::Linear | Op::Conv2d(_) => &["x", "w", "b"],
            Op::MatMul { .. } | Op::Binary(_) => &["a", "b"],
            Op::Conv2dBackwardData { .. } => &["dy", "w"],
            Op::Conv2dBackwardWeight { .. } => &["x", "dy"],
            Op::MaxPool2dBackward(_) => &["x", "dy"],
            Op::AvgPool2dBackward { .. } => &["dy"],
            Op::UnaryBackward(_) => &["x", "dy"],
            Op::Concat { .. } => &["values"],
            Op::LayerNorm { .. } => &["x", "gamma", "beta"],
            Op::LayerNormBackwardInput { .. } => &["x", "gamma", "dy"],
            Op::LayerNormBackwardWeight { .. } | Op::RmsNormBackwardWeight { .. } => &["x", "dy"],
            Op::RmsNorm { .. } => &["x", "w"],
            Op::RmsNormBackwardInput { .. } => &["x", "w", "dy"],
            Op::Embedding => &["ids", "table"],
            Op::EmbeddingBackward { .. } => &["ids", "dy"],
            Op::SoftmaxCrossEntropy => &["logits", "labels"],
            Op::SoftmaxCrossEntropyBackward => &["logits", "labels", "dloss"],
            Op::MseLoss => &["prediction", "target"],
            Op::MaxPool2d(_)
            | Op::AvgPool2d { .. }
            | Op::ScalarMul(_)
            | Op::ScalarAdd(_)
            | Op::Unary(_)
            | Op::ReduceSum { .. }
            | Op::BroadcastTo { .. }
            | Op::Reshape { .. }
            | Op::Permute { .. }
            | Op::Slice { .. }
            | Op::Pad { .. }
            | Op::Softmax { .. }
            | Op::Rope { .. } => &["x"],
        }
    }

    /// The name of input `index` (`values` for every concat input, `input<i>` past the list).
    pub fn input_name(&self, index: usize) -> String {
        let names = self.input_names();
        match names.get(index) {
            Some(n) => (*n).to_string(),
            None if matches!(self, Op::Concat { .. }) => format!("values[{index}]"),
            None => format!("input{index}"),
        }
    }

    /// True for ops autodiff emits to express gradients; they have no gradient rule themselves.
    pub fn is_backward(&self) -> bool {
        matches!(
            self,
            Op::Conv2dBackwardData { .. }
                | Op::Conv2dBackwardWeight { .. }
                | Op::MaxPool2dBackward(_)
                | Op::AvgPool2dBackward { .. }
                | Op::UnaryBackward(_)
                | Op::LayerNormBackwardInput { .. }
                | Op::LayerNormBackwardWeight { .. }
                | Op::RmsNormBackwardInput { .. }
                | Op::RmsNormBackwardWeight { .. }
                | Op::EmbeddingBackward { .. }
                | Op::SoftmaxCrossEntropyBackward
        )
    }
}

impl fmt::Display for Op {
    /// The name followed by attributes in braces, e.g. `conv2d{stride=[2, 2], padding=[1, 1], groups=1}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            Op::Full { shape, value } => write!(f, "{{shape={shape}, value={value}}}"),
            Op::CausalMask { size } => write!(f, "{{size={size}}}"),
            Op::DropoutMask { shape, p, site } => {
                write!(f, "{{shape={shape}, p={p}, site={site}}}")
            }
            Op::MatMul {
                transpose_a,
                transpose_b,
            } => write!(
                f,
                "{{transpose_a={transpose_a}, transpose_b={transpose_b}}}"
            ),
            Op::Conv2d(p) => write!(f, "{{{p}}}"),
            Op::Conv2dBackwardData { params, input_hw } => {
                write!(f, "{{{params}, input_hw={input_hw:?}}}")
            }
            Op::Conv2dBackwardWeight { params, kernel_hw } => {
                write!(f, "{{{params}, kernel_hw={kernel_hw:?}}}")
            }
            Op::MaxPool2d(p) | Op::MaxPool2dBackward(p) => write!(f, "{{{p}}}"),
            Op::AvgPool2d {
                pool,
                count_include_pad,
            } => write!(f, "{{{pool}, count_include_pad={count_include_pad}}}"),
            Op::AvgPool2dBackward {
                pool,
                count_include_pad,
                input_hw,
            } => write!(
                f,
                "{{{pool}, count_include_pad={count_include_pad}, input_hw={input_hw:?}}}"
            ),
            Op::ScalarMul(v) | Op::ScalarAdd(v) => write!(f, "{{{v}}}"),
            Op::ReduceSum { axes, keep_dims } => {
                write!(f, "{{axes={axes:?}, keep_dims={keep_dims}}}")
            }
            Op::BroadcastTo { shape } | Op::Reshape { shape } => write!(f, "{{shape={shape}}}"),
            Op::Permute { perm } => write!(f, "{{perm={perm:?}}}"),
            Op::Concat { axis } | Op::Softmax { axis } => write!(f, "{{axis={axis}}}"),
            Op::Slice { axis, start, end } => write!(f, "{{axis={axis}, range={start}..{end}}}"),
            Op::Pad {
                axis,
                before,
                after,
            } => write!(f, "{{axis={axis}, before={before}, after={after}}}"),
            Op::LayerNorm { eps }
            | Op::LayerNormBackwardInput { eps }
            | Op::LayerNormBackwardWeight { eps }
            | Op::RmsNorm { eps }
            | Op::RmsNormBackwardInput { eps }
            | Op::RmsNormBackwardWeight { eps } => write!(f, "{{eps={eps}}}"),
            Op::EmbeddingBackward { vocab } => write!(f, "{{vocab={vocab}}}"),
            Op::Rope { base, inverse } => write!(f, "{{base={base}, inverse={inverse}}}"),
            Op::Linear
            | Op::Binary(_)
            | Op::Unary(_)
            | Op::UnaryBackward(_)
            | Op::Embedding
            | Op::SoftmaxCrossEntropy
            | Op::SoftmaxCrossEntropyBackward
            | Op::MseLoss => Ok(()),
        }
    }
}
