//! Writing conformance kernels to disk for bug reports (`doctor --dump DIR`): each kernel's
//! directory is laid out exactly like the model directory the ANE compiler reads (`model.mil`
//! and `weights/…`, see `ane_device::ane::model_dir`), plus `kernel.txt` saying what it computes
//! and how its buffers are packed.

use super::kernel::{dialect_name, ConformanceKernel};
use ane_device::ane::model_dir::ModelDirLayout;
use ane_device::ane::weights_dict::WeightsDict;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// The description written beside each dumped program.
pub const DESCRIPTION_FILE: &str = "kernel.txt";

/// Writes `kernel` under `root/<dialect>/<name>/` (replacing an older dump) and returns that
/// directory.
pub fn dump_kernel(root: &Path, kernel: &ConformanceKernel) -> io::Result<PathBuf> {
    let dir = root.join(dialect_name(kernel.dialect)).join(kernel.name);
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::create_dir_all(&dir)?;
    let mil = ane_mil::print(&kernel.lowered.program);
    let weights = WeightsDict::new(&kernel.lowered.weights)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    ModelDirLayout::new(&mil, &weights).write_into(&dir)?;
    std::fs::write(dir.join(DESCRIPTION_FILE), describe(kernel))?;
    Ok(dir)
}

/// What `kernel.txt` says: the graph, the packed buffers, the boundary tensors.
pub fn describe(kernel: &ConformanceKernel) -> String {
    let abi = &kernel.lowered.abi;
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = writeln!(
        text,
        "ane-trainer conformance kernel `{}` ({}), MIL dialect {}, fp16, {:?} ABI\n\
         ane-trainer {}\n",
        kernel.name,
        kernel.family,
        dialect_name(kernel.dialect),
        abi.abi(),
        env!("CARGO_PKG_VERSION"),
    );
    let _ = writeln!(text, "graph:\n{}", kernel.graph);
    let _ = writeln!(text, "input buffers:");
    for (name, ty) in abi.input_buffers() {
        let _ = writeln!(text, "  {name}: {ty}");
    }
    let _ = writeln!(text, "output buffers:");
    for (name, ty) in abi.output_buffers() {
        let _ = writeln!(text, "  {name}: {ty}");
    }
    let _ = writeln!(text, "boundary inputs (graph inputs, in order):");
    for (input, slot) in kernel.graph.inputs().iter().zip(abi.inputs()) {
        let _ = writeln!(
            text,
            "  {}: {:?} in buffer {} at {:?}",
            input.name, slot.shape, slot.buffer, slot.placement
        );
    }
    let _ = writeln!(text, "boundary outputs (graph outputs, in order):");
    for (name, slot) in kernel.output_names.iter().zip(abi.outputs()) {
        let _ = writeln!(
            text,
            "  {name}: {:?} in buffer {} from element {}",
            slot.shape, slot.buffer, slot.offset
        );
    }
    text
}
