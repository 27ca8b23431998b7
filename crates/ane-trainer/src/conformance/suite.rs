//! Running the whole suite on one device, comparing with the f64 reference, and comparing two
//! devices' outputs with each other.

use super::compare::{all_accepted, measure, worst, ErrorStats, Tolerance};
use super::kernel::{dialect_name, ConformanceKernel};
use super::run::run_kernel;
use ane_device::Device;
use serde::Serialize;

/// What the reference of a result is: the f64 evaluator, or another device.
pub const REFERENCE_F64: &str = "f64";

/// The verdict on one kernel on one device (or one pair of devices).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelResult {
    /// The kernel's name.
    pub kernel: String,
    /// Its family.
    pub family: String,
    /// The device that ran it (`sim`, `ane`), or a pair (`ane-vs-sim`).
    pub device: String,
    /// The MIL dialect of the program.
    pub dialect: String,
    /// What the outputs were compared with: `f64` (the reference evaluator) or a device name.
    pub reference: String,
    /// The worst output's error; `None` when the kernel did not run.
    pub error: Option<ErrorStats>,
    /// Whether the kernel ran and every output is within tolerance.
    pub passed: bool,
    /// Why it did not run (compile or run error), if it did not.
    pub failure: Option<String>,
}

/// One device's pass over the suite: a result per kernel, and the outputs for cross-device
/// comparison.
#[derive(Debug, Clone)]
pub struct DeviceRun {
    /// One result per kernel, in suite order.
    pub results: Vec<KernelResult>,
    /// Each kernel's outputs by position; `None` where it failed to run.
    pub outputs: Vec<Option<Vec<Vec<f32>>>>,
}

/// Runs every kernel on `device`, compares it with the f64 reference under `tolerance`, and
/// calls `on_result` as each kernel finishes (for streaming output). Failures to compile or run
/// are results, not errors: the suite always runs to the end.
pub fn run_suite(
    device: &mut dyn Device,
    device_name: &str,
    kernels: &[ConformanceKernel],
    tolerance: &Tolerance,
    mut on_result: impl FnMut(&KernelResult),
) -> DeviceRun {
    let mut run = DeviceRun {
        results: Vec::with_capacity(kernels.len()),
        outputs: Vec::with_capacity(kernels.len()),
    };
    for kernel in kernels {
        let (result, outputs) = match run_kernel(device, kernel) {
            Ok(outputs) => (
                judge(
                    kernel,
                    device_name,
                    REFERENCE_F64,
                    &outputs,
                    &kernel.reference,
                    tolerance,
                ),
                Some(outputs),
            ),
            Err(e) => (
                failed(kernel, device_name, REFERENCE_F64, e.to_string()),
                None,
            ),
        };
        on_result(&result);
        run.results.push(result);
        run.outputs.push(outputs);
    }
    run
}

/// Compares device `a`'s outputs with device `b`'s, kernel by kernel (`b` plays the reference);
/// kernels that failed on either device fail here too.
pub fn compare_runs(
    kernels: &[ConformanceKernel],
    (a_name, a): (&str, &DeviceRun),
    (b_name, b): (&str, &DeviceRun),
    tolerance: &Tolerance,
) -> Vec<KernelResult> {
    let pair = format!("{a_name}-vs-{b_name}");
    kernels
        .iter()
        .enumerate()
        .map(|(i, kernel)| match (a.outputs.get(i), b.outputs.get(i)) {
            (Some(Some(got)), Some(Some(want))) => {
                let want: Vec<Vec<f64>> = want
                    .iter()
                    .map(|o| o.iter().map(|&v| v as f64).collect())
                    .collect();
                judge(kernel, &pair, b_name, got, &want, tolerance)
            }
            _ => failed(
                kernel,
                &pair,
                b_name,
                "did not run on both devices".to_string(),
            ),
        })
        .collect()
}

/// Judges outputs (by position) against expected values.
pub fn judge(
    kernel: &ConformanceKernel,
    device: &str,
    reference: &str,
    got: &[Vec<f32>],
    want: &[Vec<f64>],
    tolerance: &Tolerance,
) -> KernelResult {
    if got.len() != want.len() || got.iter().zip(want).any(|(g, w)| g.len() != w.len()) {
        return failed(
            kernel,
            device,
            reference,
            "outputs have other sizes than expected".to_string(),
        );
    }
    let stats: Vec<ErrorStats> = got.iter().zip(want).map(|(g, w)| measure(g, w)).collect();
    KernelResult {
        kernel: kernel.name.to_string(),
        family: kernel.family.to_string(),
        device: device.to_string(),
        dialect: dialect_name(kernel.dialect).to_string(),
        reference: reference.to_string(),
        error: Some(worst(&stats)),
        passed: all_accepted(tolerance, &stats),
        failure: None,
    }
}

fn failed(
    kernel: &ConformanceKernel,
    device: &str,
    reference: &str,
    failure: String,
) -> KernelResult {
    KernelResult {
        kernel: kernel.name.to_string(),
        family: kernel.family.to_string(),
        device: device.to_string(),
        dialect: dialect_name(kernel.dialect).to_string(),
        reference: reference.to_string(),
        error: None,
        passed: false,
        failure: Some(failure),
    }
}

/// Counts of a set of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    /// Results counted.
    pub total: usize,
    /// Of which passed.
    pub passed: usize,
    /// Of which failed (ran out of tolerance, or did not run).
    pub failed: usize,
}

/// Counts `results`.
pub fn summarize<'a>(results: impl IntoIterator<Item = &'a KernelResult>) -> Summary {
    let mut summary = Summary::default();
    for r in results {
        summary.total += 1;
        if r.passed {
            summary.passed += 1;
        } else {
            summary.failed += 1;
        }
    }
    summary
}
