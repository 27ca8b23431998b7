//! `ane-device`: where compiled kernels run.
//!
//! A [`Device`] compiles a MIL program once, then runs it many times: the caller fills the
//! kernel's input buffers, calls [`Device::run`], and reads its output buffers. Buffers hold the
//! raw little-endian bytes of the MIL function's parameter and output types (fp16 for ANE
//! kernels), dense and row-major, exactly the IOSurface layout of `reference/ane-facts.md` §5.
//!
//! Devices: the simulator (everywhere) and the Apple Neural Engine (macOS).

pub mod device;

pub use device::{Device, DeviceError, DeviceInfo, KernelId, KernelIo};
