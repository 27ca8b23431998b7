//! A prepared program: kernels over planned buffers, ready to run many times. Inputs are
//! written and outputs read as raw little-endian bytes of their declared dtype (the `Device`
//! contract); typed conveniences convert for tests and tools.

use crate::buffers::Buffers;
use crate::error::SimError;
pub(crate) use crate::io::Port;
use crate::io::TensorDesc;
use crate::io::{decode_floats, decode_ints, encode_floats, encode_ints};
use crate::kernel::{RunCx, Scratch, Step};
use crate::memory::format_bytes;
use crate::prepare::plan::Plan;
use ane_mil::DType;
use rayon::ThreadPool;
use std::sync::Arc;

/// A program resolved into kernels over planned buffers; see [`Simulator::prepare`](crate::Simulator::prepare).
///
/// Buffers persist between runs: inputs keep their values until rewritten, outputs stay
/// readable until the next [`run`](PreparedProgram::run). The buffers are allocated on first
/// use ([`allocate`](PreparedProgram::allocate)); after that `run` does no parsing, no string
/// matching and no allocation.
#[derive(Debug)]
pub struct PreparedProgram {
    function: String,
    input_descs: Vec<TensorDesc>,
    output_descs: Vec<TensorDesc>,
    inputs: Vec<Port>,
    outputs: Vec<Port>,
    steps: Vec<Step>,
    buffers: Buffers,
    scratch: Scratch,
    pool: Option<Arc<ThreadPool>>,
    /// The configured memory limit ([`SimOptions::memory_limit`](crate::SimOptions)).
    memory_limit: Option<u64>,
}

fn names(descs: &[TensorDesc]) -> String {
    if descs.is_empty() {
        return "none".into();
    }
    descs
        .iter()
        .map(|d| format!("`{}`", d.name))
        .collect::<Vec<_>>()
        .join(", ")
}

impl PreparedProgram {
    pub(crate) fn new(
        function: String,
        inputs: Vec<Port>,
        outputs: Vec<Port>,
        plan: Plan,
        pool: Option<Arc<ThreadPool>>,
        memory_limit: Option<u64>,
    ) -> Self {
        PreparedProgram {
            function,
            input_descs: inputs.iter().map(|p| p.desc.clone()).collect(),
            output_descs: outputs.iter().map(|p| p.desc.clone()).collect(),
            inputs,
            outputs,
            steps: plan.steps,
            buffers: plan.buffers,
            scratch: plan.scratch,
            pool,
            memory_limit,
        }
    }

    /// Bytes of memory the program's buffers and scratch take once allocated (constants
    /// included); `None` when the size overflows 64 bits.
    pub fn memory_bytes(&self) -> Option<u64> {
        self.buffers
            .total_bytes()?
            .checked_add(self.scratch.need().bytes()?)
    }

    /// Allocates the buffers and scratch now, after checking their total against the memory
    /// limit ([`SimOptions::memory_limit`](crate::SimOptions), else the available memory).
    /// Writing an input, reading an output or running does this on first use; calling it
    /// first separates an out-of-memory error from the rest. Does nothing once allocated.
    pub fn allocate(&mut self) -> Result<(), SimError> {
        if self.buffers.is_allocated() {
            return Ok(());
        }
        let Some(total) = self.memory_bytes() else {
            return Err(SimError::TooLarge {
                what: "the program".into(),
                message: "its buffers need more bytes than 64-bit sizes can count; \
                          declare smaller shapes"
                    .into(),
            });
        };
        if let Some(limit) = crate::memory::effective_limit(self.memory_limit) {
            if total > limit {
                return Err(SimError::TooLarge {
                    what: "the program".into(),
                    message: format!(
                        "its buffers need {} but only {} of memory is available; \
                         declare smaller shapes (a smaller batch)",
                        format_bytes(total),
                        format_bytes(limit)
                    ),
                });
            }
        }
        self.scratch.allocate().map_err(|_| SimError::TooLarge {
            what: "the program".into(),
            message: format!(
                "cannot reserve {} of scratch memory; free memory or declare smaller shapes",
                self.scratch
                    .need()
                    .bytes()
                    .map_or_else(|| "more than 16 EiB".into(), format_bytes)
            ),
        })?;
        self.buffers.allocate()
    }

    /// The name of the function this program runs.
    pub fn function_name(&self) -> &str {
        &self.function
    }

    /// The inputs (function parameters), in order.
    pub fn inputs(&self) -> &[TensorDesc] {
        &self.input_descs
    }

    /// The outputs, in order.
    pub fn outputs(&self) -> &[TensorDesc] {
        &self.output_descs
    }

    /// Number of kernels a run executes (ops that only reinterpret shapes are free).
    pub fn kernel_count(&self) -> usize {
        self.steps.len()
    }

    /// The index of input `name`.
    pub fn input_index(&self, name: &str) -> Result<usize, SimError> {
        self.input_descs
            .iter()
            .position(|d| d.name == name)
            .ok_or_else(|| SimError::NoSuchPort {
                what: "input",
                key: format!("`{name}`"),
                available: names(&self.input_descs),
            })
    }

    /// The index of output `name`.
    pub fn output_index(&self, name: &str) -> Result<usize, SimError> {
        self.output_descs
            .iter()
            .position(|d| d.name == name)
            .ok_or_else(|| SimError::NoSuchPort {
                what: "output",
                key: format!("`{name}`"),
                available: names(&self.output_descs),
            })
    }

    /// Gives `fill` the raw bytes of input `index` (little-endian, declared dtype, row-major) to
    /// write. Bool inputs read any nonzero byte as true.
    pub fn write_input(
        &mut self,
        index: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), SimError> {
        let available = names(&self.input_descs);
        if index >= self.inputs.len() {
            return Err(SimError::NoSuchPort {
                what: "input",
                key: index.to_string(),
                available,
            });
        }
        self.allocate()?;
        self.inputs[index].write(&mut self.buffers, fill)
    }

    /// Gives `read` the raw bytes of output `index` from the last run.
    pub fn read_output(
        &mut self,
        index: usize,
        read: &mut dyn FnMut(&[u8]),
    ) -> Result<(), SimError> {
        let available = names(&self.output_descs);
        if index >= self.outputs.len() {
            return Err(SimError::NoSuchPort {
                what: "output",
                key: index.to_string(),
                available,
            });
        }
        self.allocate()?;
        self.outputs[index].read(&mut self.buffers, read)
    }

    /// Runs every kernel on the current inputs.
    pub fn run(&mut self) -> Result<(), SimError> {
        self.allocate()?;
        let steps = &self.steps;
        let buffers = &mut self.buffers;
        let scratch = &mut self.scratch;
        let mut body = move || {
            let threads = rayon::current_num_threads();
            let mut cx = RunCx {
                scratch,
                parallel: threads > 1,
            };
            for step in steps {
                step.kernel
                    .run(buffers, &mut cx)
                    .map_err(|e| e.into_sim(&step.label))?;
            }
            Ok(())
        };
        match &self.pool {
            Some(pool) => pool.install(body),
            None => body(),
        }
    }

    /// Writes input `name` from raw bytes (little-endian, declared dtype, row-major).
    pub fn set_input_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<(), SimError> {
        let index = self.input_index(name)?;
        let desc = &self.input_descs[index];
        if bytes.len() != desc.byte_len() {
            return Err(SimError::Input {
                name: name.to_string(),
                message: format!(
                    "expected {} bytes ({} of {}), got {}",
                    desc.byte_len(),
                    desc.num_elements(),
                    desc.ty,
                    bytes.len()
                ),
            });
        }
        self.write_input(index, &mut |dst| dst.copy_from_slice(bytes))
    }

    fn input_desc(&self, name: &str, count: usize) -> Result<&TensorDesc, SimError> {
        let desc = &self.input_descs[self.input_index(name)?];
        if count != desc.num_elements() {
            return Err(SimError::Input {
                name: name.to_string(),
                message: format!(
                    "expected {} values for {}, got {count}",
                    desc.num_elements(),
                    desc.ty
                ),
            });
        }
        Ok(desc)
    }

    fn wrong_dtype(name: &str, dtype: DType, given: &str) -> SimError {
        SimError::Input {
            name: name.to_string(),
            message: format!("is declared {dtype}; {given} values do not fit it"),
        }
    }

    /// Writes float input `name` (fp16 inputs round to nearest even).
    pub fn set_input_f32(&mut self, name: &str, values: &[f32]) -> Result<(), SimError> {
        let dtype = self.input_desc(name, values.len())?.ty.dtype;
        let bytes =
            encode_floats(dtype, values).ok_or_else(|| Self::wrong_dtype(name, dtype, "float"))?;
        self.set_input_bytes(name, &bytes)
    }

    /// Writes integer input `name` (every value must fit the declared integer type).
    pub fn set_input_i32(&mut self, name: &str, values: &[i32]) -> Result<(), SimError> {
        let dtype = self.input_desc(name, values.len())?.ty.dtype;
        if !dtype.is_int() {
            return Err(Self::wrong_dtype(name, dtype, "integer"));
        }
        let bytes = encode_ints(dtype, values).map_err(|v| SimError::Input {
            name: name.to_string(),
            message: format!("value {v} does not fit {dtype}"),
        })?;
        self.set_input_bytes(name, &bytes)
    }

    /// Writes bool input `name`.
    pub fn set_input_bool(&mut self, name: &str, values: &[bool]) -> Result<(), SimError> {
        let dtype = self.input_desc(name, values.len())?.ty.dtype;
        if dtype != DType::Bool {
            return Err(Self::wrong_dtype(name, dtype, "bool"));
        }
        let bytes: Vec<u8> = values.iter().map(|&b| u8::from(b)).collect();
        self.set_input_bytes(name, &bytes)
    }

    /// The raw bytes of output `name`.
    pub fn output_bytes(&mut self, name: &str) -> Result<Vec<u8>, SimError> {
        let index = self.output_index(name)?;
        let mut out = Vec::new();
        self.read_output(index, &mut |b| out = b.to_vec())?;
        Ok(out)
    }

    fn output_dtype(&self, name: &str) -> Result<DType, SimError> {
        Ok(self.output_descs[self.output_index(name)?].ty.dtype)
    }

    /// Float output `name` as f32.
    pub fn output_f32(&mut self, name: &str) -> Result<Vec<f32>, SimError> {
        let dtype = self.output_dtype(name)?;
        let bytes = self.output_bytes(name)?;
        decode_floats(dtype, &bytes).ok_or_else(|| SimError::Output {
            name: name.to_string(),
            message: format!("is {dtype}, not a float tensor"),
        })
    }

    /// Integer output `name` as i32.
    pub fn output_i32(&mut self, name: &str) -> Result<Vec<i32>, SimError> {
        let dtype = self.output_dtype(name)?;
        let bytes = self.output_bytes(name)?;
        decode_ints(dtype, &bytes).ok_or_else(|| SimError::Output {
            name: name.to_string(),
            message: format!("is {dtype}, not an integer tensor"),
        })
    }

    /// Bool output `name`.
    pub fn output_bool(&mut self, name: &str) -> Result<Vec<bool>, SimError> {
        let dtype = self.output_dtype(name)?;
        if dtype != DType::Bool {
            return Err(SimError::Output {
                name: name.to_string(),
                message: format!("is {dtype}, not a bool tensor"),
            });
        }
        Ok(self.output_bytes(name)?.iter().map(|&b| b != 0).collect())
    }
}
