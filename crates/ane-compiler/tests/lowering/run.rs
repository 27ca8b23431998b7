//! Running lowered kernels on the simulator through their ABI: host tensors are packed into the
//! kernel's input buffers exactly as the executor will, outputs unpacked by position.

use ane_compiler::abi::HostValue;
use ane_compiler::eval::{Feeds, Tensor};
use ane_compiler::lower::LoweredKernel;
use ane_compiler::{DType, Graph, ValueId};
use ane_sim::{PreparedProgram, SimOptions, Simulator};

/// A host tensor in the form `HostValue` borrows: f32 data or i32 ids.
#[derive(Debug, Clone, PartialEq)]
pub enum Host {
    F32(Vec<f32>),
    I32(Vec<i32>),
}

impl Host {
    /// The f32 (or i32) values of an evaluator tensor of `dtype`.
    pub fn of(tensor: &Tensor, dtype: DType) -> Host {
        match dtype {
            DType::F32 => Host::F32(tensor.to_f32()),
            DType::I32 => Host::I32(tensor.data().iter().map(|&v| v as i32).collect()),
        }
    }

    pub fn value(&self) -> HostValue<'_> {
        match self {
            Host::F32(v) => HostValue::F32(v),
            Host::I32(v) => HostValue::I32(v),
        }
    }
}

/// The host tensors of `values` from `feeds` (graph inputs by name).
pub fn host_inputs(graph: &Graph, feeds: &Feeds, values: &[ValueId]) -> Vec<Host> {
    values
        .iter()
        .map(|&v| {
            let input = graph
                .inputs()
                .iter()
                .find(|i| i.value == v)
                .expect("boundary inputs of these tests are graph inputs");
            Host::of(&feeds[&input.name], graph.value_type(v).unwrap().dtype)
        })
        .collect()
}

/// A kernel prepared on the simulator (fp32 programs run exactly in f32).
pub struct SimKernel<'k> {
    pub kernel: &'k LoweredKernel,
    pub program: PreparedProgram,
}

impl<'k> SimKernel<'k> {
    pub fn new(kernel: &'k LoweredKernel) -> Self {
        let program = Simulator::prepare(&kernel.program, &kernel.weights, SimOptions::default())
            .unwrap_or_else(|e| panic!("the simulator rejects the kernel: {e}"));
        SimKernel { kernel, program }
    }

    /// Packs `inputs` (by boundary position), runs, and unpacks every boundary output.
    pub fn run(&mut self, inputs: &[Host]) -> Vec<Vec<f32>> {
        let abi = &self.kernel.abi;
        for buffer in 0..abi.input_buffers().len() {
            let mut result = Ok(());
            self.program
                .write_input(buffer, &mut |dst| {
                    result = abi.pack_input(buffer, &|p| inputs[p].value(), dst);
                })
                .unwrap();
            result.unwrap();
        }
        self.program.run().unwrap_or_else(|e| panic!("run: {e}"));
        let mut outputs = Vec::with_capacity(abi.outputs().len());
        for (position, slot) in abi.outputs().iter().enumerate() {
            let mut values = vec![0f32; slot.elements()];
            let mut result = Ok(());
            self.program
                .read_output(slot.buffer, &mut |src| {
                    result = abi.unpack_output_into(position, src, &mut values);
                })
                .unwrap();
            result.unwrap();
            outputs.push(values);
        }
        outputs
    }
}

/// Lowers-and-runs convenience for one-off kernels.
pub fn run_once(kernel: &LoweredKernel, inputs: &[Host]) -> Vec<Vec<f32>> {
    SimKernel::new(kernel).run(inputs)
}
