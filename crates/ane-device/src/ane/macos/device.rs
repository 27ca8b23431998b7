//! [`AneDevice`] on macOS: detects the chip and the macOS version, picks the MIL dialect
//! ([`choose_dialect`]), loads the framework, and hands everything else to the
//! platform-independent [`KernelManager`] over the Objective-C runtime.

use super::chip_detect::{ane_subtype, brand_string, os_description, os_product_version};
use super::framework::ane_classes;
use super::objc_runtime::ObjcRuntime;
use crate::ane::budget::CompileBudget;
use crate::ane::config::AneConfig;
use crate::ane::dialect_choice::{choose_dialect, parse_macos_version};
use crate::ane::manager::KernelManager;
use crate::ane::model_attributes::BufferLayoutNote;
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
    /// The chip; its `caps.dialect` and `dialect_source` follow the manager's dialect.
    chip: ChipInfo,
    /// "26.3 (25D125)", for descriptions.
    os: String,
    manager: KernelManager<ObjcRuntime>,
}

impl AneDevice {
    /// A device configured from the `ANE_TRAINER_*` environment variables
    /// ([`AneConfig::from_env`]).
    pub fn new() -> Result<AneDevice, DeviceError> {
        Self::with_config(AneConfig::from_env()?)
    }

    /// A device with explicit settings; `config.dialect` overrides the dialect the device would
    /// choose from the macOS version and the chip.
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
        // The chip's own default first; the dialect actually used is decided just below.
        let mut chip = ChipInfo::from_brand(&brand, ane_subtype(&classes), None)
            .map_err(DeviceError::Unavailable)?;
        let version_text = os_product_version();
        let version = version_text.as_deref().and_then(parse_macos_version);
        let (choice, why) = choose_dialect(chip.caps.dialect, version, config.dialect);
        chip.caps.dialect = choice.dialect;
        chip.dialect_source = choice.source;
        let os = os_description();
        let temp_root = PathBuf::from(NSTemporaryDirectory().to_string());
        let runtime = ObjcRuntime::new(classes, temp_root, format!("{brand} | macOS {os}"));
        let info = DeviceInfo {
            name: "ane".into(),
            description: describe(&chip, &os),
        };
        let mut manager = KernelManager::new(
            runtime,
            info,
            &config,
            Some(choice),
            CompileBudget::process_wide(config.compile_budget),
        );
        let read = match &version_text {
            Some(text) if version.is_none() => {
                format!(" (kern.osproductversion {text:?} unreadable)")
            }
            _ => String::new(),
        };
        // The choice first, then any note of the manager replacing it with a remembered one.
        let remembered = manager.take_notes();
        manager.push_note(format!("{why}{read}"));
        for note in remembered {
            manager.push_note(note);
        }
        let mut device = AneDevice { chip, os, manager };
        // The manager may already have switched to a dialect remembered in the compile cache.
        device.sync_dialect();
        Ok(device)
    }

    /// Copies the manager's dialect (which a fallback may change) into the chip info.
    fn sync_dialect(&mut self) {
        if let Some(choice) = self.manager.dialect_choice() {
            self.chip.caps.dialect = choice.dialect;
            self.chip.dialect_source = choice.source;
        }
    }

    /// The chip and its capabilities, with the dialect in use.
    pub fn chip(&self) -> &ChipInfo {
        &self.chip
    }

    /// The MIL dialect programs for this device should be printed in: the one in use (chosen
    /// from the macOS version and chip, forced, or switched to after a compile failure).
    pub fn dialect(&self) -> Dialect {
        self.chip.caps.dialect
    }

    /// Why [`Self::dialect`] is the dialect in use.
    pub fn dialect_source(&self) -> DialectSource {
        self.chip.dialect_source
    }

    /// Compiles MIL text whose `main` function has the buffer types `io`, as written (no
    /// dialect conversion or retry).
    pub fn compile_mil(
        &mut self,
        mil_text: &str,
        io: KernelIo,
        weights: &WeightFiles,
    ) -> Result<KernelId, DeviceError> {
        self.manager.compile_mil(mil_text, io, weights)
    }

    /// Debug notes since the last call: how the dialect was chosen or changed, and what each
    /// loaded model's attributes said about its buffers' strides.
    pub fn take_notes(&mut self) -> Vec<String> {
        self.manager.take_notes()
    }

    /// How a kernel's buffers are laid out and why, inputs first.
    pub fn layout_notes(&self, kernel: KernelId) -> Result<&[BufferLayoutNote], DeviceError> {
        self.manager.layout_notes(kernel)
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
    format!(
        "{} Neural Engine{subtype}, MIL dialect {} ({}), macOS {os}, fp16",
        chip.brand,
        chip.caps.dialect.opset(),
        chip.dialect_source.describe()
    )
}

impl Device for AneDevice {
    fn info(&self) -> DeviceInfo {
        // Rebuilt each time: the dialect can change after a compile failure.
        DeviceInfo {
            name: self.manager.info().name,
            description: describe(&self.chip, &self.os),
        }
    }

    fn compile(
        &mut self,
        program: &Program,
        weights: &WeightFiles,
    ) -> Result<KernelId, DeviceError> {
        let result = self.manager.compile(program, weights);
        self.sync_dialect();
        result
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
