//! Hardware probes: kernels at and past the edges of the capability table's I/O rules (row
//! widths, row alignment, the kernel I/O budget) and in forms no working trainer has used, so one
//! `doctor --json` on any Mac tells which rules to relax and which to keep.
//!
//! Unlike the conformance suite, a probe may break a rule on purpose: the simulator runs it with
//! the rules lifted (to check the kernel itself computes the right values), and the report says
//! which rules the simulator would enforce on it. On a Mac, the Neural Engine's verdict (compiled
//! and correct, compile error, wrong values) answers the probe's question. Probe failures are
//! findings, never a failed `doctor`.
//!
//! Each probe's I/O is one buffer per tensor in its exact `[1, C, H, W]` shape (the multi-input
//! ABI), so the buffer the ANE sees is the shape the probe is about.

use super::cases::Case;
use super::error::ConformanceError;
use super::kernel::{build_kernel_with, ConformanceKernel};
use ane_compiler::lower::{Abi, LowerOptions, LoweringLimits, Precision};
use ane_compiler::{DType, Graph, GraphError, UnaryOp};
use ane_mil::chip::{lint, lint_all, ChipCaps, Rule};
use ane_mil::Dialect;
use serde::Serialize;

/// One probe: a kernel, the rule it tests and the question it answers.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// The kernel (a one-op graph).
    pub case: Case,
    /// The rule of the capability table it informs.
    pub rule: Rule,
    /// What a run on the Neural Engine tells us.
    pub question: &'static str,
}

/// `y = sigmoid(x)` on `x: [1, C, 1, W]`: the simplest proven op on a buffer of the probed shape.
fn sigmoid_rows(g: &mut Graph, channels: usize, width: usize) -> Result<(), GraphError> {
    let x = g.input("x", &[1, channels, 1, width], DType::F32)?;
    let y = g.unary(UnaryOp::Sigmoid, x)?;
    g.output("y", y)
}

macro_rules! rows_probe {
    ($name:literal, $channels:literal, $width:literal, $rule:expr, $question:literal) => {
        Probe {
            case: Case {
                name: $name,
                family: "probe",
                build: |g| sigmoid_rows(g, $channels, $width),
                ranges: &[],
            },
            rule: $rule,
            question: $question,
        }
    };
}

/// Every probe, in report order.
pub fn all() -> Vec<Probe> {
    vec![
        rows_probe!(
            "io_width_32",
            64,
            32,
            Rule::IoWidth,
            "do 32-value (64-byte) rows work, below the 64-value minimum?"
        ),
        rows_probe!(
            "io_width_80_unaligned",
            64,
            80,
            Rule::IoRowAlignment,
            "do 160-byte rows (not a multiple of 64 bytes) compute correct values?"
        ),
        rows_probe!(
            "io_width_16384",
            32,
            16384,
            Rule::IoWidth,
            "do rows of exactly the 16,384-value limit work?"
        ),
        rows_probe!(
            "io_width_16416",
            32,
            16416,
            Rule::IoWidth,
            "do rows of 16,416 values, past the limit, compile on this chip?"
        ),
        rows_probe!(
            "kernel_io_16mib",
            256,
            16384,
            Rule::KernelIoBytes,
            "does a kernel with exactly 16 MiB of inputs plus outputs run?"
        ),
        rows_probe!(
            "kernel_io_33mib",
            528,
            16384,
            Rule::KernelIoBytes,
            "does a kernel with 33 MiB of inputs plus outputs run (and how fast)?"
        ),
        Probe {
            case: Case {
                name: "transpose_0213",
                family: "probe",
                build: |g| {
                    let x = g.input("x", &[1, 64, 32, 64], DType::F32)?;
                    let y = g.permute(x, &[0, 2, 1, 3])?;
                    g.output("y", y)
                },
                ranges: &[],
            },
            rule: Rule::UnprovenForm,
            question: "does transpose with perm [0, 2, 1, 3] compile and compute correctly?",
        },
    ]
}

/// The lowering of probes: fp16, one buffer per tensor, and no I/O limits (a probe's shape is
/// its point).
pub fn probe_lower_options(dialect: Dialect) -> LowerOptions {
    let mut limits = LoweringLimits::ane();
    limits.max_axis_size = None;
    limits.io_row_alignment_bytes = 1;
    limits.min_io_width = 1;
    limits.max_io_width = None;
    LowerOptions {
        precision: Precision::Fp16,
        dialect,
        abi: Abi::MultiInput,
        limits,
    }
}

/// Every probe lowered for `dialect`, with the probe it came from.
pub fn build_probes(
    dialect: Dialect,
    seed: u64,
) -> Result<Vec<(Probe, ConformanceKernel)>, ConformanceError> {
    let options = probe_lower_options(dialect);
    all()
        .into_iter()
        .map(|probe| Ok((probe, build_kernel_with(&probe.case, &options, seed)?)))
        .collect()
}

/// What the capability table says of a probe's kernel on a chip: the rules that reject it (the
/// simulator standing in for the ANE would refuse it), and the unproven ops and forms in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeRules {
    /// Ids of the rejecting rules it breaks (`io-width`, …); empty when it is legal.
    pub rejected_by: Vec<String>,
    /// The advisory unproven-op/form findings.
    pub unproven: Vec<String>,
}

/// Lints a probe's kernel against `caps`.
pub fn probe_rules(kernel: &ConformanceKernel, caps: &ChipCaps) -> ProbeRules {
    let mut rejected_by: Vec<String> = lint(&kernel.lowered.program, caps)
        .into_iter()
        .map(|e| e.rule.id().to_string())
        .collect();
    rejected_by.sort();
    rejected_by.dedup();
    let unproven = lint_all(&kernel.lowered.program, caps)
        .into_iter()
        .filter(|e| e.rule.is_unproven())
        .map(|e| e.message)
        .collect();
    ProbeRules {
        rejected_by,
        unproven,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::{run_suite, Tolerance};
    use ane_device::SimDevice;
    use ane_mil::chip::ChipFamily;

    #[test]
    fn probes_sit_on_both_sides_of_the_rules_and_compute_correctly_without_them() {
        let probes = build_probes(Dialect::Ios18, 7).unwrap();
        let caps = ChipFamily::M4.caps();
        let verdict = |name: &str| {
            let (_, kernel) = probes.iter().find(|(p, _)| p.case.name == name).unwrap();
            probe_rules(kernel, &caps)
        };
        assert!(verdict("io_width_16384").rejected_by.is_empty());
        assert!(verdict("kernel_io_16mib").rejected_by.is_empty());
        assert_eq!(verdict("io_width_16416").rejected_by, vec!["io-width"]);
        assert_eq!(
            verdict("kernel_io_33mib").rejected_by,
            vec!["kernel-io-bytes"]
        );
        assert!(verdict("io_width_80_unaligned")
            .rejected_by
            .contains(&"io-row-alignment".to_string()));
        assert!(verdict("io_width_32")
            .rejected_by
            .contains(&"io-width".to_string()));
        let transpose = verdict("transpose_0213");
        assert!(transpose.rejected_by.is_empty());
        assert!(transpose
            .unproven
            .iter()
            .any(|u| u.contains("[0, 2, 1, 3]")));

        // With the rules lifted, the simulator computes every probe within fp16 tolerance; with
        // them enforced it refuses exactly the rule-breaking ones.
        let kernels: Vec<ConformanceKernel> = probes.iter().map(|(_, k)| k.clone()).collect();
        let run = run_suite(
            &mut SimDevice::new(),
            "sim",
            &kernels,
            &Tolerance::FP16,
            |_| {},
        );
        for r in &run.results {
            assert!(r.passed, "{r:?}");
        }
        let mut strict = SimDevice::new();
        ane_device::Device::enforce_hardware_rules(&mut strict, Some(caps));
        let strict_run = run_suite(&mut strict, "sim", &kernels, &Tolerance::FP16, |_| {});
        for ((probe, kernel), r) in probes.iter().zip(&strict_run.results) {
            let legal = probe_rules(kernel, &caps).rejected_by.is_empty();
            assert_eq!(r.passed, legal, "{}: {r:?}", probe.case.name);
        }
    }
}
