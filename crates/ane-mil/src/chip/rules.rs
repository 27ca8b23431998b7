//! The rules of the capability table: every known ANE limit the lint checks, whether it rejects a
//! program or is only reported, and where the fact comes from; and the MIL op set our kernels may
//! use on the ANE, each op with its evidence.
//!
//! A rule *rejects* when the references agree that the program fails to compile or computes wrong
//! values silently. It is *advisory* when a single source reports it and another contradicts it,
//! so planning goes on but the plan shows the finding.

use super::caps::ChipCaps;
use std::fmt;

/// How the lint treats a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Enforcement {
    /// The program is rejected before compiling.
    Reject,
    /// The finding is reported; the program is still compiled.
    Advisory,
}

/// One known ANE limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// The program's text dialect is not the one the chip's compiler accepts
    /// ([`ChipCaps::dialect`]).
    Dialect,
    /// Every tensor axis at most [`ChipCaps::max_axis_size`].
    AxisSize,
    /// The op is not in the ANE op set ([`ane_op_support`]).
    OpSet,
    /// `cast` on a chip without it ([`ChipCaps::supports_cast`]).
    Cast,
    /// Integer tensors computed at run time (ids, labels, gathers, one-hot).
    IntegerTensor,
    /// `matmul`/`linear` contracted dimension not a multiple of [`ChipCaps::matmul_inner_multiple`].
    MatmulInnerDim,
    /// `conv` whose weight is not a constant ([`ChipCaps::conv_runtime_weights`]).
    ConvRuntimeWeight,
    /// `conv` kernel wider than [`ChipCaps::max_conv_kernel_width`].
    ConvKernelWidth,
    /// Pooling window above [`ChipCaps::max_pool_window`].
    PoolWindow,
    /// Pooling stride above [`ChipCaps::max_pool_stride`].
    PoolStride,
    /// `reduce_mean` (absent from the MIL text the ANE compiler accepts).
    ReduceMean,
    /// `rsqrt`/`sqrt` applied to a reduction (fails to compile; use `pow(x, -0.5)`).
    RsqrtAfterReduce,
    /// `mul(reduction, 0)` (fails to compile).
    MulZeroAfterReduce,
    /// `scaled_dot_product_attention` with `attn_mask` (the mask is ignored).
    SdpaMask,
    /// `concat` with more inputs than [`ChipCaps::concat_inputs_reported`].
    ConcatArity,
    /// `softmax` over an axis whose size is not a power of two.
    SoftmaxNonPowerOfTwo,
    /// A slice along the width axis starting above [`ChipCaps::max_slice_width_offset`].
    SliceWidthOffset,
    /// A rank-4 kernel input or output with fewer channels than
    /// [`ChipCaps::min_io_channels_reported`].
    MinIoChannels,
    /// A kernel with several inputs whose byte sizes are not strictly ascending, or several
    /// outputs not strictly descending.
    MultiInputOrder,
    /// A kernel whose inputs plus outputs exceed [`ChipCaps::max_kernel_io_bytes`].
    KernelIoBytes,
    /// A kernel input or output that is not a rank-4 `[1, C, H, W]` tensor.
    IoRank,
    /// A kernel input or output row (`W` × element bytes) that is not a multiple of
    /// [`ChipCaps::io_row_alignment_bytes`].
    IoRowAlignment,
    /// A kernel input or output row narrower than [`ChipCaps::min_io_width`] or wider than
    /// [`ChipCaps::max_io_width`].
    IoWidth,
    /// An op no trainer has run on the ANE ([`Tier::Unproven`]): only reported.
    UnprovenOp,
    /// A tensor form no trainer has run on the ANE (a transpose other than `[0, 1, 3, 2]`, a
    /// tensor of rank other than 4 or with a leading axis other than 1, a bool tensor): only
    /// reported.
    UnprovenForm,
}

impl Rule {
    /// Every rule, in table order.
    pub const ALL: [Rule; 25] = [
        Rule::Dialect,
        Rule::AxisSize,
        Rule::OpSet,
        Rule::Cast,
        Rule::IntegerTensor,
        Rule::MatmulInnerDim,
        Rule::ConvRuntimeWeight,
        Rule::ConvKernelWidth,
        Rule::PoolWindow,
        Rule::PoolStride,
        Rule::ReduceMean,
        Rule::RsqrtAfterReduce,
        Rule::MulZeroAfterReduce,
        Rule::SdpaMask,
        Rule::ConcatArity,
        Rule::SoftmaxNonPowerOfTwo,
        Rule::SliceWidthOffset,
        Rule::MinIoChannels,
        Rule::MultiInputOrder,
        Rule::KernelIoBytes,
        Rule::IoRank,
        Rule::IoRowAlignment,
        Rule::IoWidth,
        Rule::UnprovenOp,
        Rule::UnprovenForm,
    ];

    /// A short stable identifier (`axis-size`), used in messages and plan tables.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Dialect => "dialect",
            Rule::AxisSize => "axis-size",
            Rule::OpSet => "op-set",
            Rule::Cast => "cast",
            Rule::IntegerTensor => "integer-tensor",
            Rule::MatmulInnerDim => "matmul-inner-dim",
            Rule::ConvRuntimeWeight => "conv-runtime-weight",
            Rule::ConvKernelWidth => "conv-kernel-width",
            Rule::PoolWindow => "pool-window",
            Rule::PoolStride => "pool-stride",
            Rule::ReduceMean => "reduce-mean",
            Rule::RsqrtAfterReduce => "rsqrt-after-reduce",
            Rule::MulZeroAfterReduce => "mul-zero-after-reduce",
            Rule::SdpaMask => "sdpa-mask",
            Rule::ConcatArity => "concat-arity",
            Rule::SoftmaxNonPowerOfTwo => "softmax-non-power-of-two",
            Rule::SliceWidthOffset => "slice-width-offset",
            Rule::MinIoChannels => "min-io-channels",
            Rule::MultiInputOrder => "multi-input-order",
            Rule::KernelIoBytes => "kernel-io-bytes",
            Rule::IoRank => "io-rank",
            Rule::IoRowAlignment => "io-row-alignment",
            Rule::IoWidth => "io-width",
            Rule::UnprovenOp => "unproven-op",
            Rule::UnprovenForm => "unproven-form",
        }
    }

    /// Whether the rule reports an op or form no trainer has run on the ANE (the tier findings
    /// `doctor` on a Mac settles).
    pub fn is_unproven(self) -> bool {
        matches!(self, Rule::UnprovenOp | Rule::UnprovenForm)
    }

    /// Whether a finding rejects the program.
    pub fn enforcement(self) -> Enforcement {
        match self {
            Rule::ConcatArity
            | Rule::SoftmaxNonPowerOfTwo
            | Rule::MinIoChannels
            | Rule::MultiInputOrder
            | Rule::UnprovenOp
            | Rule::UnprovenForm => Enforcement::Advisory,
            _ => Enforcement::Reject,
        }
    }

    /// Where the fact comes from (sections of `reference/ane-facts.md` and `reference/landscape.md`)
    /// and, for advisory rules, why it is not enforced.
    pub fn source(self) -> &'static str {
        match self {
            Rule::Dialect => {
                "ane-facts §1.1 (program(1.3)/ios18 verified on M4+; PR #6: M1/M2 reject the short \
                 scalar form and need program(1.0)/ios16; landscape extends it to M3)"
            }
            Rule::AxisSize => {
                "landscape cheat sheet (ANEForge capability registry: 16,384 M1–M3, 65,536 M4+; \
                 rustane#13); ane-facts §6 (PR #26: any dim > 65,536 rejected)"
            }
            Rule::OpSet => "ane-facts §2 (ops in verified kernels); landscape (hollance unsupported layers, ANEForge)",
            Rule::Cast => "ane-facts §2, §6 (PR #6: cast unsupported on M1/M2)",
            Rule::IntegerTensor => {
                "landscape (ANEForge: fp16 is the only compute type, no int32, no data-dependent \
                 gather; hollance: gather unsupported)"
            }
            Rule::MatmulInnerDim => "ane-facts §6 (issue #47: inner dim must be a multiple of 32, else silent zeros)",
            Rule::ConvRuntimeWeight => {
                "ane-facts §6 (issue #47: runtime-weight conv fails for grouped/depthwise); landscape \
                 (ANEForge: dynamic-weight conv only at batch 1, hence im2col)"
            }
            Rule::ConvKernelWidth => "landscape (ANEForge: conv kernel width ≤ 13 on M1, ≤ 15 on M5)",
            Rule::PoolWindow | Rule::PoolStride => {
                "landscape (hollance/neural-engine: pooling kernel > 13 and stride > 2 rejected)"
            }
            Rule::ReduceMean => "landscape (Espresso via hollance#44: reduce_mean absent in MIL text; use reduce_sum × 1/N)",
            Rule::RsqrtAfterReduce => "landscape (rustane: rsqrt/sqrt after reduce fails to compile; use pow(−0.5))",
            Rule::MulZeroAfterReduce => "landscape (ANEForge: mul(reduce, 0.0) fails to compile)",
            Rule::SdpaMask => "ane-facts §6, landscape (maderix README: SDPA ignores attn_mask)",
            Rule::ConcatArity => {
                "landscape (ANEForge: concat takes exactly 2 inputs) — advisory: maderix's verified \
                 kernels concatenate 6 outputs (ane-facts §1.5, §7.1)"
            }
            Rule::SoftmaxNonPowerOfTwo => {
                "landscape (Espresso via hollance#44: softmax over non-power-of-2 dims fails) — \
                 advisory: maderix's train_large_ane runs a 32,000-wide vocab softmax on the ANE \
                 (ane-facts §7.1)"
            }
            Rule::SliceWidthOffset => {
                "landscape (ANEForge numeric cliffs, M1 Max / M2 Pro: pre-A16 width-offset slices \
                 saturate above 4094, silently)"
            }
            Rule::MinIoChannels => {
                "ane-facts §6 (probes moved to ≥ 64 channels, commit 184b182) — advisory: \
                 no failure reported below it"
            }
            Rule::KernelIoBytes => {
                "a budget (16 MiB by default): maderix/ANE PR #40 and PR #25 measured the best rate \
                 near 12.5 MB of weights and SRAM spills from ≈32 MB on M4; PR #35: surfaces over \
                 16 MB need kIOSurfaceIsGlobal on M5"
            }
            Rule::IoRank => {
                "maderix/ANE training_dynamic/io.h, computer-graphics-tools/ane, ncdrone/rustane: \
                 every working kernel's inputs and outputs are [1, C, 1, S] surfaces"
            }
            Rule::IoRowAlignment => {
                "ncdrone/rustane README gotchas (spatial width not a multiple of 16: silent data \
                 corruption); 64-byte row strides in Core ML-compiled models' load attributes and \
                 in _ANEModel users; maderix/ANE training_dynamic/io.h (every width a multiple of \
                 256)"
            }
            Rule::IoWidth => {
                "computer-graphics-tools/ane graph/compile.rs MIN_SPATIAL_WIDTH = 64 (narrower: \
                 ANEProgramProcessRequestDirect status 0x1d on M1–M5); ncdrone/rustane#13 (widths \
                 above 16,384 fail to compile on an M3 Ultra); 16,384 on every chip until a Mac \
                 shows more"
            }
            Rule::UnprovenOp => {
                "ops outside maderix/ANE's working kernels (ane-facts §2): reported to run by Core \
                 ML or other projects, never in a trainer's kernel; `doctor` on a Mac settles each"
            }
            Rule::UnprovenForm => {
                "forms outside maderix/ANE's working kernels: transpose only as [0, 1, 3, 2], rank-4 \
                 [1, C, H, W] tensors, no bool tensors; `doctor` on a Mac settles each"
            }
            Rule::MultiInputOrder => {
                "ane-facts §5, §6 (README: multi-input requests fail with 0x1d; issue #47: input sizes \
                 must ascend and output sizes descend, else silent zeros) — advisory: contributor \
                 claims in conflict with tests that use several inputs"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// How well an op's ANE support is established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Evidence {
    /// Used by kernels that trained on the ANE (maderix/ANE, ane-facts §2, §7).
    Verified,
    /// Reported to run on the ANE by another project or Core ML documentation.
    Reported,
}

/// How well a rule's subject (an op or a tensor form) is established on the hardware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    /// Ran in kernels of a trainer that trained on the ANE.
    Proven,
    /// Reported to run elsewhere (Core ML, other projects) or never tried: compiled, and reported.
    Unproven,
    /// Known to fail to compile or to compute wrong values: never emitted.
    KnownFailure,
}

impl Tier {
    /// `proven`, `unproven` or `known-failure`.
    pub fn id(self) -> &'static str {
        match self {
            Tier::Proven => "proven",
            Tier::Unproven => "unproven",
            Tier::KnownFailure => "known-failure",
        }
    }
}

/// Why an op may appear in an ANE kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpSupport {
    /// The MIL op type.
    pub op: &'static str,
    /// How well established its support is.
    pub evidence: Evidence,
    /// Where that comes from.
    pub source: &'static str,
}

impl OpSupport {
    /// The op's tier: verified ops are proven, reported ones unproven.
    pub fn tier(&self) -> Tier {
        match self.evidence {
            Evidence::Verified => Tier::Proven,
            Evidence::Reported => Tier::Unproven,
        }
    }
}

const MADERIX: &str = "ane-facts §2 (maderix kernels)";
const CORE_ML: &str =
    "Core ML elementwise/layout layers run on the ANE (landscape: hollance lists no failure)";

/// The MIL ops ANE kernels may use (ops with extra conditions, such as `cast` or `conv`, are
/// further checked by their own rules).
pub const ANE_OPS: &[OpSupport] = &[
    verified("const"),
    verified("conv"),
    verified("matmul"),
    verified("add"),
    verified("sub"),
    verified("mul"),
    verified("pow"),
    verified("reduce_sum"),
    verified("sigmoid"),
    verified("softmax"),
    verified("reshape"),
    verified("transpose"),
    verified("slice_by_size"),
    verified("concat"),
    verified("identity"),
    verified("cast"),
    verified("scaled_dot_product_attention"),
    verified("quantize"),
    verified("dequantize"),
    verified("constexpr_affine_dequantize"),
    reported(
        "conv_transpose",
        "landscape (hollance: deconvolution works)",
    ),
    reported(
        "max_pool",
        "landscape (hollance: pooling with kernel ≤ 13, stride ≤ 2)",
    ),
    reported(
        "avg_pool",
        "landscape (hollance: pooling with kernel ≤ 13, stride ≤ 2)",
    ),
    reported(
        "linear",
        "mil-ops §1.4 (constant-weight inner product, Core ML's ANE layer)",
    ),
    reported("real_div", CORE_ML),
    reported("maximum", CORE_ML),
    reported("minimum", CORE_ML),
    reported("relu", CORE_ML),
    reported("tanh", CORE_ML),
    reported("silu", CORE_ML),
    reported("gelu", CORE_ML),
    reported("exp", CORE_ML),
    reported("log", CORE_ML),
    reported("sqrt", CORE_ML),
    reported("rsqrt", CORE_ML),
    reported("inverse", CORE_ML),
    reported("abs", CORE_ML),
    reported("square", CORE_ML),
    reported("clip", CORE_ML),
    reported("greater", CORE_ML),
    reported("greater_equal", CORE_ML),
    reported("less", CORE_ML),
    reported("less_equal", CORE_ML),
    reported("equal", CORE_ML),
    reported("not_equal", CORE_ML),
    reported("select", CORE_ML),
    reported("reduce_max", CORE_ML),
    reported("reduce_min", CORE_ML),
    reported("slice_by_index", CORE_ML),
    reported("expand_dims", CORE_ML),
    reported("squeeze", CORE_ML),
    reported("split", CORE_ML),
    reported("pad", CORE_ML),
    reported("tile", CORE_ML),
    reported(
        "layer_norm",
        "landscape (Apple ml-ane-transformers: LayerNorm over channels on the ANE)",
    ),
];

const fn verified(op: &'static str) -> OpSupport {
    OpSupport {
        op,
        evidence: Evidence::Verified,
        source: MADERIX,
    }
}

const fn reported(op: &'static str, source: &'static str) -> OpSupport {
    OpSupport {
        op,
        evidence: Evidence::Reported,
        source,
    }
}

/// Ops that never run on the ANE, with the rule that rejects them and why.
const HOST_ONLY_OPS: &[(&str, Rule, &str)] = &[
    (
        "gather",
        Rule::IntegerTensor,
        "data-dependent gather (embedding lookup) runs on the host",
    ),
    (
        "gather_along_axis",
        Rule::IntegerTensor,
        "data-dependent gather runs on the host",
    ),
    (
        "gather_nd",
        Rule::IntegerTensor,
        "data-dependent gather runs on the host",
    ),
    (
        "scatter",
        Rule::IntegerTensor,
        "scatter by integer indices runs on the host",
    ),
    (
        "scatter_along_axis",
        Rule::IntegerTensor,
        "scatter by integer indices runs on the host",
    ),
    (
        "scatter_nd",
        Rule::IntegerTensor,
        "scatter by integer indices runs on the host",
    ),
    (
        "one_hot",
        Rule::IntegerTensor,
        "one-hot of integer labels runs on the host",
    ),
    (
        "reduce_argmax",
        Rule::IntegerTensor,
        "produces integer indices",
    ),
    (
        "reduce_argmin",
        Rule::IntegerTensor,
        "produces integer indices",
    ),
    (
        "reduce_mean",
        Rule::ReduceMean,
        "use reduce_sum followed by mul(1/N)",
    ),
];

/// Whether `op` may appear in an ANE kernel on a chip with `caps`: `Ok` with its evidence, or the
/// rule that rejects it and a reason.
pub fn ane_op_support(op: &str, caps: &ChipCaps) -> Result<&'static OpSupport, (Rule, String)> {
    if let Some((_, rule, why)) = HOST_ONLY_OPS.iter().find(|(name, _, _)| *name == op) {
        return Err((*rule, format!("`{op}` is not available on the ANE: {why}")));
    }
    if op == "cast" && !caps.supports_cast {
        return Err((
            Rule::Cast,
            format!(
                "`cast` does not compile on {} (use fp16 kernel inputs and outputs)",
                caps.family
            ),
        ));
    }
    ANE_OPS.iter().find(|s| s.op == op).ok_or_else(|| {
        (
            Rule::OpSet,
            format!("`{op}` is not in the ANE op set of the capability table"),
        )
    })
}
