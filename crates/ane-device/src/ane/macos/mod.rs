//! The ANE device on macOS: the private framework ([`framework`]), IOSurface buffers
//! ([`surface`]), the Objective-C [`AneRuntime`](crate::ane::AneRuntime) ([`objc_runtime`]), a
//! loaded model's attributes as a plain tree ([`attributes`]), chip and OS detection
//! ([`chip_detect`]), the machine [`probe`] behind `ane-trainer doctor`, and the public
//! [`AneDevice`] ([`device`]). All `unsafe` code of the crate lives here, each block with a
//! `// SAFETY:` note.

mod attributes;
mod chip_detect;
mod device;
mod framework;
mod objc_runtime;
mod probe;
mod surface;

pub use device::AneDevice;
pub(crate) use probe::probe_platform;
