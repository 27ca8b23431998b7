//! The `Device` trait shared by the simulator and the ANE.

use ane_mil::{Program, TensorType, WeightFiles};

/// Identifies a kernel compiled on one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KernelId(pub usize);

/// The input and output buffer types of a compiled kernel, in parameter / output order.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelIo {
    pub inputs: Vec<(String, TensorType)>,
    pub outputs: Vec<(String, TensorType)>,
}

/// What a device says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInfo {
    /// Short name: `sim` or `ane`.
    pub name: String,
    /// A human description (chip, dialect, numeric mode).
    pub description: String,
}

/// Errors from compiling or running kernels.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("device unavailable: {0}")]
    Unavailable(String),
    #[error("compile failed: {message}")]
    Compile {
        message: String,
        /// Where the failing program was dumped, if it was.
        dump_path: Option<std::path::PathBuf>,
    },
    #[error("compile budget exhausted: {used} of {budget} compiles used in this process")]
    CompileBudget { used: usize, budget: usize },
    #[error("run failed: {0}")]
    Run(String),
    #[error("unknown kernel {0:?}")]
    UnknownKernel(KernelId),
    #[error("kernel {kernel:?} has no {what} {index}")]
    NoSuchBuffer {
        kernel: KernelId,
        what: &'static str,
        index: usize,
    },
    #[error("{0}")]
    Other(String),
}

/// A place that compiles and runs MIL kernels.
///
/// Contract: `compile` is called once per distinct kernel, before the first step; `run` is called
/// every step after the caller has written every input buffer. Input and output buffers persist
/// between runs (a kernel's outputs stay readable until its next run).
pub trait Device {
    /// Name and description.
    fn info(&self) -> DeviceInfo;

    /// Compiles `program` (whose `BLOBFILE` references resolve in `weights`) and allocates its
    /// input and output buffers.
    fn compile(
        &mut self,
        program: &Program,
        weights: &WeightFiles,
    ) -> Result<KernelId, DeviceError>;

    /// The buffer types of a compiled kernel.
    fn io(&self, kernel: KernelId) -> Result<&KernelIo, DeviceError>;

    /// Gives `fill` the bytes of input buffer `index` to write.
    fn write_input(
        &mut self,
        kernel: KernelId,
        index: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), DeviceError>;

    /// Runs the kernel on its current inputs.
    fn run(&mut self, kernel: KernelId) -> Result<(), DeviceError>;

    /// Gives `read` the bytes of output buffer `index` from the last run.
    fn read_output(
        &mut self,
        kernel: KernelId,
        index: usize,
        read: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DeviceError>;

    /// Frees a kernel and its buffers.
    fn release(&mut self, kernel: KernelId) -> Result<(), DeviceError>;

    /// How many compiles this device has performed (cache hits excluded).
    fn compile_count(&self) -> usize;

    /// Makes later compiles refuse programs that break a rejecting rule of `caps` (`None`: check
    /// nothing). The simulator standing in for the ANE uses it so that it refuses what the Neural
    /// Engine would; the Neural Engine enforces its own rules, so the default ignores it.
    fn enforce_hardware_rules(&mut self, caps: Option<ane_mil::chip::ChipCaps>) {
        let _ = caps;
    }
}
