//! [`AneDevice`] on macOS: detects the chip, loads the framework, and hands everything else to
//! the platform-independent [`KernelManager`] over the Objective-C runtime.

use super::chip_detect::{ane_subtype, brand_string, os_description};
use super::framework::ane_classes;
use super::objc_runtime::ObjcRuntime;
use crate::ane::budget::CompileBudget;
use crate::ane::config::AneConfig;
use crate::ane::manager::KernelManager;
use crate::chip::{parse_brand_string, ChipInfo, DialectSource};
use crate::device::{Device, DeviceError, DeviceInfo, KernelId, KernelIo};
use ane_mil::{Dialect, Program, WeightFiles};
use objc2_foundation::NSTemporaryDirectory;
use std::path::PathBuf;

/// The Apple Neural Engine device.
///
/// Not `Send`: it holds Objective-C objects of a private framework whose thread-safety is
/// undocumented, so it stays on the thread that made it.
pub struct AneDevice {
    chip: ChipInfo,
    manager: KernelManager<ObjcRuntime>,
}

impl AneDevice {
    /// A device configured from the `ANE_TRAINER_*` environment variables
    /// ([`AneConfig::from_env`]).
    pub fn new() -> Result<AneDevice, DeviceError> {
        Self::with_config(AneConfig::from_env()?)
    }

    /// A device with explicit settings; `config.dialect` overrides the chip's dialect.
    pub fn with_config(config: AneConfig) -> Result<AneDevice, DeviceError> {
        let brand = brand_string().ok_or_else(|| {
            DeviceError::Unavailable("cannot read machdep.cpu.brand_string".into())
        })?;
        // Check the chip before loading the framework: an Intel Mac may have the framework but
        // has no Neural Engine.
        if parse_brand_string(&brand).is_none() {
            return Err(DeviceError::Unavailable(format!(
                "the ANE device needs macOS on Apple Silicon; this Mac's CPU is {brand:?} — use \
                 --device sim"
            )));
        }
        let classes = ane_classes()?;
        let chip = ChipInfo::from_brand(&brand, ane_subtype(&classes), config.dialect)
            .map_err(DeviceError::Unavailable)?;
        let os = os_description();
        let temp_root = PathBuf::from(NSTemporaryDirectory().to_string());
        let runtime = ObjcRuntime::new(classes, temp_root, format!("{brand} | macOS {os}"));
        let info = DeviceInfo {
            name: "ane".into(),
            description: describe(&chip, &os),
        };
        let manager = KernelManager::new(
            runtime,
            info,
            &config,
            Some(chip.caps.dialect),
            CompileBudget::process_wide(config.compile_budget),
        );
        Ok(AneDevice { chip, manager })
    }

    /// The chip and its capabilities.
    pub fn chip(&self) -> &ChipInfo {
        &self.chip
    }

    /// The MIL dialect programs for this device must be printed in.
    pub fn dialect(&self) -> Dialect {
        self.chip.caps.dialect
    }

    /// Compiles MIL text whose `main` function has the buffer types `io`.
    pub fn compile_mil(
        &mut self,
        mil_text: &str,
        io: KernelIo,
        weights: &WeightFiles,
    ) -> Result<KernelId, DeviceError> {
        self.manager.compile_mil(mil_text, io, weights)
    }

    /// Compiler calls made by this process, across devices.
    pub fn process_compiles(&self) -> usize {
        self.manager.process_compiles()
    }

    /// Non-fatal problems noticed since the last call (cache, dumps, dialect mismatches).
    pub fn take_warnings(&mut self) -> Vec<String> {
        self.manager.take_warnings()
    }
}

impl std::fmt::Debug for AneDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AneDevice")
            .field("chip", &self.chip)
            .field("loaded_models", &self.manager.loaded_models())
            .field("compile_count", &self.manager.compile_count())
            .finish_non_exhaustive()
    }
}

fn describe(chip: &ChipInfo, os: &str) -> String {
    let subtype = chip
        .ane_subtype
        .as_deref()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    let source = match chip.dialect_source {
        DialectSource::Chip => "for this chip",
        DialectSource::Override => "forced",
    };
    format!(
        "{} Neural Engine{subtype}, MIL dialect {} ({source}), macOS {os}, fp16",
        chip.brand,
        chip.caps.dialect.opset()
    )
}

impl Device for AneDevice {
    fn info(&self) -> DeviceInfo {
        self.manager.info()
    }

    fn compile(
        &mut self,
        program: &Program,
        weights: &WeightFiles,
    ) -> Result<KernelId, DeviceError> {
        self.manager.compile(program, weights)
    }

    fn io(&self, kernel: KernelId) -> Result<&KernelIo, DeviceError> {
        self.manager.io(kernel)
    }

    fn write_input(
        &mut self,
        kernel: KernelId,
        index: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), DeviceError> {
        self.manager.write_input(kernel, index, fill)
    }

    fn run(&mut self, kernel: KernelId) -> Result<(), DeviceError> {
        self.manager.run(kernel)
    }

    fn read_output(
        &mut self,
        kernel: KernelId,
        index: usize,
        read: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DeviceError> {
        self.manager.read_output(kernel, index, read)
    }

    fn release(&mut self, kernel: KernelId) -> Result<(), DeviceError> {
        self.manager.release(kernel)
    }

    fn compile_count(&self) -> usize {
        self.manager.compile_count()
    }
}
