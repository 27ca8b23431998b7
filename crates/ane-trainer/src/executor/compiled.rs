//! A [`Plan`] joined to devices: every distinct kernel compiled once, every dispatch's inputs
//! resolved to where their data lives, every value crossing a kernel boundary given a host buffer
//! sized once.
//!
//! Where a dispatch input comes from ([`Source`]):
//! - a parameter: the fp16 copy the optimizer keeps ([`Param::half`](crate::params::Param::half))
//!   when the kernel's buffer is fp16 — copied, never converted, each step — or the fp32 master
//!   when it is fp32 (host kernels, fp32 plans);
//! - a caller's tensor for this run ([`External`]: the batch, labels, the loss scale, the dropout
//!   `(seed, step)` pair), packed straight from the caller's slice;
//! - a host buffer ([`Slot`]) written by an earlier dispatch or computed by the executor
//!   (dropout masks).
//!
//! Outputs are copied from the device's output buffer into their slot in the buffer's own element
//! type (fp16 outputs stay fp16 on the host), so an fp16 value passed from one ANE kernel to the
//! next is copied twice and converted never.
//!
//! The MIL text is the contract with every device: each kernel is printed and parsed back before
//! it is compiled, so devices run exactly the text `inspect --dump` writes.

use super::devices::Devices;
use super::timing::{Phase, PhaseTimes};
use super::ExecError;
use crate::params::ParamStore;
use ane_compiler::abi::{HostValue, KernelAbi};
use ane_compiler::dropout;
use ane_compiler::place::Placement;
use ane_compiler::plan::{Plan, StepValueKind};
use ane_compiler::ValueId;
use ane_device::KernelId;
use half::f16;
use rayon::prelude::*;
use std::collections::HashMap;
use std::time::Instant;

/// A caller's tensor for one run, by the position of its name in the `externals` list given to
/// [`CompiledPlan::new`].
pub type External<'a> = HostValue<'a>;

/// A host buffer for one value, in the element type of whoever writes it.
#[derive(Debug, Clone)]
enum Slot {
    F32(Vec<f32>),
    F16(Vec<f16>),
    I32(Vec<i32>),
}

impl Slot {
    fn view(&self) -> HostValue<'_> {
        match self {
            Slot::F32(v) => HostValue::F32(v),
            Slot::F16(v) => HostValue::F16(v),
            Slot::I32(v) => HostValue::I32(v),
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Slot::F32(v) => bytemuck::cast_slice_mut(v),
            Slot::F16(v) => bytemuck::cast_slice_mut(v),
            Slot::I32(v) => bytemuck::cast_slice_mut(v),
        }
    }
}

/// Where one dispatch input comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Slot(usize),
    External(usize),
    ParamHalf(usize),
    ParamMaster(usize),
}

/// A dropout mask the executor fills before each run.
#[derive(Debug, Clone, Copy)]
struct MaskSlot {
    slot: usize,
    site: u32,
    p: f32,
}

#[derive(Debug)]
struct CompiledKernel {
    name: String,
    placement: Placement,
    id: KernelId,
    abi: KernelAbi,
    /// For each output buffer, the boundary output positions stored in it.
    outputs_by_buffer: Vec<Vec<usize>>,
}

#[derive(Debug)]
struct BoundDispatch {
    kernel: usize,
    inputs: Vec<Source>,
    outputs: Vec<usize>,
}

/// Compile counts and per-step work of a compiled plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct PlanSummary {
    /// Distinct ANE-placed kernels (one compile each).
    pub ane_kernels: usize,
    /// Distinct host kernels (one compile each, on the simulator).
    pub host_kernels: usize,
    /// ANE-placed dispatches per run.
    pub ane_dispatches: usize,
    /// Host dispatches per run.
    pub host_dispatches: usize,
    /// FLOPs per run on ANE-placed kernels.
    pub ane_flops: u64,
    /// FLOPs per run on host kernels.
    pub host_flops: u64,
}

impl PlanSummary {
    /// Compiles the plan needed.
    pub fn compiles(&self) -> usize {
        self.ane_kernels + self.host_kernels
    }

    /// Dispatches per run.
    pub fn dispatches(&self) -> usize {
        self.ane_dispatches + self.host_dispatches
    }

    /// FLOPs per run.
    pub fn flops(&self) -> u64 {
        self.ane_flops + self.host_flops
    }
}

/// A plan whose kernels are compiled on devices, ready to run (see the module docs).
#[derive(Debug)]
pub struct CompiledPlan {
    plan: Plan,
    kernels: Vec<CompiledKernel>,
    dispatches: Vec<BoundDispatch>,
    slots: Vec<Slot>,
    slot_of: HashMap<ValueId, usize>,
    externals: Vec<(String, usize)>,
    masks: Vec<MaskSlot>,
    dropout_rng: Option<usize>,
}

impl CompiledPlan {
    /// Compiles every distinct kernel of `plan` on the device of its placement and binds every
    /// dispatch input. `params` must hold every parameter the plan reads (same names and sizes);
    /// `externals` names the step inputs the caller will pass to [`CompiledPlan::run`], in that
    /// order, with their element counts checked against the plan then.
    pub fn new(
        plan: Plan,
        devices: &mut Devices,
        params: &ParamStore,
        externals: &[&str],
    ) -> Result<CompiledPlan, ExecError> {
        let mut kernels = Vec::with_capacity(plan.kernels.len());
        devices.enforce_ane_rules(&plan.options.chip);
        for k in &plan.kernels {
            let text = ane_mil::print(&k.program);
            let program = ane_mil::parse(&text).map_err(|e| ExecError::Reparse {
                kernel: k.name.clone(),
                message: e.to_string(),
            })?;
            let id = devices
                .for_placement(k.placement)
                .compile(&program, &k.weights)
                .map_err(|source| ExecError::Device {
                    kernel: k.name.clone(),
                    source,
                })?;
            let mut outputs_by_buffer = vec![Vec::new(); k.abi.output_buffers().len()];
            for (position, slot) in k.abi.outputs().iter().enumerate() {
                outputs_by_buffer[slot.buffer].push(position);
            }
            kernels.push(CompiledKernel {
                name: k.name.clone(),
                placement: k.placement,
                id,
                abi: k.abi.clone(),
                outputs_by_buffer,
            });
        }

        let mut binder = Binder::default();
        let mut masks = Vec::new();
        let mut dropout_rng = None;
        let mut bound_externals = Vec::new();
        for input in &plan.step_inputs {
            let elements: usize = input.shape.iter().product();
            match &input.kind {
                StepValueKind::Param => {
                    let index = params.index_of(&input.name).ok_or_else(|| {
                        ExecError::MissingValue(format!(
                            "parameter `{}` in the parameter store",
                            input.name
                        ))
                    })?;
                    let have = params.params()[index].len();
                    if have != elements {
                        return Err(ExecError::Length {
                            name: input.name.clone(),
                            expected: elements,
                            got: have,
                        });
                    }
                    binder.params.insert(input.value, index);
                }
                StepValueKind::DropoutMask { site, p } => {
                    let slot = binder.new_slot(input.value, Slot::F32(vec![0.0; elements]));
                    masks.push(MaskSlot {
                        slot,
                        site: *site,
                        p: *p,
                    });
                }
                StepValueKind::Data | StepValueKind::Ids => {
                    let Some(position) = externals.iter().position(|&n| n == input.name) else {
                        return Err(ExecError::UnsupportedStepValue {
                            name: input.name.clone(),
                            kind: input.kind.to_string(),
                        });
                    };
                    if input.name == ane_compiler::DROPOUT_RNG_INPUT {
                        dropout_rng = Some(position);
                    }
                    binder.externals.insert(input.value, position);
                    bound_externals.push((input.name.clone(), position, elements));
                }
                other => {
                    return Err(ExecError::UnsupportedStepValue {
                        name: input.name.clone(),
                        kind: other.to_string(),
                    })
                }
            }
        }
        if !masks.is_empty() && dropout_rng.is_none() {
            return Err(ExecError::MissingValue(format!(
                "external `{}` to draw the dropout masks from",
                ane_compiler::DROPOUT_RNG_INPUT
            )));
        }
        let mut external_sizes = vec![(String::new(), usize::MAX); externals.len()];
        for (name, position, elements) in bound_externals {
            external_sizes[position] = (name, elements);
        }
        for (position, name) in externals.iter().enumerate() {
            if external_sizes[position].1 == usize::MAX {
                // Named by the caller but not read by this plan (e.g. labels of an evaluation
                // plan): accepted with any size.
                external_sizes[position] = (name.to_string(), usize::MAX);
            }
        }

        let mut dispatches = Vec::with_capacity(plan.dispatches.len());
        for d in &plan.dispatches {
            let kernel = &kernels[d.kernel];
            let abi = &kernel.abi;
            let mut outputs = Vec::with_capacity(d.outputs.len());
            for (position, &value) in d.outputs.iter().enumerate() {
                let out = &abi.outputs()[position];
                let dtype = abi.output_buffers()[out.buffer].1.dtype;
                let elements = out.elements();
                let slot = match dtype {
                    ane_mil::DType::Fp16 => Slot::F16(vec![f16::ZERO; elements]),
                    ane_mil::DType::Fp32 => Slot::F32(vec![0.0; elements]),
                    ane_mil::DType::Int32 => Slot::I32(vec![0; elements]),
                    other => {
                        return Err(ExecError::UnsupportedStepValue {
                            name: format!("output {position} of kernel {}", kernel.name),
                            kind: format!("{other:?} buffer"),
                        })
                    }
                };
                outputs.push(binder.new_slot(value, slot));
            }
            let mut inputs = Vec::with_capacity(d.inputs.len());
            for (position, &value) in d.inputs.iter().enumerate() {
                let buffer = abi.inputs()[position].buffer;
                let fp16_buffer = abi.input_buffers()[buffer].1.dtype == ane_mil::DType::Fp16;
                inputs.push(binder.source(value, fp16_buffer).ok_or_else(|| {
                    ExecError::MissingValue(format!(
                        "producer of {value} (input {position} of kernel {}) before it is read",
                        kernel.name
                    ))
                })?);
            }
            dispatches.push(BoundDispatch {
                kernel: d.kernel,
                inputs,
                outputs,
            });
        }
        Ok(CompiledPlan {
            plan,
            kernels,
            dispatches,
            slots: binder.slots,
            slot_of: binder.slot_of,
            externals: external_sizes,
            masks,
            dropout_rng,
        })
    }

    /// The plan this was compiled from.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Compile counts and per-run work.
    pub fn summary(&self) -> PlanSummary {
        let t = &self.plan.totals;
        PlanSummary {
            ane_kernels: self.plan.compiles.ane,
            host_kernels: self.plan.compiles.host,
            ane_dispatches: t.ane_dispatches,
            host_dispatches: t.host_dispatches,
            ane_flops: t.ane_flops,
            host_flops: t.host_flops,
        }
    }

    /// Runs every dispatch once: fills the dropout masks, packs each kernel's inputs straight
    /// into its device buffers, runs it, and copies its outputs into their host buffers. Wall
    /// time goes to `times` (staging, device for ANE-placed kernels, host for host kernels).
    pub fn run(
        &mut self,
        devices: &mut Devices,
        params: &ParamStore,
        externals: &[External<'_>],
        times: &mut PhaseTimes,
    ) -> Result<(), ExecError> {
        let staging = Instant::now();
        self.check_externals(externals)?;
        self.fill_masks(externals)?;
        times.add(Phase::Staging, staging.elapsed());

        let CompiledPlan {
            kernels,
            dispatches,
            slots,
            ..
        } = self;
        for dispatch in dispatches.iter() {
            let kernel = &kernels[dispatch.kernel];
            let device = devices.for_placement(kernel.placement);
            let staging = Instant::now();
            for buffer in 0..kernel.abi.input_buffers().len() {
                let value = |position: usize| match dispatch.inputs[position] {
                    Source::Slot(s) => slots[s].view(),
                    Source::External(e) => externals[e],
                    Source::ParamHalf(p) => HostValue::F16(params.params()[p].half()),
                    Source::ParamMaster(p) => HostValue::F32(params.params()[p].master()),
                };
                let mut packed = Ok(());
                device
                    .write_input(kernel.id, buffer, &mut |dst| {
                        packed = kernel.abi.pack_input(buffer, &value, dst);
                    })
                    .map_err(|source| ExecError::Device {
                        kernel: kernel.name.clone(),
                        source,
                    })?;
                packed.map_err(|source| ExecError::Abi {
                    kernel: kernel.name.clone(),
                    source,
                })?;
            }
            times.add(Phase::Staging, staging.elapsed());

            let running = Instant::now();
            device.run(kernel.id).map_err(|source| ExecError::Device {
                kernel: kernel.name.clone(),
                source,
            })?;
            let phase = match kernel.placement {
                Placement::Ane => Phase::Device,
                Placement::Host => Phase::Host,
            };
            times.add(phase, running.elapsed());

            let staging = Instant::now();
            for (buffer, positions) in kernel.outputs_by_buffer.iter().enumerate() {
                let mut copied = Ok(());
                device
                    .read_output(kernel.id, buffer, &mut |src| {
                        for &position in positions {
                            match kernel.abi.output_bytes(position, src) {
                                Ok(bytes) => slots[dispatch.outputs[position]]
                                    .bytes_mut()
                                    .copy_from_slice(bytes),
                                Err(e) => {
                                    copied = Err(e);
                                    return;
                                }
                            }
                        }
                    })
                    .map_err(|source| ExecError::Device {
                        kernel: kernel.name.clone(),
                        source,
                    })?;
                copied.map_err(|source| ExecError::Abi {
                    kernel: kernel.name.clone(),
                    source,
                })?;
            }
            times.add(Phase::Staging, staging.elapsed());
        }
        Ok(())
    }

    /// The host copy of `value` after a run (f32, f16 or i32, as its producer wrote it), or
    /// `None` when no dispatch produces it.
    pub fn value(&self, value: ValueId) -> Option<HostValue<'_>> {
        self.slot_of.get(&value).map(|&s| self.slots[s].view())
    }

    /// The host copy of the graph output named `name` after a run.
    pub fn output(&self, name: &str) -> Option<HostValue<'_>> {
        let value = self.plan.graph.output_value(name).ok()?;
        self.value(value)
    }

    fn check_externals(&self, externals: &[External<'_>]) -> Result<(), ExecError> {
        if externals.len() != self.externals.len() {
            return Err(ExecError::Length {
                name: "the list of external inputs".into(),
                expected: self.externals.len(),
                got: externals.len(),
            });
        }
        for ((name, expected), given) in self.externals.iter().zip(externals) {
            if *expected != usize::MAX && given.len() != *expected {
                return Err(ExecError::Length {
                    name: name.clone(),
                    expected: *expected,
                    got: given.len(),
                });
            }
        }
        Ok(())
    }

    /// Fills every dropout mask from the `(seed, step)` external: `1/(1−p)` where
    /// [`dropout::keep`] keeps the element, 0 elsewhere — the reference evaluator's exact values.
    fn fill_masks(&mut self, externals: &[External<'_>]) -> Result<(), ExecError> {
        let Some(rng) = self.dropout_rng else {
            return Ok(());
        };
        let (seed, step) = match externals[rng] {
            HostValue::I32(&[seed, step]) => (seed, step),
            _ => {
                return Err(ExecError::MissingValue(format!(
                    "i32 pair (seed, step) in `{}`",
                    ane_compiler::DROPOUT_RNG_INPUT
                )))
            }
        };
        for mask in &self.masks {
            let Slot::F32(values) = &mut self.slots[mask.slot] else {
                unreachable!("dropout masks are f32 slots");
            };
            let scale = dropout::keep_scale(mask.p) as f32;
            const CHUNK: usize = 16 * 1024;
            values
                .par_chunks_mut(CHUNK)
                .enumerate()
                .for_each(|(c, chunk)| {
                    let base = (c * CHUNK) as u64;
                    for (i, v) in chunk.iter_mut().enumerate() {
                        let keep = dropout::keep(seed, step, mask.site, base + i as u64, mask.p);
                        *v = if keep { scale } else { 0.0 };
                    }
                });
        }
        Ok(())
    }
}

/// Assigns host buffers to values while dispatches are bound in execution order.
#[derive(Default)]
struct Binder {
    slots: Vec<Slot>,
    slot_of: HashMap<ValueId, usize>,
    params: HashMap<ValueId, usize>,
    externals: HashMap<ValueId, usize>,
}

impl Binder {
    fn new_slot(&mut self, value: ValueId, slot: Slot) -> usize {
        let index = self.slots.len();
        self.slots.push(slot);
        self.slot_of.insert(value, index);
        index
    }

    fn source(&self, value: ValueId, fp16_buffer: bool) -> Option<Source> {
        if let Some(&p) = self.params.get(&value) {
            return Some(if fp16_buffer {
                Source::ParamHalf(p)
            } else {
                Source::ParamMaster(p)
            });
        }
        if let Some(&e) = self.externals.get(&value) {
            return Some(Source::External(e));
        }
        self.slot_of.get(&value).map(|&s| Source::Slot(s))
    }
}
