//! The trainable parameters of a model: an ordered, named set of tensors, each with fp32 master
//! weights, an fp32 gradient accumulator and the fp16 copy the executor stages into device inputs.
//!
//! Names and layouts follow PyTorch so checkpoints load with `safetensors.torch.load_file`:
//! `0.weight` is `[out, in]` for a linear layer, `[out, in, kh, kw]` for a convolution, `0.bias`
//! is `[out]`. The store validates names and shapes when parameters are added, so every later
//! consumer (optimizers, checkpoints, the executor) can rely on them.
//!
//! Gradients of several micro-batches are summed into the fp32 buffer with
//! [`Param::accumulate_grad`] / [`Param::accumulate_grad_f16`]; the optimizer divides by the
//! accumulation count (fused into its update) and the trainer calls [`ParamStore::zero_grads`]
//! after each update.

use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;
use std::collections::HashMap;

/// Elements per parallel work item in the gradient sweeps: large enough that rayon's overhead is
/// negligible, small enough that two threads share the work of a mid-sized layer.
const SWEEP_CHUNK: usize = 16 * 1024;

/// Why a parameter or a store operation was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// Two parameters were given the same name.
    #[error("duplicate parameter name `{0}`")]
    DuplicateName(String),
    /// A name is empty or uses characters outside `[A-Za-z0-9_.-]`, or starts/ends with `.`.
    #[error("invalid parameter name `{0}`: use ASCII letters, digits, `_`, `-` and `.` (not at either end)")]
    InvalidName(String),
    /// A shape has no dimensions or a zero-sized dimension.
    #[error("parameter `{name}` has invalid shape {shape:?}: shapes need at least one dimension and no zero-sized dimension")]
    InvalidShape {
        /// The tensor or parameter name.
        name: String,
        /// The shape given.
        shape: Vec<usize>,
    },
    /// The element count of the shape overflows `usize`.
    #[error("parameter `{name}` has shape {shape:?} whose element count overflows")]
    ShapeOverflow {
        /// The tensor or parameter name.
        name: String,
        /// The shape given.
        shape: Vec<usize>,
    },
    /// A buffer's length does not match the parameter's element count.
    #[error("parameter `{name}`: expected {expected} values for shape {shape:?}, got {actual}")]
    LengthMismatch {
        /// The tensor or parameter name.
        name: String,
        /// The shape given.
        shape: Vec<usize>,
        /// The element count of the shape.
        expected: usize,
        /// The number of values given.
        actual: usize,
    },
    /// No parameter has this name.
    #[error("no parameter named `{0}`")]
    UnknownName(String),
}

/// One trainable tensor: its name, shape, fp32 master values, fp32 gradient and fp16 copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    name: String,
    shape: Vec<usize>,
    pub(crate) master: Vec<f32>,
    pub(crate) grad: Vec<f32>,
    pub(crate) half: Vec<f16>,
    weight_decay: bool,
}

impl Param {
    /// The PyTorch-style name, e.g. `0.weight`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shape in PyTorch layout (row-major, outermost first).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.master.len()
    }

    /// Always false: shapes with zero elements are rejected on construction.
    pub fn is_empty(&self) -> bool {
        self.master.is_empty()
    }

    /// The fp32 master weights.
    pub fn master(&self) -> &[f32] {
        &self.master
    }

    /// The fp16 copy of the master weights (`f16::from_f32` of each value), kept in step by the
    /// optimizer so the executor can stage it into device inputs without converting.
    pub fn half(&self) -> &[f16] {
        &self.half
    }

    /// The accumulated fp32 gradient (still multiplied by the loss scale and summed over
    /// micro-batches: the optimizer unscales it).
    pub fn grad(&self) -> &[f32] {
        &self.grad
    }

    /// Mutable access to the gradient buffer, for host ops that write gradients directly.
    pub fn grad_mut(&mut self) -> &mut [f32] {
        &mut self.grad
    }

    /// Whether the optimizer applies weight decay to this parameter (usually false for biases and
    /// normalization weights).
    pub fn weight_decay(&self) -> bool {
        self.weight_decay
    }

    /// Enables or disables weight decay for this parameter.
    pub fn set_weight_decay(&mut self, enabled: bool) {
        self.weight_decay = enabled;
    }

    /// Replaces the master weights and refreshes the fp16 copy.
    pub fn set_master(&mut self, values: &[f32]) -> Result<(), ParamError> {
        self.check_len(values.len())?;
        self.master.copy_from_slice(values);
        self.refresh_half();
        Ok(())
    }

    /// Adds an fp32 gradient (one micro-batch) into the gradient buffer.
    pub fn accumulate_grad(&mut self, grad: &[f32]) -> Result<(), ParamError> {
        self.check_len(grad.len())?;
        self.grad
            .par_chunks_mut(SWEEP_CHUNK)
            .zip(grad.par_chunks(SWEEP_CHUNK))
            .for_each(|(acc, g)| acc.iter_mut().zip(g).for_each(|(a, &x)| *a += x));
        Ok(())
    }

    /// Adds an fp16 gradient (as read from a device output) into the fp32 gradient buffer.
    pub fn accumulate_grad_f16(&mut self, grad: &[f16]) -> Result<(), ParamError> {
        self.check_len(grad.len())?;
        self.grad
            .par_chunks_mut(SWEEP_CHUNK)
            .zip(grad.par_chunks(SWEEP_CHUNK))
            .for_each(|(acc, g)| {
                // Whole-slice conversion uses F16C when present; per-element conversion is ~5×
                // slower (reference/machine.md).
                let mut widened = [0f32; 1024];
                for (acc_block, g_block) in acc.chunks_mut(1024).zip(g.chunks(1024)) {
                    let w = &mut widened[..g_block.len()];
                    g_block.convert_to_f32_slice(w);
                    acc_block
                        .iter_mut()
                        .zip(w.iter())
                        .for_each(|(a, &x)| *a += x);
                }
            });
        Ok(())
    }

    /// Sets the gradient buffer to zero.
    pub fn zero_grad(&mut self) {
        self.grad
            .par_chunks_mut(SWEEP_CHUNK)
            .for_each(|c| c.fill(0.0));
    }

    /// Recomputes the fp16 copy from the master weights.
    pub fn refresh_half(&mut self) {
        self.half
            .par_chunks_mut(SWEEP_CHUNK)
            .zip(self.master.par_chunks(SWEEP_CHUNK))
            .for_each(|(h, m)| h.convert_from_f32_slice(m));
    }

    fn check_len(&self, actual: usize) -> Result<(), ParamError> {
        if actual == self.master.len() {
            Ok(())
        } else {
            Err(ParamError::LengthMismatch {
                name: self.name.clone(),
                shape: self.shape.clone(),
                expected: self.master.len(),
                actual,
            })
        }
    }
}

/// Checks a parameter name: non-empty ASCII letters, digits, `_`, `-`, `.`, not starting or
/// ending with `.`. These names double as safetensors keys and prefixes of optimizer-state keys.
pub fn validate_name(name: &str) -> Result<(), ParamError> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if name.is_empty() || !ok_chars || name.starts_with('.') || name.ends_with('.') {
        return Err(ParamError::InvalidName(name.to_string()));
    }
    Ok(())
}

/// Checks a shape and returns its element count.
pub fn element_count(name: &str, shape: &[usize]) -> Result<usize, ParamError> {
    if shape.is_empty() || shape.contains(&0) {
        return Err(ParamError::InvalidShape {
            name: name.to_string(),
            shape: shape.to_vec(),
        });
    }
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| ParamError::ShapeOverflow {
            name: name.to_string(),
            shape: shape.to_vec(),
        })
}

/// The ordered, named set of a model's trainable parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParamStore {
    params: Vec<Param>,
    index: HashMap<String, usize>,
}

impl ParamStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a store from `(name, shape, initial values)` triples, validating each.
    pub fn from_tensors<I, S>(tensors: I) -> Result<Self, ParamError>
    where
        I: IntoIterator<Item = (S, Vec<usize>, Vec<f32>)>,
        S: Into<String>,
    {
        let mut store = Self::new();
        for (name, shape, values) in tensors {
            store.push(name, shape, values)?;
        }
        Ok(store)
    }

    /// Appends a parameter with weight decay enabled and returns its index. Fails on a duplicate
    /// or malformed name, an empty or zero-sized shape, or a value count that does not match.
    pub fn push(
        &mut self,
        name: impl Into<String>,
        shape: Vec<usize>,
        values: Vec<f32>,
    ) -> Result<usize, ParamError> {
        let name = name.into();
        validate_name(&name)?;
        let count = element_count(&name, &shape)?;
        if self.index.contains_key(&name) {
            return Err(ParamError::DuplicateName(name));
        }
        if values.len() != count {
            return Err(ParamError::LengthMismatch {
                name,
                shape,
                expected: count,
                actual: values.len(),
            });
        }
        let mut param = Param {
            name: name.clone(),
            shape,
            master: values,
            grad: vec![0.0; count],
            half: vec![f16::ZERO; count],
            weight_decay: true,
        };
        param.refresh_half();
        let index = self.params.len();
        self.params.push(param);
        self.index.insert(name, index);
        Ok(index)
    }

    /// The number of parameters (tensors, not elements).
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// True when the store holds no parameter.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The total number of scalar elements over all parameters.
    pub fn num_elements(&self) -> usize {
        self.params.iter().map(Param::len).sum()
    }

    /// The parameters in insertion order.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// Mutable access to the parameters in insertion order (names and shapes stay fixed).
    pub fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    /// The index of the parameter with this name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The parameter with this name.
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.index_of(name).map(|i| &self.params[i])
    }

    /// The parameter with this name, mutably.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Param> {
        self.index_of(name).map(move |i| &mut self.params[i])
    }

    /// The parameter with this name, or an error naming it.
    pub fn require_mut(&mut self, name: &str) -> Result<&mut Param, ParamError> {
        self.get_mut(name)
            .ok_or_else(|| ParamError::UnknownName(name.to_string()))
    }

    /// Enables or disables weight decay for every parameter whose name satisfies `select`
    /// (e.g. `|n| n.ends_with(".bias")`). Returns how many parameters matched.
    pub fn set_weight_decay_where(
        &mut self,
        enabled: bool,
        select: impl Fn(&str) -> bool,
    ) -> usize {
        let mut matched = 0;
        for p in self.params.iter_mut().filter(|p| select(&p.name)) {
            p.weight_decay = enabled;
            matched += 1;
        }
        matched
    }

    /// Zeroes every gradient buffer (after an optimizer update or a skipped step).
    pub fn zero_grads(&mut self) {
        self.params.iter_mut().for_each(Param::zero_grad);
    }

    /// Recomputes every fp16 copy from its master weights.
    pub fn refresh_half(&mut self) {
        self.params.iter_mut().for_each(Param::refresh_half);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> ParamStore {
        ParamStore::from_tensors([
            ("0.weight", vec![3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            ("0.bias", vec![3], vec![0.1, 0.2, 0.3]),
        ])
        .unwrap()
    }

    #[test]
    fn keeps_order_names_shapes_and_half_copy() {
        let s = store();
        assert_eq!(s.len(), 2);
        assert_eq!(s.num_elements(), 9);
        let names: Vec<&str> = s.params().iter().map(Param::name).collect();
        assert_eq!(names, ["0.weight", "0.bias"]);
        assert_eq!(s.get("0.weight").unwrap().shape(), &[3, 2]);
        let b = s.get("0.bias").unwrap();
        assert_eq!(b.half()[1], f16::from_f32(0.2));
        assert!(b.grad().iter().all(|&g| g == 0.0));
        assert!(b.weight_decay());
    }

    #[test]
    fn rejects_bad_names_shapes_and_lengths() {
        let mut s = store();
        assert_eq!(
            s.push("0.bias", vec![1], vec![0.0]),
            Err(ParamError::DuplicateName("0.bias".into()))
        );
        for bad in ["", ".w", "w.", "a b", "w\n", "é"] {
            assert_eq!(
                s.push(bad, vec![1], vec![0.0]),
                Err(ParamError::InvalidName(bad.into()))
            );
        }
        assert!(matches!(
            s.push("x", vec![], vec![]),
            Err(ParamError::InvalidShape { .. })
        ));
        assert!(matches!(
            s.push("x", vec![2, 0], vec![]),
            Err(ParamError::InvalidShape { .. })
        ));
        assert!(matches!(
            s.push("x", vec![usize::MAX, 2], vec![]),
            Err(ParamError::ShapeOverflow { .. })
        ));
        assert!(matches!(
            s.push("x", vec![2, 2], vec![0.0; 3]),
            Err(ParamError::LengthMismatch {
                expected: 4,
                actual: 3,
                ..
            })
        ));
        assert_eq!(s.len(), 2, "failed pushes leave the store unchanged");
    }

    #[test]
    fn accumulates_micro_batches_and_zeroes() {
        let mut s = store();
        let w = s.get_mut("0.weight").unwrap();
        w.accumulate_grad(&[1.0; 6]).unwrap();
        w.accumulate_grad_f16(&[f16::from_f32(0.5); 6]).unwrap();
        assert!(w.grad().iter().all(|&g| g == 1.5));
        assert!(w.accumulate_grad(&[1.0; 5]).is_err());
        s.zero_grads();
        assert!(s
            .params()
            .iter()
            .all(|p| p.grad().iter().all(|&g| g == 0.0)));
    }

    #[test]
    fn accumulate_f16_covers_long_buffers() {
        let n = 3 * SWEEP_CHUNK + 1234;
        let mut s = ParamStore::from_tensors([("w", vec![n], vec![0.0; n])]).unwrap();
        let g: Vec<f16> = (0..n).map(|i| f16::from_f32((i % 7) as f32)).collect();
        let p = s.get_mut("w").unwrap();
        p.accumulate_grad_f16(&g).unwrap();
        p.accumulate_grad_f16(&g).unwrap();
        for (i, &x) in p.grad().iter().enumerate() {
            assert_eq!(x, 2.0 * (i % 7) as f32);
        }
    }

    #[test]
    fn set_master_refreshes_half_and_weight_decay_selection() {
        let mut s = store();
        s.get_mut("0.bias")
            .unwrap()
            .set_master(&[1.0e-8, 70000.0, -2.5])
            .unwrap();
        let half = s.get("0.bias").unwrap().half().to_vec();
        assert_eq!(
            half,
            [1.0e-8, 70000.0, -2.5].map(f16::from_f32).to_vec(),
            "fp16 copy rounds exactly like f16::from_f32 (incl. underflow and overflow)"
        );
        assert_eq!(s.set_weight_decay_where(false, |n| n.ends_with(".bias")), 1);
        assert!(!s.get("0.bias").unwrap().weight_decay());
        assert!(s.get("0.weight").unwrap().weight_decay());
        assert!(matches!(
            s.require_mut("nope"),
            Err(ParamError::UnknownName(_))
        ));
    }
}
