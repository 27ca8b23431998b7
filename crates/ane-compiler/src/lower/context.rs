//! The lowering context: the MIL function being built, the map from graph values to MIL values,
//! the kernel's constant tables, and the helpers every op family shares (scalar constants,
//! reshapes, padded matmuls, concat trees).
//!
//! Nothing here may depend on value ids or graph-global names: two kernels with the same structure
//! must print the same text (the plan compiles one kernel for every identical layer).

use super::error::LowerError;
use super::options::{LowerOptions, Precision};
use crate::graph::{Graph, ValueId};
use crate::shape::Shape;
use ane_mil::builder::{BuildError, FunctionBuilder, PadMode, Var};
use ane_mil::value::{TensorData, TensorValue};
use ane_mil::{BlobRef, DType as MilDType, TensorType, WeightFiles};
use half::f16;
use std::collections::HashMap;

/// Tables with at most this many elements are inline `const`s; larger ones go to weight files.
pub const INLINE_TABLE_LIMIT: usize = 16;

/// The MIL shape of an IR shape: the same sizes, except that a scalar becomes `[1]` (kernel
/// inputs and outputs must have rank ≥ 1, and the ANE has no rank-0 tensors).
pub fn mil_dims(shape: &Shape) -> Vec<usize> {
    if shape.rank() == 0 {
        vec![1]
    } else {
        shape.dims().to_vec()
    }
}

/// Sizes as the `int32` values MIL shape arguments take.
pub fn to_i32(values: &[usize]) -> Result<Vec<i32>, LowerError> {
    values
        .iter()
        .map(|&v| {
            i32::try_from(v).map_err(|_| LowerError::Build {
                op: "shape argument".to_string(),
                source: Box::new(BuildError::OutOfRange {
                    what: "size".to_string(),
                    value: v as i128,
                }),
            })
        })
        .collect()
}

/// The known shape of a builder value (the lowering only ever creates fully known shapes).
pub fn dims(var: &Var) -> Vec<usize> {
    var.ty.known_shape().unwrap_or_default()
}

/// State of one kernel being lowered.
pub struct LowerCx<'a> {
    /// The graph the kernel's nodes belong to.
    pub graph: &'a Graph,
    /// The options.
    pub opts: &'a LowerOptions,
    /// The function under construction.
    pub f: FunctionBuilder,
    /// The float dtype of every float tensor (`fp16` or `fp32`).
    pub float: MilDType,
    /// Weight files of the constant tables emitted so far.
    pub weights: WeightFiles,
    values: HashMap<ValueId, Var>,
    params: Vec<String>,
    /// For each value made by `reshape`, the value it reshaped: chains of reshapes collapse.
    reshaped_from: HashMap<String, Var>,
    /// The IR op being lowered, for error messages.
    current: String,
}

impl<'a> LowerCx<'a> {
    /// A context for one `main` function.
    pub fn new(graph: &'a Graph, opts: &'a LowerOptions) -> Self {
        LowerCx {
            graph,
            opts,
            f: FunctionBuilder::new("main", opts.dialect.opset()),
            float: opts.precision.mil_dtype(),
            weights: WeightFiles::new(),
            values: HashMap::new(),
            params: Vec::new(),
            reshaped_from: HashMap::new(),
            current: "kernel I/O".to_string(),
        }
    }

    /// The finished (validated) function and the weight files of its constant tables.
    pub fn finish(self) -> Result<(ane_mil::Function, WeightFiles), LowerError> {
        let current = self.current;
        let function = self.f.finish().map_err(|source| LowerError::Build {
            op: current,
            source: Box::new(source),
        })?;
        Ok((function, self.weights))
    }

    /// Declares a function parameter.
    pub fn input(&mut self, name: &str, ty: TensorType) -> Result<Var, LowerError> {
        let r = self.f.input(name, ty);
        let var = self.ok(r)?;
        self.params.push(var.name.clone());
        Ok(var)
    }

    /// The names of the parameters declared so far.
    pub fn param_names(&self) -> &[String] {
        &self.params
    }

    /// Sets the op named in errors from here on.
    pub fn set_current(&mut self, what: String) {
        self.current = what;
    }

    /// Wraps a builder result into a [`LowerError::Build`] naming the current op.
    pub fn ok<T>(&self, result: Result<T, BuildError>) -> Result<T, LowerError> {
        result.map_err(|source| LowerError::Build {
            op: self.current.clone(),
            source: Box::new(source),
        })
    }

    /// The MIL value of graph value `v`.
    pub fn var(&self, v: ValueId) -> Result<Var, LowerError> {
        self.values.get(&v).cloned().ok_or_else(|| {
            LowerError::BadSpec(format!(
                "value {v} is read inside the kernel but is neither a boundary input nor \
                 produced by an earlier node of the kernel"
            ))
        })
    }

    /// Whether graph value `v` already has a MIL value.
    pub fn has(&self, v: ValueId) -> bool {
        self.values.contains_key(&v)
    }

    /// Records the MIL value of graph value `v`.
    pub fn bind(&mut self, v: ValueId, var: Var) {
        self.values.insert(v, var);
    }

    /// The IR shape of a graph value.
    pub fn shape(&self, v: ValueId) -> Result<Shape, LowerError> {
        Ok(self.graph.shape(v)?.clone())
    }

    /// A float scalar constant in the kernel's float dtype.
    pub fn scalar(&mut self, value: f64) -> Result<Var, LowerError> {
        let r = self.f.scalar(value, self.float);
        self.ok(r)
    }

    /// The most negative finite value of the float dtype (padding that never wins a maximum).
    pub fn lowest(&self) -> f64 {
        match self.opts.precision {
            Precision::Fp16 => f16::MIN.to_f64(),
            Precision::Fp32 => f32::MIN as f64,
        }
    }

    /// `x` reshaped to `shape` (returned unchanged when it already has that shape). A reshape of
    /// a reshape reads the original value, so chains collapse to one op (or none).
    pub fn reshape(&mut self, x: &Var, shape: &[usize]) -> Result<Var, LowerError> {
        if dims(x) == shape {
            return Ok(x.clone());
        }
        let source = self
            .reshaped_from
            .get(&x.name)
            .cloned()
            .unwrap_or(x.clone());
        if dims(&source) == shape {
            return Ok(source);
        }
        let s = to_i32(shape)?;
        let r = self.f.reshape(&source, &s);
        let out = self.ok(r)?;
        self.reshaped_from.insert(out.name.clone(), source);
        Ok(out)
    }

    /// `x` reshaped to the MIL shape of an IR shape.
    pub fn fit(&mut self, x: &Var, shape: &Shape) -> Result<Var, LowerError> {
        self.reshape(x, &mil_dims(shape))
    }

    /// `slice_by_size` with explicit sizes.
    pub fn slice(&mut self, x: &Var, begin: &[usize], size: &[usize]) -> Result<Var, LowerError> {
        if begin.iter().all(|&b| b == 0) && dims(x) == size {
            return Ok(x.clone());
        }
        let (b, s) = (to_i32(begin)?, to_i32(size)?);
        let r = self.f.slice_by_size(x, &b, &s);
        self.ok(r)
    }

    /// The range `start..start + len` of `axis`.
    pub fn slice_axis(
        &mut self,
        x: &Var,
        axis: usize,
        start: usize,
        len: usize,
    ) -> Result<Var, LowerError> {
        let mut begin = vec![0; x.ty.rank()];
        let mut size = dims(x);
        begin[axis] = start;
        size[axis] = len;
        self.slice(x, &begin, &size)
    }

    /// Constant padding of `axis` with `before`/`after` copies of `value`.
    pub fn pad_axis(
        &mut self,
        x: &Var,
        axis: usize,
        before: usize,
        after: usize,
        value: f64,
    ) -> Result<Var, LowerError> {
        if before == 0 && after == 0 {
            return Ok(x.clone());
        }
        // MIL pads the last N dims; cover the dims from `axis` to the end.
        let n = x.ty.rank() - axis;
        let mut pads = vec![0; 2 * n];
        pads[0] = before;
        pads[1] = after;
        let p = to_i32(&pads)?;
        let r = self.f.pad(x, &p, PadMode::Constant, value);
        self.ok(r)
    }

    /// `concat` along `axis`, as a tree of concats of at most `max_concat_inputs` values.
    pub fn concat(&mut self, values: &[Var], axis: usize) -> Result<Var, LowerError> {
        let max = self.opts.limits.max_concat_inputs.max(2);
        let mut level: Vec<Var> = values.to_vec();
        if level.is_empty() {
            return Err(LowerError::BadSpec(format!(
                "{}: concat of no values",
                self.current
            )));
        }
        while level.len() > 1 {
            let mut next = Vec::with_capacity(level.len().div_ceil(max));
            for group in level.chunks(max) {
                if group.len() == 1 {
                    next.push(group[0].clone());
                    continue;
                }
                let refs: Vec<&Var> = group.iter().collect();
                let r = self.f.concat(&refs, axis as i32, false);
                next.push(self.ok(r)?);
            }
            level = next;
        }
        Ok(level.remove(0))
    }

    /// The sum of `values` (all of one shape), added left to right.
    pub fn sum(&mut self, values: Vec<Var>) -> Result<Var, LowerError> {
        let mut iter = values.into_iter();
        let mut acc = iter
            .next()
            .ok_or_else(|| LowerError::BadSpec(format!("{}: sum of no values", self.current)))?;
        for v in iter {
            let r = self.f.add(&acc, &v);
            acc = self.ok(r)?;
        }
        Ok(acc)
    }

    /// `op(a)·op(b)` with the contraction zero-padded to the chip's required multiple. Both
    /// operands have rank ≥ 2; batch axes broadcast as in numpy.
    pub fn matmul(
        &mut self,
        a: &Var,
        b: &Var,
        transpose_a: bool,
        transpose_b: bool,
    ) -> Result<Var, LowerError> {
        let multiple = self.opts.limits.matmul_inner_multiple.max(1);
        let (ra, rb) = (a.ty.rank(), b.ty.rank());
        let a_k_axis = if transpose_a { ra - 2 } else { ra - 1 };
        let b_k_axis = if transpose_b { rb - 1 } else { rb - 2 };
        let k = dims(a)[a_k_axis];
        let extra = (multiple - k % multiple) % multiple;
        let (a, b) = if extra > 0 {
            (
                self.pad_axis(a, a_k_axis, 0, extra, 0.0)?,
                self.pad_axis(b, b_k_axis, 0, extra, 0.0)?,
            )
        } else {
            (a.clone(), b.clone())
        };
        let r = self.f.matmul(&a, &b, transpose_a, transpose_b);
        self.ok(r)
    }

    /// A constant table in the kernel's float dtype: inline when small, otherwise a one-tensor
    /// weight file `@model_path/weights/<name>.bin`. `name` must describe the content (never a
    /// value id) so structurally identical kernels print identically.
    pub fn table(&mut self, name: &str, shape: &[usize], data: &[f64]) -> Result<Var, LowerError> {
        let ty = TensorType::new(self.float, shape.iter().copied());
        let values = match self.float {
            MilDType::Fp16 => TensorData::Fp16(data.iter().map(|&v| f16::from_f64(v)).collect()),
            _ => TensorData::Fp32(data.iter().map(|&v| v as f32).collect()),
        };
        let value = TensorValue { ty, data: values };
        if data.len() <= INLINE_TABLE_LIMIT {
            let r = self.f.constant(name, value);
            return self.ok(r);
        }
        let path = format!("@model_path/weights/{name}_{}.bin", self.float.name());
        if self.weights.get(&path).is_none() {
            let bytes = ane_mil::blob::single_tensor_file(&value).map_err(|e| {
                LowerError::BadSpec(format!("{}: weight table {name}: {e}", self.current))
            })?;
            self.weights.insert(path.clone(), bytes);
        }
        let blob = BlobRef {
            ty: value.ty,
            path,
            offset: 64,
        };
        let r = self.f.blob_constant(name, blob);
        self.ok(r)
    }
}
