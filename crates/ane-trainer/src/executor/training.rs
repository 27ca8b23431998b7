//! The training step on devices: one micro-batch runs the compiled training plan (forward, loss,
//! backward with the loss scale as seed) and adds every `grad.<param>` into the parameter
//! store's fp32 gradient buffers. [`UpdateRule`](super::UpdateRule) then applies the update once
//! per `accum` micro-batches.

use super::compiled::{CompiledPlan, External, PlanSummary};
use super::devices::Devices;
use super::graphs::{training_step_graph, LOSS_SCALE_INPUT};
use super::timing::{Phase, PhaseTimes};
use super::ExecError;
use crate::nn::{Loss, Model, ModelGraph};
use crate::params::ParamStore;
use ane_compiler::abi::HostValue;
use ane_compiler::plan::{plan_training_step, Plan, PlanOptions};
use ane_compiler::ValueId;
use std::time::Instant;

/// One micro-batch's inputs.
#[derive(Debug, Clone, Copy)]
pub struct MicroBatch<'a> {
    /// The model input: f32 images (`HostValue::F32`) or i32 token ids (`HostValue::I32`), all
    /// rows of the compiled batch size.
    pub inputs: HostValue<'a>,
    /// The i32 labels or next-token targets.
    pub targets: &'a [i32],
    /// The dropout `(seed, step)` pair: masks are a pure function of it (ignored without dropout).
    pub dropout: [i32; 2],
}

/// Runs a model's training step on devices (see the module docs).
#[derive(Debug)]
pub struct TrainingExecutor {
    compiled: CompiledPlan,
    batch_size: usize,
    loss: ValueId,
    grads: Vec<(ValueId, usize)>,
    times: PhaseTimes,
}

impl TrainingExecutor {
    /// Traces `model`'s training step for micro-batches of `batch_size`, plans it with
    /// `options`, and compiles every kernel on `devices`.
    pub fn new(
        model: &Model,
        batch_size: usize,
        loss: Loss,
        options: &PlanOptions,
        devices: &mut Devices,
        params: &ParamStore,
    ) -> Result<TrainingExecutor, ExecError> {
        let graph = training_step_graph(model, batch_size, loss)?;
        let plan = plan_training_step(&graph.graph, options)?;
        TrainingExecutor::from_plan(plan, &graph, devices, params)
    }

    /// Compiles an existing plan of `graph` (a graph from
    /// [`training_step_graph`](super::training_step_graph)).
    pub fn from_plan(
        plan: Plan,
        graph: &ModelGraph,
        devices: &mut Devices,
        params: &ParamStore,
    ) -> Result<TrainingExecutor, ExecError> {
        let target = graph
            .target
            .as_deref()
            .ok_or_else(|| ExecError::MissingValue("labels or targets input".into()))?;
        let loss_name = graph
            .loss
            .as_deref()
            .ok_or_else(|| ExecError::MissingValue("loss output".into()))?;
        let loss = plan
            .graph
            .output_value(loss_name)
            .map_err(|_| ExecError::MissingValue(format!("output `{loss_name}`")))?;
        let mut grads = Vec::with_capacity(graph.grads.len());
        for g in &graph.grads {
            let value = plan
                .graph
                .output_value(&g.output)
                .map_err(|_| ExecError::MissingValue(format!("output `{}`", g.output)))?;
            let param = params
                .index_of(&g.param)
                .ok_or_else(|| ExecError::MissingValue(format!("parameter `{}`", g.param)))?;
            grads.push((value, param));
        }
        let externals = [
            graph.input.as_str(),
            target,
            LOSS_SCALE_INPUT,
            ane_compiler::DROPOUT_RNG_INPUT,
        ];
        let compiled = CompiledPlan::new(plan, devices, params, &externals)?;
        for (value, _) in grads.iter().chain([(loss, 0)].iter()) {
            if compiled.value(*value).is_none() {
                return Err(ExecError::MissingValue(format!(
                    "kernel producing step output {value}"
                )));
            }
        }
        Ok(TrainingExecutor {
            compiled,
            batch_size: graph.batch_size,
            loss,
            grads,
            times: PhaseTimes::default(),
        })
    }

    /// The compiled plan.
    pub fn compiled(&self) -> &CompiledPlan {
        &self.compiled
    }

    /// Compile counts and per-micro-batch work.
    pub fn summary(&self) -> PlanSummary {
        self.compiled.summary()
    }

    /// The micro-batch size the kernels were compiled for.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Wall time per phase accumulated over every micro-batch so far.
    pub fn times(&self) -> &PhaseTimes {
        &self.times
    }

    /// Mutable access to the phase times (the trainer adds its own staging and optimizer time).
    pub fn times_mut(&mut self) -> &mut PhaseTimes {
        &mut self.times
    }

    /// Runs forward and backward on one micro-batch with loss scale `loss_scale`, adds the
    /// (scaled) gradients into `params`' gradient buffers and returns the unscaled loss.
    pub fn run_micro_batch(
        &mut self,
        devices: &mut Devices,
        params: &mut ParamStore,
        batch: &MicroBatch<'_>,
        loss_scale: f32,
    ) -> Result<f32, ExecError> {
        let scale = [loss_scale];
        let externals: [External<'_>; 4] = [
            batch.inputs,
            HostValue::I32(batch.targets),
            HostValue::F32(&scale),
            HostValue::I32(&batch.dropout),
        ];
        self.compiled
            .run(devices, params, &externals, &mut self.times)?;

        let accumulate = Instant::now();
        for &(value, param) in &self.grads {
            let grad = self
                .compiled
                .value(value)
                .expect("checked when compiled: every gradient has a producer");
            let p = &mut params.params_mut()[param];
            match grad {
                HostValue::F16(g) => p.accumulate_grad_f16(g)?,
                HostValue::F32(g) => p.accumulate_grad(g)?,
                HostValue::I32(_) => {
                    return Err(ExecError::UnsupportedStepValue {
                        name: format!("gradient of `{}`", p.name()),
                        kind: "i32".into(),
                    })
                }
            }
        }
        self.times.add(Phase::Host, accumulate.elapsed());
        Ok(scalar(self.compiled.value(self.loss)))
    }
}

/// The first element of a host value as f32 (NaN when absent).
fn scalar(value: Option<HostValue<'_>>) -> f32 {
    match value {
        Some(HostValue::F32(v)) => v.first().copied().unwrap_or(f32::NAN),
        Some(HostValue::F16(v)) => v.first().map_or(f32::NAN, |h| h.to_f32()),
        Some(HostValue::I32(v)) => v.first().map_or(f32::NAN, |&i| i as f32),
        None => f32::NAN,
    }
}
