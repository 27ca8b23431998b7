//! Evaluation on devices: the forward-only plan of a model (dropout off, output `logits`),
//! compiled once and run over batches; accuracy (argmax) and cross-entropy are computed on the
//! host from the logits. It reads the same [`ParamStore`] as the training plan, so evaluating
//! mid-run needs no copy of the weights.

use super::compiled::{CompiledPlan, PlanSummary};
use super::devices::Devices;
use super::graphs::eval_graph;
use super::timing::{Phase, PhaseTimes};
use super::ExecError;
use crate::nn::Model;
use crate::params::ParamStore;
use ane_compiler::abi::HostValue;
use ane_compiler::plan::{plan_training_step, PlanOptions};
use ane_compiler::ValueId;
use std::time::Instant;

/// Accumulated results over evaluation batches.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EvalResult {
    /// Rows evaluated.
    pub examples: usize,
    /// Rows whose argmax equals the label.
    pub correct: usize,
    /// Sum of the per-row cross-entropy (natural log).
    pub loss_sum: f64,
}

impl EvalResult {
    /// The fraction of rows classified correctly (0 when nothing was evaluated).
    pub fn accuracy(&self) -> f64 {
        if self.examples == 0 {
            0.0
        } else {
            self.correct as f64 / self.examples as f64
        }
    }

    /// The mean cross-entropy per row (NaN when nothing was evaluated).
    pub fn mean_loss(&self) -> f64 {
        self.loss_sum / self.examples as f64
    }
}

/// Runs a model's evaluation plan (see the module docs).
#[derive(Debug)]
pub struct EvalExecutor {
    compiled: CompiledPlan,
    logits: ValueId,
    batch_size: usize,
    classes: usize,
    row_buffer: Vec<f32>,
    times: PhaseTimes,
}

impl EvalExecutor {
    /// Traces `model`'s evaluation graph for batches of `batch_size`, plans it with `options`
    /// and compiles it on `devices`.
    pub fn new(
        model: &Model,
        batch_size: usize,
        options: &PlanOptions,
        devices: &mut Devices,
        params: &ParamStore,
    ) -> Result<EvalExecutor, ExecError> {
        let graph = eval_graph(model, batch_size)?;
        let plan = plan_training_step(&graph.graph, options)?;
        let name = graph
            .logits
            .as_deref()
            .ok_or_else(|| ExecError::MissingValue("logits output".into()))?;
        let logits = plan
            .graph
            .output_value(name)
            .map_err(|_| ExecError::MissingValue(format!("output `{name}`")))?;
        let dims = plan
            .graph
            .shape(logits)
            .map_err(|_| ExecError::MissingValue("shape of the logits".into()))?
            .dims()
            .to_vec();
        let classes = dims.last().copied().unwrap_or(1).max(1);
        let compiled = CompiledPlan::new(plan, devices, params, &[graph.input.as_str()])?;
        if compiled.value(logits).is_none() {
            return Err(ExecError::MissingValue(
                "kernel producing the logits".into(),
            ));
        }
        Ok(EvalExecutor {
            compiled,
            logits,
            batch_size,
            classes,
            row_buffer: vec![0.0; classes],
            times: PhaseTimes::default(),
        })
    }

    /// The batch size the plan was compiled for.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Compile counts and per-batch work.
    pub fn summary(&self) -> PlanSummary {
        self.compiled.summary()
    }

    /// Wall time per phase over every batch so far.
    pub fn times(&self) -> &PhaseTimes {
        &self.times
    }

    /// The number of classes (the logits' last axis).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Runs one batch and appends the logits of its first `rows` rows to `out` (row-major,
    /// `classes` values a row, f32).
    pub fn logits_into(
        &mut self,
        devices: &mut Devices,
        params: &ParamStore,
        inputs: HostValue<'_>,
        rows: usize,
        out: &mut Vec<f32>,
    ) -> Result<(), ExecError> {
        self.compiled
            .run(devices, params, &[inputs], &mut self.times)?;
        let classes = self.classes;
        let logits = self
            .compiled
            .value(self.logits)
            .expect("checked when compiled");
        let available = logits.len() / classes;
        if rows > available {
            return Err(ExecError::Length {
                name: "prediction rows".into(),
                expected: available,
                got: rows,
            });
        }
        let wanted = rows * classes;
        match logits {
            HostValue::F32(v) => out.extend_from_slice(&v[..wanted]),
            HostValue::F16(v) => out.extend(v[..wanted].iter().map(|h| h.to_f32())),
            HostValue::I32(_) => {
                return Err(ExecError::UnsupportedStepValue {
                    name: "logits".into(),
                    kind: "i32".into(),
                })
            }
        }
        Ok(())
    }

    /// Runs one batch (`inputs` holds every row of the compiled batch size; rows past those
    /// `labels` covers are padding) and adds the first `labels.len()` rows to `result`. A label
    /// out of range counts as wrong with infinite loss.
    pub fn run_batch(
        &mut self,
        devices: &mut Devices,
        params: &ParamStore,
        inputs: HostValue<'_>,
        labels: &[i32],
        result: &mut EvalResult,
    ) -> Result<(), ExecError> {
        self.compiled
            .run(devices, params, &[inputs], &mut self.times)?;
        let start = Instant::now();
        let classes = self.classes;
        let logits = self
            .compiled
            .value(self.logits)
            .expect("checked when compiled");
        let rows = logits.len() / classes;
        if labels.len() > rows {
            return Err(ExecError::Length {
                name: "evaluation labels".into(),
                expected: rows,
                got: labels.len(),
            });
        }
        for (row, &label) in labels.iter().enumerate() {
            let values = &mut self.row_buffer;
            let range = row * classes..(row + 1) * classes;
            match logits {
                HostValue::F32(v) => values.copy_from_slice(&v[range]),
                HostValue::F16(v) => {
                    half::slice::HalfFloatSliceExt::convert_to_f32_slice(&v[range], values)
                }
                HostValue::I32(_) => {
                    return Err(ExecError::UnsupportedStepValue {
                        name: "logits".into(),
                        kind: "i32".into(),
                    })
                }
            }
            let (predicted, loss) = argmax_and_cross_entropy(values, label);
            result.examples += 1;
            result.correct += usize::from(predicted == Some(label as usize));
            result.loss_sum += loss;
        }
        self.times.add(Phase::Host, start.elapsed());
        Ok(())
    }
}

/// The index of the largest logit (the first among equals; `None` if any is NaN) and the
/// cross-entropy `logsumexp(x) − x[label]` in f64 (infinite for a label out of range).
fn argmax_and_cross_entropy(logits: &[f32], label: i32) -> (Option<usize>, f64) {
    let mut best: Option<(usize, f32)> = None;
    for (i, &x) in logits.iter().enumerate() {
        if x.is_nan() {
            return (None, f64::NAN);
        }
        if best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    let Some((index, max)) = best else {
        return (None, f64::NAN);
    };
    let max = f64::from(max);
    let sum: f64 = logits.iter().map(|&x| (f64::from(x) - max).exp()).sum();
    let loss = match usize::try_from(label).ok().and_then(|l| logits.get(l)) {
        Some(&x) => max + sum.ln() - f64::from(x),
        None => f64::INFINITY,
    };
    (Some(index), loss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_and_loss() {
        let (i, loss) = argmax_and_cross_entropy(&[0.0, 2.0, 1.0], 1);
        assert_eq!(i, Some(1));
        let expected = (1.0f64 + 2f64.exp() + 1f64.exp()).ln() - 2.0;
        assert!((loss - expected).abs() < 1e-12);
        assert_eq!(argmax_and_cross_entropy(&[1.0, 1.0], 0).0, Some(0));
        assert_eq!(argmax_and_cross_entropy(&[1.0, f32::NAN], 0).0, None);
        assert_eq!(argmax_and_cross_entropy(&[1.0, 2.0], 5).1, f64::INFINITY);
    }

    #[test]
    fn result_means() {
        let r = EvalResult {
            examples: 4,
            correct: 3,
            loss_sum: 2.0,
        };
        assert_eq!(r.accuracy(), 0.75);
        assert_eq!(r.mean_loss(), 0.5);
        assert_eq!(EvalResult::default().accuracy(), 0.0);
    }
}
