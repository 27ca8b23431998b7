//! The Apple Neural Engine device: compiles MIL kernels with the private in-memory compiler
//! (`_ANEInMemoryModel`, ane-facts §4) and runs them on IOSurface buffers (ane-facts §5).
//!
//! Layout of this module:
//! - platform-independent, tested everywhere: the compile [`budget`], [`program_key`]s, the
//!   [`weights_dict`] and [`model_dir`] layouts, [`surface_layout`] and the strides a loaded
//!   model reports ([`model_attributes`]), the MIL dialect choice ([`dialect_choice`]),
//!   directory reference counts ([`dir_refs`]), the on-disk compile cache ([`disk_cache`],
//!   unverified on hardware), program [`dump`]s, [`config`], the machine [`probe`] behind
//!   `ane-trainer doctor`, and the [`KernelManager`] that strings them together over the
//!   [`AneRuntime`] seam;
//! - `macos` (only on macOS): the Objective-C runtime behind that seam, chip detection, and the
//!   real [`AneDevice`];
//! - elsewhere, an [`AneDevice`] with the same API whose constructor returns
//!   [`DeviceError::Unavailable`](crate::DeviceError::Unavailable) (candle's dummy-backend
//!   pattern), so every platform builds the same code.

pub mod budget;
pub mod config;
pub mod dialect_choice;
pub mod dir_refs;
pub mod disk_cache;
pub mod dump;
pub mod manager;
pub mod model_attributes;
pub mod model_dir;
pub mod probe;
pub mod program_key;
pub mod runtime;
pub mod surface_layout;
pub mod weights_dict;

#[cfg(target_os = "macos")]
mod macos;
#[cfg(not(target_os = "macos"))]
mod unsupported;

pub use budget::{CompileBudget, CompileCounter, DEFAULT_COMPILE_BUDGET, PROCESS_COMPILES};
pub use config::{print_mil_text, AneConfig, MilPrinter};
pub use dialect_choice::{choose_dialect, parse_macos_version, DialectChoice};
pub use dump::DumpPolicy;
pub use manager::KernelManager;
pub use model_attributes::{AttrValue, BufferLayoutNote, StrideFinding};
pub use probe::{probe_system, ChipProbe, ClassProbe, FrameworkProbe, SystemProbe};
pub use program_key::ProgramKey;
pub use runtime::AneRuntime;
pub use surface_layout::{kernel_io_of_program, RowLayout, SurfacePlan, SurfaceSpec};

#[cfg(target_os = "macos")]
pub use macos::AneDevice;
#[cfg(not(target_os = "macos"))]
pub use unsupported::AneDevice;

/// Why the ANE device cannot exist on this platform, naming the OS and architecture.
pub fn unavailable_here_message() -> String {
    format!(
        "the ANE device needs macOS on Apple Silicon; this is {}/{} — use --device sim",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}
