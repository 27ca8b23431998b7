//! `ane-device`: where compiled kernels run.
//!
//! A [`Device`] compiles a MIL program once, then runs it many times: the caller fills the
//! kernel's input buffers, calls [`Device::run`], and reads its output buffers. Buffers hold the
//! raw little-endian bytes of the MIL function's parameter and output types (fp16 for ANE
//! kernels), dense and row-major, exactly the IOSurface layout of `reference/ane-facts.md` §5
//! (when a loaded model reports wider row strides, the ANE device copies rows between the dense
//! buffer and the strided surface).
//!
//! Devices: the simulator ([`SimDevice`], everywhere) and the Apple Neural Engine
//! ([`AneDevice`], macOS; on other platforms its constructor reports that it is unavailable).
//! [`chip`] (re-exported from `ane-mil`) holds the per-chip capability table both the device and
//! the compiler read.

pub mod ane;
/// The per-chip capability table; it lives in `ane-mil` so the compiler reads it without knowing
/// any device.
pub use ane_mil::chip;
pub mod device;
pub mod sim;

pub use ane::{AneConfig, AneDevice};
pub use chip::{ChipCaps, ChipFamily, ChipInfo};
pub use device::{Device, DeviceError, DeviceInfo, KernelId, KernelIo};
pub use sim::SimDevice;
