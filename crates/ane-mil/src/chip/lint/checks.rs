//! The checks themselves: the function's inputs and outputs, then each operation against the op
//! set and the per-op rules of the capability table.

use super::scope::{is_const_op, Scope};
use super::LintError;
use crate::chip::caps::ChipCaps;
use crate::chip::rules::{ane_op_support, Rule, Tier};
use crate::dtype::DType;
use crate::program::{Argument, Function, Operation};
use crate::types::{TensorType, ValueType};

/// How far `rsqrt-after-reduce` looks back through elementwise ops with a constant operand.
const REDUCE_LOOKBACK: usize = 8;

/// Lints one function, appending findings to `out`.
pub(super) fn check_function(function: &Function, caps: &ChipCaps, out: &mut Vec<LintError>) {
    let mut cx = Cx {
        function,
        caps,
        scope: Scope::new(function),
        out,
    };
    cx.check_io();
    for op in &function.body {
        cx.check_op(op);
    }
}

struct Cx<'f, 'o> {
    function: &'f Function,
    caps: &'f ChipCaps,
    scope: Scope<'f>,
    out: &'o mut Vec<LintError>,
}

impl<'f> Cx<'f, '_> {
    fn push(&mut self, rule: Rule, op: Option<&Operation>, tensor: Option<&str>, message: String) {
        self.out.push(LintError {
            rule,
            function: self.function.name.clone(),
            op: op.map(describe_op),
            tensor: tensor.map(str::to_string),
            message,
        });
    }

    fn check_io(&mut self) {
        let function = self.function;
        let mut input_bytes = Vec::new();
        for p in &function.params {
            let ValueType::Tensor(t) = &p.ty else {
                continue;
            };
            self.check_axes(None, &p.name, t);
            if is_runtime_integer(t.dtype) {
                self.push(
                    Rule::IntegerTensor,
                    None,
                    Some(&p.name),
                    format!(
                        "kernel input of type {t}: the ANE computes in fp16; integer inputs \
                         (ids, labels) belong to host ops"
                    ),
                );
            }
            self.check_io_channels(&p.name, t, "input");
            self.check_io_form(&p.name, t, "input");
            input_bytes.push(byte_size(t));
        }
        let mut output_bytes = Vec::new();
        for name in &function.outputs {
            if let Some(t) = self.scope.type_of(name) {
                self.check_io_channels(name, t, "output");
                self.check_io_form(name, t, "output");
                output_bytes.push(byte_size(t));
            }
        }
        if let Some(limit) = self.caps.max_kernel_io_bytes {
            let inputs: usize = input_bytes.iter().sum();
            let outputs: usize = output_bytes.iter().sum();
            if inputs + outputs > limit {
                self.push(
                    Rule::KernelIoBytes,
                    None,
                    None,
                    format!(
                        "the kernel's inputs ({inputs} bytes) and outputs ({outputs} bytes) take \
                         {} bytes, above the budget of {limit}",
                        inputs + outputs
                    ),
                );
            }
        }
        if !strictly(&input_bytes, |a, b| a < b) {
            self.push(
                Rule::MultiInputOrder,
                None,
                None,
                format!(
                    "{} inputs with byte sizes {input_bytes:?}, not strictly ascending",
                    input_bytes.len()
                ),
            );
        }
        if !strictly(&output_bytes, |a, b| a > b) {
            self.push(
                Rule::MultiInputOrder,
                None,
                None,
                format!(
                    "{} outputs with byte sizes {output_bytes:?}, not strictly descending",
                    output_bytes.len()
                ),
            );
        }
    }

    fn check_io_channels(&mut self, name: &str, t: &TensorType, what: &str) {
        let min = self.caps.min_io_channels_reported;
        if let (4, Some(channels)) = (t.rank(), t.shape.get(1).and_then(|d| d.known())) {
            if channels < min {
                self.push(
                    Rule::MinIoChannels,
                    None,
                    Some(name),
                    format!("kernel {what} of type {t} has {channels} channels (< {min})"),
                );
            }
        }
    }

    /// The I/O tensor rules: rank 4 with a leading 1, rows a multiple of the alignment, widths
    /// within the chip's bounds.
    fn check_io_form(&mut self, name: &str, t: &TensorType, what: &str) {
        let leading_one = t.shape.first().and_then(|d| d.known()) == Some(1);
        if self.caps.io_rank_4 && (t.rank() != 4 || !leading_one) {
            self.push(
                Rule::IoRank,
                None,
                Some(name),
                format!("kernel {what} of type {t} is not a rank-4 [1, C, H, W] tensor"),
            );
        }
        let (Some(width), Some(element_bytes)) = (
            t.shape.last().and_then(|d| d.known()),
            t.dtype.size_in_bytes(),
        ) else {
            return;
        };
        let row_bytes = width * element_bytes;
        let align = self.caps.io_row_alignment_bytes;
        if row_bytes % align != 0 {
            self.push(
                Rule::IoRowAlignment,
                None,
                Some(name),
                format!(
                    "kernel {what} of type {t} has rows of {width} values ({row_bytes} bytes), not \
                     a multiple of {align} bytes ({} values)",
                    align / element_bytes.max(1)
                ),
            );
        }
        let (min_width, max_width) = (self.caps.min_io_width, self.caps.max_io_width);
        if width < min_width || width > max_width {
            self.push(
                Rule::IoWidth,
                None,
                Some(name),
                format!(
                    "kernel {what} of type {t} has rows of {width} values; rows must hold \
                     {min_width} to {max_width} values"
                ),
            );
        }
    }

    /// The tensor forms no working trainer used: reported, never rejected.
    fn check_forms(&mut self, op: &'f Operation) {
        for out in &op.outputs {
            let ValueType::Tensor(t) = &out.ty else {
                continue;
            };
            if t.dtype == DType::Bool {
                self.push(
                    Rule::UnprovenForm,
                    Some(op),
                    Some(&out.name),
                    format!("bool tensor {t}"),
                );
            } else if t.rank() != 4 || t.shape.first().and_then(|d| d.known()) != Some(1) {
                self.push(
                    Rule::UnprovenForm,
                    Some(op),
                    Some(&out.name),
                    format!("tensor {t} is not rank-4 [1, C, H, W]"),
                );
            }
        }
        if op.op_type == "transpose" {
            if let Some(perm) = self.const_ints(op, "perm").filter(|p| p != &[0, 1, 3, 2]) {
                self.push(
                    Rule::UnprovenForm,
                    Some(op),
                    None,
                    format!("transpose with perm {perm:?} (only [0, 1, 3, 2] is proven)"),
                );
            }
        }
    }

    fn check_axes(&mut self, op: Option<&Operation>, name: &str, t: &TensorType) {
        for (axis, dim) in t.shape.iter().enumerate() {
            if let Some(size) = dim.known().filter(|&d| d > self.caps.max_axis_size) {
                self.push(
                    Rule::AxisSize,
                    op,
                    Some(name),
                    format!(
                        "axis {axis} of {t} has size {size}, above the {} per-axis cap of {}",
                        self.caps.family, self.caps.max_axis_size
                    ),
                );
            }
        }
    }

    fn check_op(&mut self, op: &'f Operation) {
        for out in &op.outputs {
            if let ValueType::Tensor(t) = &out.ty {
                self.check_axes(Some(op), &out.name, t);
            }
        }
        if is_const_op(op) {
            return;
        }
        match ane_op_support(&op.op_type, self.caps) {
            Err((rule, message)) => {
                self.push(rule, Some(op), None, message);
                return;
            }
            Ok(support) if support.tier() == Tier::Unproven => self.push(
                Rule::UnprovenOp,
                Some(op),
                None,
                format!(
                    "`{}` has run in no trainer's ANE kernel ({})",
                    op.op_type, support.source
                ),
            ),
            Ok(_) => {}
        }
        self.check_forms(op);
        for out in &op.outputs {
            if let ValueType::Tensor(t) = &out.ty {
                if is_runtime_integer(t.dtype) {
                    self.push(
                        Rule::IntegerTensor,
                        Some(op),
                        Some(&out.name),
                        format!("computes an integer tensor {t}; the ANE computes in fp16"),
                    );
                }
            }
        }
        match op.op_type.as_str() {
            "matmul" => self.check_matmul(op),
            "linear" => self.check_linear(op),
            "conv" | "conv_transpose" => self.check_conv(op),
            "max_pool" | "avg_pool" => self.check_pool(op),
            "rsqrt" | "sqrt" => self.check_root_of_reduce(op),
            "mul" => self.check_mul_zero(op),
            "scaled_dot_product_attention" => self.check_sdpa(op),
            "concat" => self.check_concat(op),
            "softmax" => self.check_softmax(op),
            "slice_by_size" | "slice_by_index" => self.check_slice(op),
            _ => {}
        }
    }

    fn input(&self, op: &'f Operation, name: &str) -> Option<&'f Argument> {
        op.inputs.get(name)
    }

    fn const_bool(&self, op: &'f Operation, name: &str) -> bool {
        self.scope
            .const_value(self.input(op, name))
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    fn const_ints(&self, op: &'f Operation, name: &str) -> Option<Vec<i64>> {
        self.scope
            .const_value(self.input(op, name))
            .and_then(|v| v.as_ints())
    }

    fn check_inner(&mut self, op: &'f Operation, inner: Option<usize>) {
        if let Some(inner) = inner {
            if let Err(message) = self.caps.check_matmul_inner(inner) {
                let x = Scope::arg_name(self.input(op, "x")).map(str::to_string);
                self.push(Rule::MatmulInnerDim, Some(op), x.as_deref(), message);
            }
        }
    }

    fn check_matmul(&mut self, op: &'f Operation) {
        let Some(x) = self.scope.arg_type(self.input(op, "x")) else {
            return;
        };
        let transpose_x = self.const_bool(op, "transpose_x");
        let rank = x.rank();
        let inner = match (rank, transpose_x) {
            (0, _) => None,
            (1, _) => x.shape[0].known(),
            (_, false) => x.shape[rank - 1].known(),
            (_, true) => x.shape[rank - 2].known(),
        };
        self.check_inner(op, inner);
    }

    fn check_linear(&mut self, op: &'f Operation) {
        let inner = self
            .scope
            .arg_type(self.input(op, "x"))
            .and_then(|x| x.shape.last().and_then(|d| d.known()));
        self.check_inner(op, inner);
    }

    fn check_conv(&mut self, op: &'f Operation) {
        let weight = self.input(op, "weight");
        let weight_name = Scope::arg_name(weight).map(str::to_string);
        if !self.caps.conv_runtime_weights && !self.scope.is_const(weight) {
            self.push(
                Rule::ConvRuntimeWeight,
                Some(op),
                weight_name.as_deref(),
                "the weight is computed at run time; the ANE needs constant conv weights \
                 (lower trainable convolutions via im2col + matmul)"
                    .to_string(),
            );
        }
        let width = self
            .scope
            .arg_type(weight)
            .filter(|w| w.rank() >= 3)
            .and_then(|w| w.shape.last().and_then(|d| d.known()));
        let max = self.caps.max_conv_kernel_width;
        if let Some(width) = width.filter(|&w| w > max) {
            self.push(
                Rule::ConvKernelWidth,
                Some(op),
                weight_name.as_deref(),
                format!(
                    "kernel width {width} is above the {} limit of {max}",
                    self.caps.family
                ),
            );
        }
    }

    fn check_pool(&mut self, op: &'f Operation) {
        let max_window = self.caps.max_pool_window;
        if let Some(window) = self.const_ints(op, "kernel_sizes") {
            if let Some(&k) = window.iter().find(|&&k| k > max_window as i64) {
                self.push(
                    Rule::PoolWindow,
                    Some(op),
                    None,
                    format!("pooling window {window:?} has a side of {k}, above {max_window}"),
                );
            }
        }
        let max_stride = self.caps.max_pool_stride;
        if let Some(strides) = self.const_ints(op, "strides") {
            if let Some(&s) = strides.iter().find(|&&s| s > max_stride as i64) {
                self.push(
                    Rule::PoolStride,
                    Some(op),
                    None,
                    format!("pooling strides {strides:?} include {s}, above {max_stride}"),
                );
            }
        }
    }

    /// Whether `arg` is a reduction, possibly followed by elementwise ops with a constant
    /// operand (`reduce_sum · 1/N + eps`).
    fn follows_reduce(&self, arg: Option<&'f Argument>, depth: usize) -> bool {
        let Some(op) = Scope::arg_name(arg).and_then(|n| self.scope.producer(n)) else {
            return false;
        };
        if op.op_type.starts_with("reduce_") {
            return true;
        }
        if depth == 0 || !matches!(op.op_type.as_str(), "add" | "sub" | "mul" | "real_div") {
            return false;
        }
        let (x, y) = (op.inputs.get("x"), op.inputs.get("y"));
        match (self.scope.is_const(x), self.scope.is_const(y)) {
            (false, true) => self.follows_reduce(x, depth - 1),
            (true, false) => self.follows_reduce(y, depth - 1),
            _ => false,
        }
    }

    fn check_root_of_reduce(&mut self, op: &'f Operation) {
        let x = self.input(op, "x");
        if self.follows_reduce(x, REDUCE_LOOKBACK) {
            let name = Scope::arg_name(x).map(str::to_string);
            self.push(
                Rule::RsqrtAfterReduce,
                Some(op),
                name.as_deref(),
                format!(
                    "`{}` of a reduction fails to compile; write pow(x, -0.5) instead",
                    op.op_type
                ),
            );
        }
    }

    fn check_mul_zero(&mut self, op: &'f Operation) {
        for (zero, other) in [("y", "x"), ("x", "y")] {
            let is_zero = self
                .scope
                .const_value(self.input(op, zero))
                .and_then(|v| v.as_f32s())
                .is_some_and(|v| !v.is_empty() && v.iter().all(|&e| e == 0.0));
            if is_zero && self.follows_reduce(self.input(op, other), 0) {
                self.push(
                    Rule::MulZeroAfterReduce,
                    Some(op),
                    None,
                    "multiplying a reduction by the constant 0 fails to compile".to_string(),
                );
                return;
            }
        }
    }

    fn check_sdpa(&mut self, op: &'f Operation) {
        if op.inputs.contains_key("attn_mask") {
            self.push(
                Rule::SdpaMask,
                Some(op),
                Scope::arg_name(self.input(op, "attn_mask")),
                "the ANE ignores `attn_mask`; decompose attention into matmul + mask add + \
                 softmax + matmul"
                    .to_string(),
            );
        }
    }

    fn check_concat(&mut self, op: &'f Operation) {
        let limit = self.caps.concat_inputs_reported;
        if let Some(Argument::Tuple(values)) = self.input(op, "values") {
            if values.len() > limit {
                let n = values.len();
                self.push(
                    Rule::ConcatArity,
                    Some(op),
                    None,
                    format!("concatenates {n} values; ANEForge reports at most {limit}"),
                );
            }
        }
    }

    fn check_softmax(&mut self, op: &'f Operation) {
        let Some(x) = self.scope.arg_type(self.input(op, "x")) else {
            return;
        };
        let axis = self
            .scope
            .const_value(self.input(op, "axis"))
            .and_then(|v| v.as_int())
            .unwrap_or(-1);
        let rank = x.rank() as i64;
        let axis = if axis < 0 { axis + rank } else { axis };
        let Some(size) = usize::try_from(axis)
            .ok()
            .and_then(|a| x.shape.get(a))
            .and_then(|d| d.known())
        else {
            return;
        };
        if !size.is_power_of_two() {
            let name = Scope::arg_name(self.input(op, "x")).map(str::to_string);
            self.push(
                Rule::SoftmaxNonPowerOfTwo,
                Some(op),
                name.as_deref(),
                format!("softmax over axis {axis} of size {size}, not a power of two"),
            );
        }
    }

    fn check_slice(&mut self, op: &'f Operation) {
        let Some(limit) = self.caps.max_slice_width_offset else {
            return;
        };
        let Some(begin) = self.const_ints(op, "begin") else {
            return;
        };
        if let Some(&offset) = begin.last().filter(|&&b| b > limit as i64) {
            let name = Scope::arg_name(self.input(op, "x")).map(str::to_string);
            self.push(
                Rule::SliceWidthOffset,
                Some(op),
                name.as_deref(),
                format!(
                    "slice starts at width offset {offset}, above {limit}: {} saturates the offset",
                    self.caps.family
                ),
            );
        }
    }
}

/// `matmul` `scores` — the op type and its first output (or `name` attribute).
fn describe_op(op: &Operation) -> String {
    let name = op
        .outputs
        .first()
        .map(|o| o.name.as_str())
        .or_else(|| op.name_attr())
        .unwrap_or("?");
    format!("`{}` `{name}`", op.op_type)
}

/// Integer element types the ANE cannot compute with (8-bit quantized data is allowed).
fn is_runtime_integer(dtype: DType) -> bool {
    matches!(
        dtype,
        DType::Int32 | DType::Int16 | DType::Uint16 | DType::Uint64
    )
}

fn byte_size(t: &TensorType) -> usize {
    t.num_elements().unwrap_or(0) * t.dtype.size_in_bytes().unwrap_or(0)
}

/// True when every adjacent pair satisfies `ordered` (always true for fewer than two items).
fn strictly(sizes: &[usize], ordered: impl Fn(usize, usize) -> bool) -> bool {
    sizes.windows(2).all(|w| ordered(w[0], w[1]))
}
