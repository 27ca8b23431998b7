//! Parameter structs and enums of the typed builder helpers.

use super::error::BuildError;
use super::function::{Arg, Var};

/// Padding of conv and pooling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PadSpec {
    /// No padding.
    Valid,
    /// Output `ceil(D / stride)`, extra padding after.
    Same,
    /// As `Same`, extra padding before (not in ios15).
    SameLower,
    /// Explicit `[before_0, after_0, before_1, after_1, …]` per spatial dim.
    Custom(Vec<usize>),
}

impl PadSpec {
    /// The `pad_type` string.
    pub fn pad_type(&self) -> &'static str {
        match self {
            PadSpec::Valid => "valid",
            PadSpec::Same => "same",
            PadSpec::SameLower => "same_lower",
            PadSpec::Custom(_) => "custom",
        }
    }
}

/// Parameters of `conv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvParams {
    /// Stride per spatial dim.
    pub strides: Vec<usize>,
    /// Padding.
    pub pad: PadSpec,
    /// Dilation per spatial dim.
    pub dilations: Vec<usize>,
    /// Channel groups.
    pub groups: usize,
    /// Optional bias `[C_out]`.
    pub bias: Option<Var>,
}

impl ConvParams {
    /// Unit strides and dilations over `spatial_dims` dims, valid padding, one group, no bias.
    pub fn new(spatial_dims: usize) -> Self {
        ConvParams {
            strides: vec![1; spatial_dims],
            pad: PadSpec::Valid,
            dilations: vec![1; spatial_dims],
            groups: 1,
            bias: None,
        }
    }
}

/// Parameters of `conv_transpose`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvTransposeParams {
    /// Stride per spatial dim.
    pub strides: Vec<usize>,
    /// Padding (`SameLower` is not supported by the op).
    pub pad: PadSpec,
    /// Dilation per spatial dim.
    pub dilations: Vec<usize>,
    /// Channel groups.
    pub groups: usize,
    /// Optional bias `[C_out]`.
    pub bias: Option<Var>,
    /// The full output shape, when the default size is not the one wanted.
    pub output_shape: Option<Vec<usize>>,
}

impl ConvTransposeParams {
    /// Unit strides and dilations over `spatial_dims` dims, valid padding, one group.
    pub fn new(spatial_dims: usize) -> Self {
        ConvTransposeParams {
            strides: vec![1; spatial_dims],
            pad: PadSpec::Valid,
            dilations: vec![1; spatial_dims],
            groups: 1,
            bias: None,
            output_shape: None,
        }
    }
}

/// Parameters of `max_pool` and `avg_pool`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolParams {
    /// Window size per spatial dim.
    pub kernel_sizes: Vec<usize>,
    /// Stride per spatial dim.
    pub strides: Vec<usize>,
    /// Padding.
    pub pad: PadSpec,
    /// Ceil instead of floor output sizes.
    pub ceil_mode: bool,
}

/// Bounds of `slice_by_index`; `None` fields take the op's defaults (unit strides, no masks).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SliceByIndex {
    /// Start per dim.
    pub begin: Vec<i32>,
    /// End (exclusive) per dim.
    pub end: Vec<i32>,
    /// Step per dim.
    pub stride: Option<Vec<i32>>,
    /// Ignore `begin` for these dims.
    pub begin_mask: Option<Vec<bool>>,
    /// Ignore `end` for these dims.
    pub end_mask: Option<Vec<bool>>,
    /// Take the single element at `begin` and drop the dim.
    pub squeeze_mask: Option<Vec<bool>>,
}

/// How `split` divides its axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    /// Into this many equal parts.
    Count(usize),
    /// Into parts of these sizes.
    Sizes(Vec<usize>),
}

/// `gelu`'s formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeluMode {
    /// `0.5·x·(1 + erf(x/√2))`.
    Exact,
    /// The tanh approximation.
    TanhApproximation,
    /// `x·sigmoid(1.702·x)`.
    SigmoidApproximation,
}

impl GeluMode {
    /// The `mode` string.
    pub fn name(self) -> &'static str {
        match self {
            GeluMode::Exact => "EXACT",
            GeluMode::TanhApproximation => "TANH_APPROXIMATION",
            GeluMode::SigmoidApproximation => "SIGMOID_APPROXIMATION",
        }
    }
}

/// `pad`'s mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadMode {
    /// Fill with `constant_val`.
    Constant,
    /// Mirror without repeating the edge.
    Reflect,
    /// Repeat the edge.
    Replicate,
}

impl PadMode {
    /// The `mode` string.
    pub fn name(self) -> &'static str {
        match self {
            PadMode::Constant => "constant",
            PadMode::Reflect => "reflect",
            PadMode::Replicate => "replicate",
        }
    }
}

/// How `scatter_along_axis` combines updates with the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScatterMode {
    /// Overwrite.
    Update,
    /// Add.
    Add,
    /// Subtract.
    Sub,
    /// Multiply.
    Mul,
    /// Divide.
    Div,
    /// Maximum.
    Max,
    /// Minimum.
    Min,
}

impl ScatterMode {
    /// The `mode` string.
    pub fn name(self) -> &'static str {
        match self {
            ScatterMode::Update => "update",
            ScatterMode::Add => "add",
            ScatterMode::Sub => "sub",
            ScatterMode::Mul => "mul",
            ScatterMode::Div => "div",
            ScatterMode::Max => "max",
            ScatterMode::Min => "min",
        }
    }
}

/// Sizes as an `int32` vector argument.
pub(super) fn sizes(what: &str, values: &[usize]) -> Result<Arg, BuildError> {
    let ints = values
        .iter()
        .map(|&v| {
            i32::try_from(v).map_err(|_| BuildError::OutOfRange {
                what: what.to_string(),
                value: v as i128,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arg::ints(&ints))
}

/// A size as an `int32` scalar argument.
pub(super) fn size(what: &str, value: usize) -> Result<Arg, BuildError> {
    i32::try_from(value)
        .map(Arg::int)
        .map_err(|_| BuildError::OutOfRange {
            what: what.to_string(),
            value: value as i128,
        })
}
