//! How to lower a kernel: numeric precision, MIL dialect, I/O convention and the chip limits the
//! emitted MIL must respect.

/// The element type of every float tensor in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// fp16 everywhere: what the ANE runs.
    Fp16,
    /// fp32 everywhere: the exact reference on the simulator, and host kernels.
    Fp32,
}

impl Precision {
    /// The MIL float dtype.
    pub fn mil_dtype(self) -> ane_mil::DType {
        match self {
            Precision::Fp16 => ane_mil::DType::Fp16,
            Precision::Fp32 => ane_mil::DType::Fp32,
        }
    }

    /// `fp16` or `fp32`.
    pub fn name(self) -> &'static str {
        self.mil_dtype().name()
    }
}

/// How boundary tensors map to the kernel's function parameters and outputs (see `crate::abi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Abi {
    /// One input `[1, C, 1, S]` holding every boundary input packed along the spatial axis, and one
    /// output `[1, C_out, 1, S_out]` holding every boundary output concatenated along channels
    /// (ane-facts §6–7: the form proven on hardware). The default for ANE kernels.
    #[default]
    Packed,
    /// One parameter per boundary input and one output per boundary output, in their logical
    /// shapes (host kernels; an option for the ANE).
    MultiInput,
}

/// Chip limits and workarounds the lowering applies. The plan fills these from its capability
/// table; [`LoweringLimits::ane`] and [`LoweringLimits::host`] are the conservative defaults.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoweringLimits {
    /// Every axis of every tensor in the kernel must be at most this (16384 on M1–M3, 65536 on
    /// M4 and later); `None` checks nothing.
    pub max_axis_size: Option<usize>,
    /// The largest spatial offset a packed-input slice may start at (ANEForge reports width-offset
    /// slices above 4094 saturating before A16); `None` checks nothing.
    pub max_slice_begin: Option<usize>,
    /// `concat` with more inputs than this is emitted as a tree of smaller concats (ANEForge: the
    /// ANE takes exactly 2). At least 2.
    pub max_concat_inputs: usize,
    /// The contraction size of every `matmul` is zero-padded to a multiple of this (issue #47: the
    /// ANE returns silent zeros otherwise); 1 disables padding.
    pub matmul_inner_multiple: usize,
    /// Softmax over an axis whose size is not a power of two is decomposed into
    /// `exp(x − max) / Σ` (Espresso reports the fused op failing there).
    pub softmax_power_of_two_only: bool,
    /// Packed I/O rows are a multiple of this many bytes (64 on the ANE; 1: no rule).
    pub io_row_alignment_bytes: usize,
    /// Packed I/O rows hold at least this many values (1: no rule).
    pub min_io_width: usize,
    /// Packed I/O rows hold at most this many values; `None` = only the per-axis cap.
    pub max_io_width: Option<usize>,
}

impl LoweringLimits {
    /// Conservative ANE limits that hold on every chip: 16384 per axis, binary concats, matmul
    /// contraction padded to 32, softmax decomposed off powers of two.
    pub fn ane() -> Self {
        LoweringLimits {
            max_axis_size: Some(16384),
            max_slice_begin: None,
            max_concat_inputs: 2,
            matmul_inner_multiple: 32,
            softmax_power_of_two_only: true,
            io_row_alignment_bytes: ane_mil::chip::IO_ROW_ALIGNMENT_BYTES,
            min_io_width: ane_mil::chip::MIN_IO_WIDTH,
            max_io_width: Some(ane_mil::chip::MAX_IO_WIDTH),
        }
    }

    /// The subset that constrains packed layouts of `precision` ([`crate::abi::check_packing`]).
    pub fn packing(&self, precision: Precision) -> crate::abi::PackingLimits {
        let element_bytes = precision.mil_dtype().size_in_bytes().unwrap_or(2);
        crate::abi::PackingLimits {
            max_axis_size: self.max_axis_size,
            max_slice_begin: self.max_slice_begin,
            row_align: (self.io_row_alignment_bytes / element_bytes).max(1),
            min_width: self.min_io_width.max(1),
            max_width: self.max_io_width,
        }
    }

    /// No limits: host kernels on the simulator or the CPU.
    pub fn host() -> Self {
        LoweringLimits {
            max_axis_size: None,
            max_slice_begin: None,
            max_concat_inputs: usize::MAX,
            matmul_inner_multiple: 1,
            softmax_power_of_two_only: false,
            io_row_alignment_bytes: 1,
            min_io_width: 1,
            max_io_width: None,
        }
    }
}

/// Everything [`lower_kernel`](super::lower_kernel) needs besides the spec.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LowerOptions {
    /// fp16 (ANE) or fp32 (reference / host).
    pub precision: Precision,
    /// The MIL text dialect of the target chip.
    pub dialect: ane_mil::Dialect,
    /// The I/O convention.
    pub abi: Abi,
    /// Chip limits and workarounds.
    pub limits: LoweringLimits,
}

impl LowerOptions {
    /// An ANE kernel: fp16, packed I/O, conservative ANE limits.
    pub fn ane(dialect: ane_mil::Dialect) -> Self {
        LowerOptions {
            precision: Precision::Fp16,
            dialect,
            abi: Abi::Packed,
            limits: LoweringLimits::ane(),
        }
    }

    /// A host kernel: fp32, one parameter per input, no limits, `ios18` dialect.
    pub fn host() -> Self {
        LowerOptions {
            precision: Precision::Fp32,
            dialect: ane_mil::Dialect::Ios18,
            abi: Abi::MultiInput,
            limits: LoweringLimits::host(),
        }
    }

    /// Integer tensors (ids, labels) and the ops that need them exist only in fp32 kernels with
    /// one parameter per input: they never reach the ANE.
    pub fn allows_integer_tensors(&self) -> bool {
        self.precision == Precision::Fp32 && self.abi == Abi::MultiInput
    }

    /// A short description for messages (`fp16 packed`).
    pub fn target_name(&self) -> String {
        let abi = match self.abi {
            Abi::Packed => "packed",
            Abi::MultiInput => "multi-input",
        };
        format!("{} {abi}", self.precision.name())
    }
}
