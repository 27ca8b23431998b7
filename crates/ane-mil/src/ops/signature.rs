//! The data model of an op signature: which arguments an op takes in one opset revision, their
//! dtypes (with shared domain letters), ranks, const-ness and defaults, and the shape rule that
//! computes the op's output types.
//!
//! The tables themselves live in `ops::defs`; this module only defines what a row looks like and how
//! a default value is turned into a concrete literal for a given set of arguments.

use crate::dtype::DType;
use crate::ops::context::InferCtx;
use crate::ops::error::InferError;
use crate::ops::resolved::{ResolvedInput, ResolvedInputs};
use crate::program::Opset;
use crate::types::TensorType;
use crate::value::{TensorData, TensorValue};
use half::f16;

/// The dtypes an argument accepts, and the domain letter it shares with other arguments.
///
/// All arguments of one op that carry the same letter must have the identical dtype (coremltools'
/// `type_domain="T"`); arguments without a letter are constrained only by `allowed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DTypeDomain {
    /// The shared domain letter (`"T"`, `"U"`, `"SrcT"`, …), if any.
    pub letter: Option<&'static str>,
    /// The dtypes accepted.
    pub allowed: &'static [DType],
}

impl DTypeDomain {
    /// A domain shared by every argument that uses `letter`.
    pub const fn shared(letter: &'static str, allowed: &'static [DType]) -> Self {
        DTypeDomain {
            letter: Some(letter),
            allowed,
        }
    }

    /// A fixed set of dtypes, independent of other arguments.
    pub const fn any_of(allowed: &'static [DType]) -> Self {
        DTypeDomain {
            letter: None,
            allowed,
        }
    }

    /// Whether `dtype` is accepted.
    pub fn accepts(&self, dtype: DType) -> bool {
        self.allowed.contains(&dtype)
    }
}

/// The rank an argument must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankSpec {
    /// Any rank, including scalars.
    Any,
    /// A rank-0 scalar.
    Scalar,
    /// A rank-1 tensor.
    Vector,
    /// A scalar or a rank-1 tensor.
    ScalarOrVector,
}

impl RankSpec {
    /// Whether a tensor of `rank` satisfies this spec.
    pub fn accepts(self, rank: usize) -> bool {
        match self {
            RankSpec::Any => true,
            RankSpec::Scalar => rank == 0,
            RankSpec::Vector => rank == 1,
            RankSpec::ScalarOrVector => rank <= 1,
        }
    }

    /// A phrase for error messages ("a scalar", "a rank-1 tensor", …).
    pub fn describe(self) -> &'static str {
        match self {
            RankSpec::Any => "a tensor",
            RankSpec::Scalar => "a scalar",
            RankSpec::Vector => "a rank-1 tensor",
            RankSpec::ScalarOrVector => "a scalar or a rank-1 tensor",
        }
    }
}

/// The default of an optional argument, stored as data.
///
/// Some defaults depend on the other arguments (the rank of the primary input, the dtype of the
/// domain); [`InputSpec::default_value`] resolves them. The *primary input* is the op's first input
/// (`x` for most ops).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    /// A `bool` scalar.
    Bool(bool),
    /// An `int32` scalar.
    Int(i32),
    /// A `string` scalar.
    Str(&'static str),
    /// A numeric scalar in the dtype its domain resolves to (see [`InputSpec::default_dtype`]):
    /// epsilons in the dtype of `x`, `pad`'s `constant_val` in `x`'s dtype, `one_hot`'s values in
    /// `int32` unless the other value fixes the dtype.
    Number(f64),
    /// `[v; S]` where `S = rank(primary) - 2` is the number of spatial dims (conv/pool strides).
    IntPerSpatialDim(i32),
    /// `[v; 2·S]` (conv/pool `pad`).
    IntPerPadSide(i32),
    /// `[v; rank(primary)]` in the domain's dtype (slice `stride`).
    IntPerDim(i32),
    /// `[v; rank(primary)]` of `bool` (slice masks).
    BoolPerDim(bool),
    /// `[0, 1, …, rank(primary) - 1]` (`layer_norm` and reduction `axes`).
    AllAxes,
    /// A zero vector whose length is dim `dim` of argument `input`, in the domain's dtype
    /// (`linear`'s bias: `[weight.shape[0]]`).
    ZerosLikeDim {
        /// The argument whose dim gives the length.
        input: &'static str,
        /// Which dim of it.
        dim: usize,
    },
}

/// Whether an argument must be given, and what happens when it is not.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Presence {
    /// Must be present.
    Required,
    /// Optional with a default value: the builder always emits it, and an interpreter fills it in
    /// when a parsed program leaves it out.
    Default(DefaultValue),
    /// Optional with no value to emit (coremltools' `None` defaults); `when_absent` says what the
    /// op does without it.
    Omittable {
        /// The meaning of leaving the argument out.
        when_absent: &'static str,
    },
}

/// One argument slot of an op.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputSpec {
    /// The argument name (`x`, `weight`, …).
    pub name: &'static str,
    /// Required, defaulted or omittable.
    pub presence: Presence,
    /// Must be a compile-time constant (see `ops::resolved::Constness`).
    pub must_be_const: bool,
    /// Takes a tuple of values (`concat`'s `values`).
    pub variadic: bool,
    /// Accepted dtypes and domain letter.
    pub dtypes: DTypeDomain,
    /// Accepted rank.
    pub rank: RankSpec,
}

impl InputSpec {
    /// A required argument of any rank.
    pub const fn required(name: &'static str, dtypes: DTypeDomain) -> Self {
        InputSpec {
            name,
            presence: Presence::Required,
            must_be_const: false,
            variadic: false,
            dtypes,
            rank: RankSpec::Any,
        }
    }

    /// An optional argument with a default value.
    pub const fn optional(name: &'static str, dtypes: DTypeDomain, default: DefaultValue) -> Self {
        InputSpec {
            presence: Presence::Default(default),
            ..InputSpec::required(name, dtypes)
        }
    }

    /// An optional argument without a default; `when_absent` documents the op's behaviour.
    pub const fn omittable(
        name: &'static str,
        dtypes: DTypeDomain,
        when_absent: &'static str,
    ) -> Self {
        InputSpec {
            presence: Presence::Omittable { when_absent },
            ..InputSpec::required(name, dtypes)
        }
    }

    /// Marks the argument as compile-time constant.
    pub const fn constant(self) -> Self {
        InputSpec {
            must_be_const: true,
            ..self
        }
    }

    /// Requires a scalar.
    pub const fn scalar(self) -> Self {
        InputSpec {
            rank: RankSpec::Scalar,
            ..self
        }
    }

    /// Requires a rank-1 tensor.
    pub const fn vector(self) -> Self {
        InputSpec {
            rank: RankSpec::Vector,
            ..self
        }
    }

    /// Requires a scalar or a rank-1 tensor.
    pub const fn scalar_or_vector(self) -> Self {
        InputSpec {
            rank: RankSpec::ScalarOrVector,
            ..self
        }
    }

    /// Makes the argument a tuple of values.
    pub const fn variadic(self) -> Self {
        InputSpec {
            variadic: true,
            ..self
        }
    }

    /// True when the argument must be present.
    pub fn is_required(&self) -> bool {
        matches!(self.presence, Presence::Required)
    }

    /// The default, if the argument has one.
    pub fn default(&self) -> Option<DefaultValue> {
        match self.presence {
            Presence::Default(d) => Some(d),
            _ => None,
        }
    }

    /// The dtype a default (or a domain-typed literal) of this argument takes, given the other
    /// arguments: the dtype of a present argument sharing this argument's letter; else the dtype
    /// of the primary input if this domain accepts it; else the domain's first dtype.
    pub fn default_dtype(&self, sig: &OpSignature, inputs: &ResolvedInputs<'_>) -> DType {
        if let Some(letter) = self.dtypes.letter {
            for peer in &sig.inputs {
                if peer.name == self.name || peer.dtypes.letter != Some(letter) {
                    continue;
                }
                if let Some(dtype) = inputs.get(peer.name).and_then(ResolvedInput::dtype) {
                    if self.dtypes.accepts(dtype) {
                        return dtype;
                    }
                }
            }
        }
        if let Some(primary) = sig.primary_type(inputs) {
            if self.dtypes.accepts(primary.dtype) {
                return primary.dtype;
            }
        }
        self.dtypes.allowed.first().copied().unwrap_or(DType::Fp32)
    }

    /// The concrete default literal for this argument given the other arguments, or `None` when the
    /// argument has no default or the default cannot be computed (its primary input is missing,
    /// or it would exceed [`MAX_DEFAULT_ELEMENTS`]).
    pub fn default_value(
        &self,
        sig: &OpSignature,
        inputs: &ResolvedInputs<'_>,
    ) -> Option<TensorValue> {
        let default = self.default()?;
        let spatial = || sig.primary_type(inputs)?.rank().checked_sub(2);
        let rank = || sig.primary_type(inputs).map(TensorType::rank);
        let dtype = || self.default_dtype(sig, inputs);
        Some(match default {
            DefaultValue::Bool(b) => TensorValue::bool(b),
            DefaultValue::Int(i) => TensorValue::int32(i),
            DefaultValue::Str(s) => TensorValue::string(s),
            DefaultValue::Number(v) => number_literal(dtype(), &[], &[v])?,
            DefaultValue::IntPerSpatialDim(v) => TensorValue::int32_vec(&vec![v; spatial()?]),
            DefaultValue::IntPerPadSide(v) => TensorValue::int32_vec(&vec![v; 2 * spatial()?]),
            DefaultValue::IntPerDim(v) => {
                let n = rank()?;
                number_literal(dtype(), &[n], &vec![f64::from(v); n])?
            }
            DefaultValue::BoolPerDim(b) => TensorValue::bool_vec(&vec![b; rank()?]),
            DefaultValue::AllAxes => {
                let axes: Vec<i32> = (0..rank()?).filter_map(|a| i32::try_from(a).ok()).collect();
                TensorValue::int32_vec(&axes)
            }
            DefaultValue::ZerosLikeDim { input, dim } => {
                let ty = inputs.get(input).and_then(ResolvedInput::single)?;
                let n = ty
                    .ty
                    .shape
                    .get(dim)?
                    .known()
                    .filter(|&n| n <= MAX_DEFAULT_ELEMENTS)?;
                number_literal(dtype(), &[n], &vec![0.0; n])?
            }
        })
    }
}

/// The largest default literal materialized (a guard against absurd declared shapes; real
/// defaults are a handful of elements, `linear`'s bias at most a vocabulary size).
pub const MAX_DEFAULT_ELEMENTS: usize = 1 << 24;

/// Builds a numeric literal of `dtype` and `shape` from `f64` values (ints truncate, bools are
/// `v != 0`); `None` for `string` or a length that does not match the shape.
pub fn number_literal(dtype: DType, shape: &[usize], values: &[f64]) -> Option<TensorValue> {
    let ty = TensorType::new(dtype, shape.iter().copied());
    if ty.num_elements()? != values.len() {
        return None;
    }
    let data = match dtype {
        // Go through f32 first, as coremltools does (an fp32 constant cast to fp16).
        DType::Fp16 => TensorData::Fp16(values.iter().map(|&v| f16::from_f32(v as f32)).collect()),
        DType::Fp32 => TensorData::Fp32(values.iter().map(|&v| v as f32).collect()),
        DType::Uint64 => TensorData::UInt64(values.iter().map(|&v| v as u64).collect()),
        DType::Bool => TensorData::Bool(values.iter().map(|&v| v != 0.0).collect()),
        DType::String => return None,
        _ => TensorData::Int(values.iter().map(|&v| v as i64).collect()),
    };
    Some(TensorValue { ty, data })
}

/// How an op's operands are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperandForm {
    /// As named inputs in parentheses (every ordinary op).
    Inputs,
    /// As bracketed attributes next to `name` (`const`'s `val`).
    Attributes,
    /// Either way: `constexpr_*` ops use attributes up to iOS17 and inputs from iOS18; ane-trainer
    /// accepts both in every opset and the builder writes attributes (the form proven on the ANE).
    InputsOrAttributes,
}

/// How many outputs an op has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputCount {
    /// Exactly one.
    One,
    /// Decided by the arguments (`split`).
    FromArguments,
}

/// Computes an op's output types from its (already signature-checked) arguments.
pub type ShapeRule = fn(&InferCtx<'_, '_>) -> Result<Vec<TensorType>, InferError>;

/// One revision of an op: the arguments it takes from opset `since` on, and its shape rule.
#[derive(Debug, Clone)]
pub struct OpSignature {
    /// The op type as written in MIL (`conv`).
    pub op_type: &'static str,
    /// The first opset this revision applies to; it applies until a later revision of the same op.
    pub since: Opset,
    /// The argument slots, primary input first.
    pub inputs: Vec<InputSpec>,
    /// How operands are written.
    pub operand_form: OperandForm,
    /// How many outputs the op has.
    pub outputs: OutputCount,
    pub(crate) rule: ShapeRule,
}

impl OpSignature {
    /// A single-output op whose operands are inputs.
    pub fn new(
        op_type: &'static str,
        since: Opset,
        inputs: Vec<InputSpec>,
        rule: ShapeRule,
    ) -> Self {
        OpSignature {
            op_type,
            since,
            inputs,
            operand_form: OperandForm::Inputs,
            outputs: OutputCount::One,
            rule,
        }
    }

    /// Sets how operands are written.
    pub fn with_operand_form(mut self, form: OperandForm) -> Self {
        self.operand_form = form;
        self
    }

    /// Marks the op as having an argument-dependent number of outputs.
    pub fn with_outputs(mut self, outputs: OutputCount) -> Self {
        self.outputs = outputs;
        self
    }

    /// The spec of argument `name`.
    pub fn input(&self, name: &str) -> Option<&InputSpec> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// The type of the primary (first) input if present (the first element for a tuple).
    pub fn primary_type<'i>(&self, inputs: &'i ResolvedInputs<'_>) -> Option<&'i TensorType> {
        let first = self.inputs.first()?;
        match inputs.get(first.name)? {
            ResolvedInput::Single(a) => Some(&a.ty),
            ResolvedInput::Tuple(items) => items.first().map(|a| &a.ty),
        }
    }

    /// The default literal of every defaulted argument absent from `inputs`, in signature order:
    /// what the builder emits and what an interpreter fills in for a parsed program that leaves
    /// them out. Omittable arguments (no default) are not listed.
    pub fn missing_defaults(
        &self,
        inputs: &ResolvedInputs<'_>,
    ) -> Vec<(&'static str, TensorValue)> {
        self.inputs
            .iter()
            .filter(|spec| !inputs.contains(spec.name))
            .filter_map(|spec| Some((spec.name, spec.default_value(self, inputs)?)))
            .collect()
    }

    /// Every signature problem with these arguments (unknown or missing arguments, dtypes, ranks,
    /// const-ness), in argument order; empty when the arguments fit the signature.
    pub fn check(&self, inputs: &ResolvedInputs<'_>) -> Vec<InferError> {
        crate::ops::check::check_arguments(self, inputs)
    }

    /// Checks the arguments and computes the output types.
    pub fn infer(
        &self,
        opset: Opset,
        inputs: &ResolvedInputs<'_>,
    ) -> Result<Vec<TensorType>, InferError> {
        if let Some(first) = self.check(inputs).into_iter().next() {
            return Err(first);
        }
        self.apply_rule(opset, inputs)
    }

    /// Runs the shape rule alone; callers must have checked the arguments first.
    pub(crate) fn apply_rule(
        &self,
        opset: Opset,
        inputs: &ResolvedInputs<'_>,
    ) -> Result<Vec<TensorType>, InferError> {
        let ctx = InferCtx {
            sig: self,
            opset,
            inputs,
        };
        (self.rule)(&ctx)
    }
}
