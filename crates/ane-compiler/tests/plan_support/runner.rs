//! A minimal plan runner for the compiler's own tests (the real executor lives in ane-trainer):
//! every kernel is compiled once on `ane_device::SimDevice`; for each dispatch the inputs are
//! packed from host value buffers with `KernelAbi::pack_input`, the kernel runs, and the outputs
//! are unpacked with `KernelAbi::unpack_output`. Dropout masks are computed with
//! `dropout::keep`, as the executor will.

use ane_compiler::abi::HostValue;
use ane_compiler::dropout;
use ane_compiler::eval::{Feeds, Tensor};
use ane_compiler::lower::{lower_kernel, KernelSpec, LowerOptions};
use ane_compiler::plan::{Plan, StepValueKind};
use ane_compiler::{DType, Graph, ValueId};
use ane_device::{Device, KernelId, SimDevice};
use ane_sim::{SimOptions, Simulator};
use std::collections::{BTreeMap, HashMap};

/// A host value buffer.
#[derive(Debug, Clone)]
pub enum HostData {
    F32(Vec<f32>),
    I32(Vec<i32>),
}

impl HostData {
    fn view(&self) -> HostValue<'_> {
        match self {
            HostData::F32(v) => HostValue::F32(v),
            HostData::I32(v) => HostValue::I32(v),
        }
    }

    /// The values as f32.
    pub fn to_f32(&self) -> Vec<f32> {
        match self {
            HostData::F32(v) => v.clone(),
            HostData::I32(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }
}

/// `feeds` (f64 evaluator tensors) as host buffers of each input's dtype.
pub fn host_feeds(graph: &Graph, feeds: &Feeds) -> BTreeMap<String, HostData> {
    graph
        .inputs()
        .iter()
        .map(|input| {
            let t = &feeds[&input.name];
            let data = match graph.value_type(input.value).unwrap().dtype {
                DType::F32 => HostData::F32(t.to_f32()),
                DType::I32 => HostData::I32(t.data().iter().map(|&x| x as i32).collect()),
            };
            (input.name.clone(), data)
        })
        .collect()
}

/// Runs one step of `plan` on the simulator device; returns every step output by name. Checks
/// that the device compiled exactly the plan's number of kernels.
pub fn run_plan(plan: &Plan, feeds: &BTreeMap<String, HostData>) -> BTreeMap<String, Vec<f32>> {
    let mut device = SimDevice::new();
    let compiled: Vec<KernelId> = plan
        .kernels
        .iter()
        .map(|k| {
            device
                .compile(&k.program, &k.weights)
                .unwrap_or_else(|e| panic!("kernel {} does not compile: {e}", k.name))
        })
        .collect();
    assert_eq!(
        device.compile_count(),
        plan.compiles.ane + plan.compiles.host
    );
    let mut values: HashMap<ValueId, HostData> = HashMap::new();
    for input in &plan.step_inputs {
        let data = match &input.kind {
            StepValueKind::DropoutMask { site, p } => {
                let HostData::I32(rng) = &feeds[ane_compiler::DROPOUT_RNG_INPUT] else {
                    panic!("the dropout rng must be i32");
                };
                let n: usize = input.shape.iter().product();
                HostData::F32(
                    (0..n as u64)
                        .map(|i| {
                            if dropout::keep(rng[0], rng[1], *site, i, *p) {
                                dropout::keep_scale(*p) as f32
                            } else {
                                0.0
                            }
                        })
                        .collect(),
                )
            }
            _ => feeds
                .get(&input.name)
                .unwrap_or_else(|| panic!("no feed for step input {}", input.name))
                .clone(),
        };
        values.insert(input.value, data);
    }
    for (d, dispatch) in plan.dispatches.iter().enumerate() {
        let kernel = &plan.kernels[dispatch.kernel];
        let abi = &kernel.abi;
        let id = compiled[dispatch.kernel];
        for buffer in 0..abi.input_buffers().len() {
            let mut result = Ok(());
            device
                .write_input(id, buffer, &mut |dst| {
                    let value = |p: usize| -> HostValue<'_> {
                        values
                            .get(&dispatch.inputs[p])
                            .unwrap_or_else(|| {
                                panic!(
                                    "dispatch {d}: input {} not computed yet",
                                    dispatch.inputs[p]
                                )
                            })
                            .view()
                    };
                    result = abi.pack_input(buffer, &value, dst);
                })
                .unwrap();
            result.unwrap_or_else(|e| panic!("dispatch {d} ({}): {e}", kernel.name));
        }
        device
            .run(id)
            .unwrap_or_else(|e| panic!("dispatch {d} ({}) fails: {e}", kernel.name));
        for buffer in 0..abi.output_buffers().len() {
            let mut result = Ok(());
            device
                .read_output(id, buffer, &mut |src| {
                    result = abi.unpack_output(buffer, src, &mut |p, vals| {
                        values.insert(dispatch.outputs[p], HostData::F32(vals.to_vec()));
                    });
                })
                .unwrap();
            result.unwrap_or_else(|e| panic!("dispatch {d} ({}): {e}", kernel.name));
        }
    }
    plan.step_outputs
        .iter()
        .map(|o| {
            let v = values
                .get(&o.value)
                .unwrap_or_else(|| panic!("step output {} was never produced", o.name));
            (o.name.clone(), v.to_f32())
        })
        .collect()
}

/// Runs the whole training graph as one fp32 multi-input kernel on the simulator (the
/// unpartitioned reference); returns every graph output by name.
pub fn run_unpartitioned(
    graph: &Graph,
    feeds: &BTreeMap<String, HostData>,
) -> BTreeMap<String, Vec<f32>> {
    let inputs: Vec<ValueId> = graph
        .inputs()
        .iter()
        .map(|i| i.value)
        .filter(|v| graph.nodes().iter().any(|n| n.inputs.contains(v)))
        .collect();
    let mut outputs: Vec<ValueId> = Vec::new();
    for o in graph.outputs() {
        if !outputs.contains(&o.value) {
            outputs.push(o.value);
        }
    }
    let spec = KernelSpec {
        graph,
        nodes: (0..graph.nodes().len()).collect(),
        inputs: inputs.clone(),
        outputs: outputs.clone(),
    };
    let kernel = lower_kernel(&spec, &LowerOptions::host()).expect("the whole graph lowers");
    let mut sim = Simulator::prepare(&kernel.program, &kernel.weights, SimOptions::default())
        .expect("the whole-graph kernel prepares");
    let by_value: HashMap<ValueId, &HostData> = graph
        .inputs()
        .iter()
        .map(|i| (i.value, &feeds[&i.name]))
        .collect();
    for buffer in 0..kernel.abi.input_buffers().len() {
        let mut result = Ok(());
        sim.write_input(buffer, &mut |dst| {
            let value = |p: usize| by_value[&inputs[p]].view();
            result = kernel.abi.pack_input(buffer, &value, dst);
        })
        .unwrap();
        result.unwrap();
    }
    sim.run().expect("the whole-graph kernel runs");
    let mut produced: HashMap<ValueId, Vec<f32>> = HashMap::new();
    for buffer in 0..kernel.abi.output_buffers().len() {
        let mut result = Ok(());
        sim.read_output(buffer, &mut |src| {
            result = kernel.abi.unpack_output(buffer, src, &mut |p, vals| {
                produced.insert(outputs[p], vals.to_vec());
            });
        })
        .unwrap();
        result.unwrap();
    }
    graph
        .outputs()
        .iter()
        .map(|o| (o.name.clone(), produced[&o.value].clone()))
        .collect()
}

/// Random feeds for a model: uniform(−scale, scale) floats (parameters and data), ids below
/// `vocab` for `tokens`, labels below `classes`.
pub fn model_feeds(graph: &Graph, seed: u64, scale: f64, classes: usize) -> Feeds {
    let mut rng = super::rng::TestRng::new(seed);
    let mut feeds = Feeds::new();
    for input in graph.inputs() {
        let ty = graph.value_type(input.value).unwrap();
        let dims = ty.shape.dims();
        let t = match ty.dtype {
            DType::F32 => rng.tensor(dims, -scale, scale),
            DType::I32 => rng.ids(dims, classes),
        };
        feeds.insert(input.name.clone(), t);
    }
    feeds
}

/// The f64 evaluator's outputs as f32 vectors.
pub fn reference(graph: &Graph, feeds: &Feeds) -> BTreeMap<String, Vec<f32>> {
    ane_compiler::eval::evaluate(graph, feeds)
        .expect("the reference evaluates")
        .into_iter()
        .map(|(name, t): (String, Tensor)| (name, t.to_f32()))
        .collect()
}
