//! The simulator device: every kernel is a program prepared by `ane_sim` (compiling = preparing),
//! run on the CPU with the ANE's fp16 numerics. Any number of kernels can live side by side;
//! each keeps its own buffers, and inputs and outputs are the raw little-endian bytes of the
//! function's declared types, as on the ANE.

use crate::device::{Device, DeviceError, DeviceInfo, KernelId, KernelIo};
use ane_mil::{Program, WeightFiles};
use ane_sim::{PreparedProgram, SimError, SimOptions, Simulator};

/// A [`Device`] backed by the MIL simulator.
#[derive(Debug, Default)]
pub struct SimDevice {
    options: SimOptions,
    kernels: Vec<Option<SimKernel>>,
    compiles: usize,
}

#[derive(Debug)]
struct SimKernel {
    program: PreparedProgram,
    io: KernelIo,
}

impl SimDevice {
    /// A simulator device with default options (fp32 stays fp32, rayon's global pool).
    pub fn new() -> Self {
        Self::default()
    }

    /// A simulator device preparing every kernel with `options`.
    pub fn with_options(options: SimOptions) -> Self {
        SimDevice {
            options,
            ..Self::default()
        }
    }

    /// The options kernels are prepared with.
    pub fn options(&self) -> &SimOptions {
        &self.options
    }

    /// The prepared program behind a kernel (for inspection and tests).
    pub fn program(&self, kernel: KernelId) -> Result<&PreparedProgram, DeviceError> {
        Ok(&self.kernel(kernel)?.program)
    }

    /// Number of kernels compiled and not yet released.
    pub fn live_kernels(&self) -> usize {
        self.kernels.iter().filter(|k| k.is_some()).count()
    }

    fn kernel(&self, kernel: KernelId) -> Result<&SimKernel, DeviceError> {
        self.kernels
            .get(kernel.0)
            .and_then(Option::as_ref)
            .ok_or(DeviceError::UnknownKernel(kernel))
    }

    fn kernel_mut(&mut self, kernel: KernelId) -> Result<&mut SimKernel, DeviceError> {
        self.kernels
            .get_mut(kernel.0)
            .and_then(Option::as_mut)
            .ok_or(DeviceError::UnknownKernel(kernel))
    }
}

/// Maps a buffer-access error of the simulator to the device's error for that buffer.
fn buffer_error(kernel: KernelId, what: &'static str, index: usize, err: SimError) -> DeviceError {
    match err {
        SimError::NoSuchPort { .. } => DeviceError::NoSuchBuffer {
            kernel,
            what,
            index,
        },
        other => DeviceError::Run(other.to_string()),
    }
}

impl Device for SimDevice {
    fn info(&self) -> DeviceInfo {
        let mode = if self.options.fp32_like_ane {
            "fp32 computed as fp16"
        } else {
            "fp32 computed exactly"
        };
        DeviceInfo {
            name: "sim".into(),
            description: format!("MIL simulator: fp16 storage, f32 compute per op, {mode}"),
        }
    }

    fn enforce_hardware_rules(&mut self, caps: Option<ane_mil::chip::ChipCaps>) {
        self.options.hardware_rules = caps;
    }

    fn compile(
        &mut self,
        program: &Program,
        weights: &WeightFiles,
    ) -> Result<KernelId, DeviceError> {
        let prepared = Simulator::prepare(program, weights, self.options.clone()).map_err(|e| {
            DeviceError::Compile {
                message: e.to_string(),
                dump_path: None,
            }
        })?;
        self.compiles += 1;
        let describe = |d: &ane_sim::TensorDesc| (d.name.clone(), d.ty.clone());
        let io = KernelIo {
            inputs: prepared.inputs().iter().map(describe).collect(),
            outputs: prepared.outputs().iter().map(describe).collect(),
        };
        self.kernels.push(Some(SimKernel {
            program: prepared,
            io,
        }));
        Ok(KernelId(self.kernels.len() - 1))
    }

    fn io(&self, kernel: KernelId) -> Result<&KernelIo, DeviceError> {
        Ok(&self.kernel(kernel)?.io)
    }

    fn write_input(
        &mut self,
        kernel: KernelId,
        index: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), DeviceError> {
        self.kernel_mut(kernel)?
            .program
            .write_input(index, fill)
            .map_err(|e| buffer_error(kernel, "input", index, e))
    }

    fn run(&mut self, kernel: KernelId) -> Result<(), DeviceError> {
        self.kernel_mut(kernel)?
            .program
            .run()
            .map_err(|e| DeviceError::Run(e.to_string()))
    }

    fn read_output(
        &mut self,
        kernel: KernelId,
        index: usize,
        read: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DeviceError> {
        self.kernel_mut(kernel)?
            .program
            .read_output(index, read)
            .map_err(|e| buffer_error(kernel, "output", index, e))
    }

    fn release(&mut self, kernel: KernelId) -> Result<(), DeviceError> {
        match self.kernels.get_mut(kernel.0) {
            Some(slot @ Some(_)) => {
                *slot = None;
                Ok(())
            }
            _ => Err(DeviceError::UnknownKernel(kernel)),
        }
    }

    fn compile_count(&self) -> usize {
        self.compiles
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ane_mil::parse;
    use half::f16;

    fn program(op: &str) -> Program {
        parse(&format!(
            "program(1.3)\n{{\n    func main<ios18>(tensor<fp16, [4]> x, tensor<fp16, [4]> y) {{\n        \
             tensor<fp16, [4]> z = {op}(x = x, y = y)[name = string(\"z\")];\n    }} -> (z);\n}}\n"
        ))
        .unwrap()
    }

    fn write(dev: &mut SimDevice, k: KernelId, index: usize, values: &[f32]) {
        dev.write_input(k, index, &mut |bytes| {
            for (c, v) in bytes.chunks_exact_mut(2).zip(values) {
                c.copy_from_slice(&f16::from_f32(*v).to_le_bytes());
            }
        })
        .unwrap();
    }

    fn read(dev: &mut SimDevice, k: KernelId) -> Vec<f32> {
        let mut out = Vec::new();
        dev.read_output(k, 0, &mut |bytes| {
            out = bytes
                .chunks_exact(2)
                .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect();
        })
        .unwrap();
        out
    }

    #[test]
    fn several_kernels_run_side_by_side() {
        let mut dev = SimDevice::new();
        let add = dev.compile(&program("add"), &WeightFiles::new()).unwrap();
        let mul = dev.compile(&program("mul"), &WeightFiles::new()).unwrap();
        assert_eq!(dev.compile_count(), 2);
        assert_eq!(dev.io(add).unwrap().inputs.len(), 2);
        assert_eq!(dev.io(mul).unwrap().outputs[0].0, "z");
        for k in [add, mul] {
            write(&mut dev, k, 0, &[1.0, 2.0, 3.0, 4.0]);
            write(&mut dev, k, 1, &[2.0, 2.0, 2.0, 2.0]);
        }
        dev.run(add).unwrap();
        dev.run(mul).unwrap();
        assert_eq!(read(&mut dev, add), vec![3.0, 4.0, 5.0, 6.0]);
        assert_eq!(read(&mut dev, mul), vec![2.0, 4.0, 6.0, 8.0]);
        dev.release(add).unwrap();
        assert!(matches!(dev.run(add), Err(DeviceError::UnknownKernel(_))));
        assert!(matches!(
            dev.release(add),
            Err(DeviceError::UnknownKernel(_))
        ));
        dev.run(mul).unwrap();
        assert_eq!(dev.live_kernels(), 1);
        assert!(matches!(
            dev.write_input(mul, 2, &mut |_| {}),
            Err(DeviceError::NoSuchBuffer {
                what: "input",
                index: 2,
                ..
            })
        ));
        assert!(matches!(
            dev.read_output(mul, 1, &mut |_| {}),
            Err(DeviceError::NoSuchBuffer { what: "output", .. })
        ));
    }

    #[test]
    fn invalid_programs_fail_to_compile_and_are_not_counted() {
        let mut dev = SimDevice::with_options(SimOptions {
            fp32_like_ane: true,
            ..SimOptions::default()
        });
        let mut bad = program("add");
        bad.functions[0].outputs = vec!["nope".into()];
        let err = dev.compile(&bad, &WeightFiles::new()).unwrap_err();
        assert!(matches!(err, DeviceError::Compile { .. }), "{err}");
        assert!(err.to_string().contains("nope"), "{err}");
        assert_eq!(dev.compile_count(), 0);
        assert_eq!(dev.info().name, "sim");
        assert!(dev.info().description.contains("fp16"));
    }
}
