//! The ANE device on platforms without an ANE: the same API as on macOS, but it cannot be
//! constructed ([`AneDevice::new`] returns [`DeviceError::Unavailable`]), so every method is
//! unreachable and the compiler proves it.

use super::config::AneConfig;
use super::model_attributes::BufferLayoutNote;
use crate::chip::{ChipInfo, DialectSource};
use crate::device::{Device, DeviceError, DeviceInfo, KernelId, KernelIo};
use ane_mil::{Dialect, Program, WeightFiles};
use std::convert::Infallible;

/// The Apple Neural Engine device. Not available on this platform.
#[derive(Debug)]
pub struct AneDevice {
    never: Infallible,
}

impl AneDevice {
    /// Always [`DeviceError::Unavailable`] here: the ANE needs macOS on Apple Silicon.
    pub fn new() -> Result<AneDevice, DeviceError> {
        Self::with_config(AneConfig::default())
    }

    /// Always [`DeviceError::Unavailable`] here.
    pub fn with_config(_config: AneConfig) -> Result<AneDevice, DeviceError> {
        Err(DeviceError::Unavailable(super::unavailable_here_message()))
    }

    /// The chip and its capabilities.
    pub fn chip(&self) -> &ChipInfo {
        match self.never {}
    }

    /// The MIL dialect programs for this device should be printed in.
    pub fn dialect(&self) -> Dialect {
        match self.never {}
    }

    /// Why [`Self::dialect`] is the dialect in use.
    pub fn dialect_source(&self) -> DialectSource {
        match self.never {}
    }

    /// Debug notes since the last call (dialect choice, buffer layouts).
    pub fn take_notes(&mut self) -> Vec<String> {
        match self.never {}
    }

    /// How a kernel's buffers are laid out and why.
    pub fn layout_notes(&self, _kernel: KernelId) -> Result<&[BufferLayoutNote], DeviceError> {
        match self.never {}
    }

    /// Compiles MIL text whose `main` function has the buffer types `io`.
    pub fn compile_mil(
        &mut self,
        _mil_text: &str,
        _io: KernelIo,
        _weights: &WeightFiles,
    ) -> Result<KernelId, DeviceError> {
        match self.never {}
    }

    /// Compiler calls made by this process, across devices.
    pub fn process_compiles(&self) -> usize {
        match self.never {}
    }

    /// Non-fatal problems noticed since the last call.
    pub fn take_warnings(&mut self) -> Vec<String> {
        match self.never {}
    }
}

impl Device for AneDevice {
    fn info(&self) -> DeviceInfo {
        match self.never {}
    }

    fn compile(
        &mut self,
        _program: &Program,
        _weights: &WeightFiles,
    ) -> Result<KernelId, DeviceError> {
        match self.never {}
    }

    fn io(&self, _kernel: KernelId) -> Result<&KernelIo, DeviceError> {
        match self.never {}
    }

    fn write_input(
        &mut self,
        _kernel: KernelId,
        _index: usize,
        _fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), DeviceError> {
        match self.never {}
    }

    fn run(&mut self, _kernel: KernelId) -> Result<(), DeviceError> {
        match self.never {}
    }

    fn read_output(
        &mut self,
        _kernel: KernelId,
        _index: usize,
        _read: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DeviceError> {
        match self.never {}
    }

    fn release(&mut self, _kernel: KernelId) -> Result<(), DeviceError> {
        match self.never {}
    }

    fn compile_count(&self) -> usize {
        match self.never {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn construction_fails_with_a_message_naming_this_platform() {
        let err = AneDevice::new().unwrap_err();
        let DeviceError::Unavailable(message) = &err else {
            panic!("expected Unavailable, got {err:?}");
        };
        assert!(
            message.contains("needs macOS on Apple Silicon"),
            "{message}"
        );
        assert!(message.contains(std::env::consts::OS), "{message}");
        assert!(message.contains(std::env::consts::ARCH), "{message}");
        assert!(message.contains("--device sim"), "{message}");
        assert!(AneDevice::with_config(AneConfig::default()).is_err());
    }
}
