//! The numbers of the capability table: what one chip family's Neural Engine accepts, one value per
//! limit, each with its source. [`ChipFamily::caps`] is the only place these values are chosen.
//!
//! Where the references disagree the choice and its reason are written next to the field; which
//! limits reject a program and which are only reported is decided in [`super::rules`].

use super::family::ChipFamily;
use crate::program::Dialect;

/// Largest size of any tensor axis on M1–M3 class chips (landscape cheat sheet: ANEForge's
/// capability registry; rustane#13 hit it on an M3 Ultra).
pub const MAX_AXIS_M1_TO_M3: usize = 16_384;
/// Largest size of any tensor axis on M4 and later (landscape cheat sheet; ane-facts §6, PR #26:
/// any dim > 65,536 rejected, the 151,936-row LM head had to be chunked).
pub const MAX_AXIS_M4_AND_LATER: usize = 65_536;
/// IOSurface sizes are rounded up to this many bytes (ane-facts §5: PR #35's M5 claim, applied to
/// every chip because a larger allocation is harmless).
pub const SURFACE_ALIGNMENT: usize = 128;
/// Compiles one process can make before the in-memory compiler starts failing (ane-facts §6: ~119,
/// README; PR #23 saw 119–132 on M4).
pub const COMPILE_LIMIT_PER_PROCESS: usize = 119;
/// A `matmul`'s contracted dimension must be a multiple of this, or the result is silently zero
/// (ane-facts §6, issue #47).
pub const MATMUL_INNER_MULTIPLE: usize = 32;
/// Largest pooling window per axis (landscape, hollance/neural-engine: "pooling kernel > 13
/// rejected").
pub const MAX_POOL_WINDOW: usize = 13;
/// Largest pooling stride per axis (landscape, hollance/neural-engine: "stride > 2 rejected").
pub const MAX_POOL_STRIDE: usize = 2;
/// Largest convolution kernel width up to M4 (landscape, ANEForge: "conv kernel width ≤ 13 (M1)").
pub const MAX_CONV_KERNEL_WIDTH_TO_M4: usize = 13;
/// Largest convolution kernel width from M5 on (landscape, ANEForge: "≤ 15 (M5)").
pub const MAX_CONV_KERNEL_WIDTH_M5: usize = 15;
/// `concat` inputs ANEForge reports as the maximum (landscape: "`concat` takes exactly 2
/// inputs"); contradicted by maderix's verified kernels, which concatenate six outputs (ane-facts
/// §7.1), so it is reported, not enforced.
pub const CONCAT_INPUTS_REPORTED: usize = 2;
/// Pre-A16 chips (M1, M2) saturate slice offsets along the width axis above this (landscape,
/// ANEForge numeric cliffs, measured on M1 Max and M2 Pro). Enforced on those chips: the failure is
/// silent, and nothing contradicts it there (maderix's packed kernels that slice past it were
/// developed on M4).
pub const MAX_SLICE_WIDTH_OFFSET_PRE_A16: usize = 4094;
/// Every kernel input and output row (the last axis of a `[1, C, H, W]` I/O tensor) is a multiple
/// of this many bytes: 32 fp16 values. The strictest of the reports, so it satisfies all of them:
/// ncdrone/rustane's README ("spatial width must be a multiple of 16", silent corruption
/// otherwise, with fp16 I/O: 32-byte rows); Core ML-compiled models' load attributes report row
/// strides padded to 64 bytes, and users of `_ANEModel` pad rows to 64 bytes; every I/O width of
/// maderix/ANE's working kernels (`training_dynamic/io.h`) is a multiple of 256 values.
pub const IO_ROW_ALIGNMENT_BYTES: usize = 64;
/// The narrowest I/O row in values: computer-graphics-tools/ane (`graph/compile.rs`,
/// `MIN_SPATIAL_WIDTH`) reports narrower inputs compiling and then failing at run time with
/// `ANEProgramProcessRequestDirect` status 0x1d on M1–M5; ncdrone/ane keeps the same floor.
pub const MIN_IO_WIDTH: usize = 64;
/// The widest I/O row (last axis) on every chip until a Mac shows more: ncdrone/rustane#13 probed
/// an M3 Ultra (16,384 compiles, 17,920 fails in `ANECCompile`); the widest that ran on an M4 is
/// 9,728 (maderix/ANE's Qwen3 FFN) or 15,616 (rustane 800M); the 65,536 M4 cap (maderix PR #26) is
/// about the channel axis.
pub const MAX_IO_WIDTH: usize = 16_384;
/// The default budget of one kernel's inputs plus outputs: M4 contributors measured the best rate
/// near 12.5 MB of weights and SRAM spills from about 32 MB (maderix PR #40, PR #25's fine probe);
/// maderix PR #35 puts surfaces over 16 MB behind `kIOSurfaceIsGlobal` on M5. Larger kernels have
/// run (maderix's Qwen3 FFN moves 25 MB on an M4), so this is a budget for speed and safety, not
/// a proven failure point; `doctor` on a Mac measures a 16 MiB and a 33 MiB kernel.
pub const DEFAULT_KERNEL_IO_BYTES: usize = 16 << 20;
/// The smallest channel count maderix's probes settled on ("ANE minimum size", ane-facts §6,
/// commit 184b182); its own trainers use 64–128. Reported, not enforced.
pub const MIN_IO_CHANNELS_REPORTED: usize = 64;

/// What one chip family's Neural Engine accepts. Read by the ANE device (dialect, alignment), by
/// the compiler's placement and partitioner (axis caps, ops to keep on the host) and by the
/// pre-compile lint ([`super::lint()`]), so a limit lives in exactly one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChipCaps {
    /// The family these values describe.
    pub family: ChipFamily,
    /// The MIL text dialect the in-memory compiler accepts (ane-facts §1.1: `program(1.3)`/`ios18`
    /// verified on M4+; PR #6: M1/M2 need `program(1.0)`/`ios16`; landscape extends it to M3).
    pub dialect: Dialect,
    /// Largest size of any single tensor axis ([`MAX_AXIS_M1_TO_M3`], [`MAX_AXIS_M4_AND_LATER`]).
    pub max_axis_size: usize,
    /// Byte alignment of kernel input/output IOSurfaces ([`SURFACE_ALIGNMENT`]).
    pub surface_alignment: usize,
    /// Whether the `cast` op compiles. `false` on M1/M2 per PR #6 (ane-facts §2, §6; a contributor
    /// claim verified nowhere else): fp16 kernel I/O is the safe choice.
    pub supports_cast: bool,
    /// Approximate number of compiles per process before compiles fail ([`COMPILE_LIMIT_PER_PROCESS`]).
    pub compile_limit: usize,
    /// A `matmul`'s contracted dimension must be a multiple of this ([`MATMUL_INNER_MULTIPLE`]).
    pub matmul_inner_multiple: usize,
    /// Largest pooling window per axis ([`MAX_POOL_WINDOW`]).
    pub max_pool_window: usize,
    /// Largest pooling stride per axis ([`MAX_POOL_STRIDE`]).
    pub max_pool_stride: usize,
    /// Largest `conv` kernel width ([`MAX_CONV_KERNEL_WIDTH_TO_M4`], [`MAX_CONV_KERNEL_WIDTH_M5`]).
    pub max_conv_kernel_width: usize,
    /// Whether `conv` may take a weight computed at run time. `false` everywhere: ANEForge reports
    /// dynamic-weight conv only at batch 1 and issue #47 reports grouped/depthwise runtime-weight
    /// conv failing (ane-facts §6, landscape), so trainable convolutions are lowered via im2col.
    pub conv_runtime_weights: bool,
    /// The `concat` arity ANEForge reports ([`CONCAT_INPUTS_REPORTED`]); advisory.
    pub concat_inputs_reported: usize,
    /// The largest width-axis offset a slice may start at ([`MAX_SLICE_WIDTH_OFFSET_PRE_A16`] on
    /// M1/M2); `None` on chips without the report.
    pub max_slice_width_offset: Option<usize>,
    /// Whether to keep `softmax` to power-of-two axis sizes (Espresso reports failures otherwise;
    /// maderix ran a 32,000-wide softmax): lowerings decompose other sizes into `exp`/`reduce_sum`
    /// so no kernel depends on the disputed case. True on every chip.
    pub avoid_softmax_non_power_of_two: bool,
    /// The smallest kernel I/O channel count reported to work well ([`MIN_IO_CHANNELS_REPORTED`]);
    /// advisory.
    pub min_io_channels_reported: usize,
    /// Largest total bytes of a kernel's inputs plus its outputs ([`DEFAULT_KERNEL_IO_BYTES`] on
    /// every family; `None` lifts the budget for experiments). The lint rejects, and the
    /// partitioner splits, kernels whose buffers exceed it.
    pub max_kernel_io_bytes: Option<usize>,
    /// Every I/O row (last axis) is a multiple of this many bytes ([`IO_ROW_ALIGNMENT_BYTES`]).
    pub io_row_alignment_bytes: usize,
    /// The narrowest I/O row in values ([`MIN_IO_WIDTH`]).
    pub min_io_width: usize,
    /// The widest I/O row in values ([`MAX_IO_WIDTH`]).
    pub max_io_width: usize,
    /// Whether every kernel input and output must be a rank-4 `[1, C, H, W]` tensor (true on
    /// every family: the only form working trainers use).
    pub io_rank_4: bool,
}

impl ChipFamily {
    /// The capability set of this family.
    pub fn caps(self) -> ChipCaps {
        let older = self.is_m1_to_m3_class();
        let pre_a16 = matches!(self, ChipFamily::M1 | ChipFamily::M2);
        ChipCaps {
            family: self,
            dialect: if older {
                Dialect::Ios16
            } else {
                Dialect::Ios18
            },
            max_axis_size: if older {
                MAX_AXIS_M1_TO_M3
            } else {
                MAX_AXIS_M4_AND_LATER
            },
            surface_alignment: SURFACE_ALIGNMENT,
            supports_cast: !pre_a16,
            compile_limit: COMPILE_LIMIT_PER_PROCESS,
            matmul_inner_multiple: MATMUL_INNER_MULTIPLE,
            max_pool_window: MAX_POOL_WINDOW,
            max_pool_stride: MAX_POOL_STRIDE,
            max_conv_kernel_width: if self.generation() >= 5 {
                MAX_CONV_KERNEL_WIDTH_M5
            } else {
                MAX_CONV_KERNEL_WIDTH_TO_M4
            },
            conv_runtime_weights: false,
            concat_inputs_reported: CONCAT_INPUTS_REPORTED,
            max_slice_width_offset: pre_a16.then_some(MAX_SLICE_WIDTH_OFFSET_PRE_A16),
            avoid_softmax_non_power_of_two: true,
            min_io_channels_reported: MIN_IO_CHANNELS_REPORTED,
            max_kernel_io_bytes: Some(DEFAULT_KERNEL_IO_BYTES),
            io_row_alignment_bytes: IO_ROW_ALIGNMENT_BYTES,
            min_io_width: MIN_IO_WIDTH,
            max_io_width: MAX_IO_WIDTH,
            io_rank_4: true,
        }
    }
}

impl ChipCaps {
    /// Checks a tensor shape against the per-axis cap; the error names the axis and the cap.
    pub fn check_shape(&self, shape: &[usize]) -> Result<(), String> {
        match shape
            .iter()
            .enumerate()
            .find(|(_, &d)| d > self.max_axis_size)
        {
            Some((axis, &d)) => Err(format!(
                "axis {axis} of shape {shape:?} has size {d}, above the {} per-axis cap of {}",
                self.family, self.max_axis_size
            )),
            None => Ok(()),
        }
    }

    /// Checks the contracted dimension of a matmul against [`ChipCaps::matmul_inner_multiple`].
    pub fn check_matmul_inner(&self, inner: usize) -> Result<(), String> {
        if inner % self.matmul_inner_multiple == 0 {
            Ok(())
        } else {
            Err(format!(
                "matmul inner dimension {inner} is not a multiple of {} (issue #47: the ANE \
                 returns silent zeros)",
                self.matmul_inner_multiple
            ))
        }
    }

    /// The same capabilities for programs printed in `dialect` (a forced dialect on a chip whose
    /// default is the other one).
    pub fn with_dialect(mut self, dialect: Dialect) -> ChipCaps {
        self.dialect = dialect;
        self
    }

    /// The same capabilities without the I/O-form rules (rank, row alignment, widths): for
    /// experiments with kernels whose buffers the hardware may refuse, such as the multi-input
    /// ABI's logical shapes. Never what a plan for a real Neural Engine should use.
    pub fn without_io_rules(mut self) -> ChipCaps {
        self.io_row_alignment_bytes = 1;
        self.min_io_width = 1;
        self.max_io_width = usize::MAX;
        self.io_rank_4 = false;
        self
    }

    /// The I/O row alignment in elements of `element_bytes` bytes (32 for fp16, 16 for fp32).
    pub fn io_row_alignment_elements(&self, element_bytes: usize) -> usize {
        (self.io_row_alignment_bytes / element_bytes.max(1)).max(1)
    }

    /// The smallest size ≥ `inner` that [`ChipCaps::check_matmul_inner`] accepts (the size to
    /// zero-pad a contraction to).
    pub fn padded_matmul_inner(&self, inner: usize) -> usize {
        inner.div_ceil(self.matmul_inner_multiple) * self.matmul_inner_multiple
    }
}
