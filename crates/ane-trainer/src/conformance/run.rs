//! Running one conformance kernel on a [`Device`], the way the executor runs every kernel:
//! compile the program, pack the host tensors into the device's input buffers with
//! [`KernelAbi::pack_input`](ane_compiler::abi::KernelAbi::pack_input), run, unpack each boundary
//! output with `unpack_output_into`, release.

use super::error::ConformanceError;
use super::kernel::ConformanceKernel;
use ane_compiler::abi::{AbiError, HostValue};
use ane_device::{Device, DeviceError, KernelId};

/// Runs `kernel` once on `device` and returns its boundary outputs by position (as f32). The
/// kernel is released afterwards, also when a step fails.
pub fn run_kernel(
    device: &mut dyn Device,
    kernel: &ConformanceKernel,
) -> Result<Vec<Vec<f32>>, ConformanceError> {
    let id = device
        .compile(&kernel.lowered.program, &kernel.lowered.weights)
        .map_err(|source| ConformanceError::Device {
            stage: "compile",
            source,
        })?;
    let outputs = run_compiled(device, id, kernel);
    let released = device.release(id);
    let outputs = outputs?;
    released.map_err(|source| ConformanceError::Device {
        stage: "release",
        source,
    })?;
    Ok(outputs)
}

fn run_compiled(
    device: &mut dyn Device,
    id: KernelId,
    kernel: &ConformanceKernel,
) -> Result<Vec<Vec<f32>>, ConformanceError> {
    let abi = &kernel.lowered.abi;
    check_buffers(device, id, kernel)?;
    for buffer in 0..abi.input_buffers().len() {
        let mut packed: Result<(), AbiError> = Ok(());
        device
            .write_input(id, buffer, &mut |dst| {
                packed = abi.pack_input(buffer, &|p| HostValue::F32(&kernel.inputs[p]), dst);
            })
            .map_err(|source| device_error("write input", source))?;
        packed.map_err(|source| ConformanceError::Abi {
            stage: "pack input",
            source,
        })?;
    }
    device
        .run(id)
        .map_err(|source| device_error("run", source))?;
    let mut outputs = Vec::with_capacity(abi.outputs().len());
    for (position, slot) in abi.outputs().iter().enumerate() {
        let mut values = vec![0f32; slot.elements()];
        let mut unpacked: Result<(), AbiError> = Ok(());
        device
            .read_output(id, slot.buffer, &mut |src| {
                unpacked = abi.unpack_output_into(position, src, &mut values);
            })
            .map_err(|source| device_error("read output", source))?;
        unpacked.map_err(|source| ConformanceError::Abi {
            stage: "unpack output",
            source,
        })?;
        outputs.push(values);
    }
    Ok(outputs)
}

fn device_error(stage: &'static str, source: DeviceError) -> ConformanceError {
    ConformanceError::Device { stage, source }
}

/// The device must have allocated exactly the buffers the ABI describes, in the same order.
fn check_buffers(
    device: &dyn Device,
    id: KernelId,
    kernel: &ConformanceKernel,
) -> Result<(), ConformanceError> {
    let io = device
        .io(id)
        .map_err(|source| device_error("buffer types", source))?;
    let abi = &kernel.lowered.abi;
    let same = |side: &str,
                device: &[(String, ane_mil::TensorType)],
                abi: &[(String, ane_mil::TensorType)]| {
        if device == abi {
            Ok(())
        } else {
            Err(ConformanceError::BufferMismatch(format!(
                "{side}: the device has {device:?}, the ABI says {abi:?}"
            )))
        }
    };
    same("inputs", &io.inputs, abi.input_buffers())?;
    same("outputs", &io.outputs, abi.output_buffers())
}
