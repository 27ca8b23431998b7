//! The suite on the simulator in both dialects, and proof that its checks can fail: a perturbed
//! reference, a device that corrupts one output element, and two devices that disagree.

use super::*;
use ane_device::{Device, DeviceError, DeviceInfo, KernelId, KernelIo, SimDevice};
use ane_mil::chip::ChipFamily;
use ane_mil::{Dialect, Program, WeightFiles};
use half::f16;

fn suite(dialect: Dialect) -> Vec<ConformanceKernel> {
    build_suite(dialect, DEFAULT_SEED).unwrap_or_else(|e| panic!("{e}"))
}

fn print_table(dialect: Dialect, results: &[KernelResult]) {
    println!("simulator, {}:", dialect_name(dialect));
    for r in results {
        let e = r.error.expect("ran");
        println!(
            "  {:<34} max abs {:>9.2e}  scale {:>9.3e}  rel {:>9.2e}  {}",
            r.kernel,
            e.max_abs_error,
            e.scale,
            e.max_rel_error,
            if r.passed { "pass" } else { "FAIL" }
        );
    }
}

#[test]
fn the_suite_passes_on_the_simulator_in_both_dialects() {
    for dialect in [Dialect::Ios18, Dialect::Ios16] {
        let kernels = suite(dialect);
        assert_eq!(kernels.len(), cases::all().len());
        let mut device = SimDevice::new();
        let mut streamed = 0;
        let run = run_suite(&mut device, "sim", &kernels, &Tolerance::FP16, |_| {
            streamed += 1
        });
        assert_eq!(streamed, kernels.len());
        print_table(dialect, &run.results);
        let failures: Vec<_> = run.results.iter().filter(|r| !r.passed).collect();
        assert!(failures.is_empty(), "{failures:#?}");
        assert_eq!(device.live_kernels(), 0, "every kernel is released");
        for (kernel, result) in kernels.iter().zip(&run.results) {
            assert_eq!(result.kernel, kernel.name);
            assert_eq!(result.dialect, dialect_name(dialect));
            let version = &kernel.lowered.program.version;
            assert_eq!(version, dialect.program_version(), "{}", kernel.name);
            // The errors are real measurements, not zeros: fp16 rounds almost every output.
            assert!(result.error.unwrap().scale > 0.0, "{}", kernel.name);
        }
        let rounded = run
            .results
            .iter()
            .filter(|r| r.error.unwrap().max_abs_error > 0.0)
            .count();
        assert!(
            rounded > kernels.len() / 2,
            "only {rounded} kernels show fp16 error"
        );
        let summary = summarize(&run.results);
        assert_eq!(summary.passed, kernels.len());
        assert_eq!(summary.failed, 0);
    }
}

#[test]
fn a_perturbed_reference_is_detected() {
    let kernels = suite(Dialect::Ios18);
    let mut device = SimDevice::new();
    for name in ["matmul_nt", "layer_norm_backward_input", "packed_mlp_block"] {
        let kernel = kernels.iter().find(|k| k.name == name).unwrap();
        let outputs = run_kernel(&mut device, kernel).unwrap();
        let good = suite::judge(
            kernel,
            "sim",
            "f64",
            &outputs,
            &kernel.reference,
            &Tolerance::FP16,
        );
        assert!(good.passed, "{good:?}");
        // 3% of the scale on one element of the last output.
        let mut reference = kernel.reference.clone();
        let last = reference.last_mut().unwrap();
        let scale = last.iter().fold(0f64, |m, v| m.max(v.abs()));
        let index = last.len() / 3;
        last[index] += 0.03 * scale;
        let bad = suite::judge(kernel, "sim", "f64", &outputs, &reference, &Tolerance::FP16);
        assert!(!bad.passed, "{name}: {bad:?}");
        assert_eq!(bad.error.unwrap().worst_index, index, "{name}");
    }
}

/// A device that runs kernels on the simulator but adds `delta` to one element of every
/// output buffer it hands out: what a miscompiling ANE would look like.
struct CorruptingDevice {
    inner: SimDevice,
    element: usize,
    delta: f32,
}

impl Device for CorruptingDevice {
    fn info(&self) -> DeviceInfo {
        self.inner.info()
    }
    fn compile(&mut self, p: &Program, w: &WeightFiles) -> Result<KernelId, DeviceError> {
        self.inner.compile(p, w)
    }
    fn io(&self, kernel: KernelId) -> Result<&KernelIo, DeviceError> {
        self.inner.io(kernel)
    }
    fn write_input(
        &mut self,
        kernel: KernelId,
        index: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), DeviceError> {
        self.inner.write_input(kernel, index, fill)
    }
    fn run(&mut self, kernel: KernelId) -> Result<(), DeviceError> {
        self.inner.run(kernel)
    }
    fn read_output(
        &mut self,
        kernel: KernelId,
        index: usize,
        read: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DeviceError> {
        let (element, delta) = (self.element, self.delta);
        self.inner.read_output(kernel, index, &mut |bytes| {
            let mut copy = bytes.to_vec();
            let at = (element % (copy.len() / 2)) * 2;
            let value = f16::from_le_bytes([copy[at], copy[at + 1]]).to_f32() + delta;
            copy[at..at + 2].copy_from_slice(&f16::from_f32(value).to_le_bytes());
            read(&copy)
        })
    }
    fn release(&mut self, kernel: KernelId) -> Result<(), DeviceError> {
        self.inner.release(kernel)
    }
    fn compile_count(&self) -> usize {
        self.inner.compile_count()
    }
}

#[test]
fn a_device_that_corrupts_one_element_fails_and_disagrees_with_the_simulator() {
    let kernels: Vec<_> = suite(Dialect::Ios16)
        .into_iter()
        .filter(|k| ["linear_bias", "softmax_96", "conv2d_backward_weight"].contains(&k.name))
        .collect();
    assert_eq!(kernels.len(), 3);
    let mut sim = SimDevice::new();
    let good = run_suite(&mut sim, "sim", &kernels, &Tolerance::FP16, |_| {});
    let mut bad_device = CorruptingDevice {
        inner: SimDevice::new(),
        element: 5,
        delta: 0.5,
    };
    let bad = run_suite(&mut bad_device, "bad", &kernels, &Tolerance::FP16, |_| {});
    assert!(good.results.iter().all(|r| r.passed), "{:#?}", good.results);
    for r in &bad.results {
        assert!(!r.passed, "{r:?}");
        assert!(r.failure.is_none(), "it ran, with wrong values: {r:?}");
    }

    let same = compare_runs(
        &kernels,
        ("sim", &good),
        ("sim", &good),
        &Tolerance::FP16_CROSS_DEVICE,
    );
    assert!(same
        .iter()
        .all(|r| r.passed && r.error.unwrap().max_abs_error == 0.0));
    let cross = compare_runs(
        &kernels,
        ("bad", &bad),
        ("sim", &good),
        &Tolerance::FP16_CROSS_DEVICE,
    );
    for r in &cross {
        assert_eq!(r.device, "bad-vs-sim");
        assert_eq!(r.reference, "sim");
        assert!(!r.passed, "{r:?}");
    }
}

/// A device whose compiler rejects everything, like an ANE refusing a program.
struct RejectingDevice(SimDevice);

impl Device for RejectingDevice {
    fn info(&self) -> DeviceInfo {
        self.0.info()
    }
    fn compile(&mut self, _: &Program, _: &WeightFiles) -> Result<KernelId, DeviceError> {
        Err(DeviceError::Compile {
            message: "ANECCompile() FAILED".into(),
            dump_path: Some("/tmp/dump/model.mil".into()),
        })
    }
    fn io(&self, kernel: KernelId) -> Result<&KernelIo, DeviceError> {
        self.0.io(kernel)
    }
    fn write_input(
        &mut self,
        kernel: KernelId,
        index: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), DeviceError> {
        self.0.write_input(kernel, index, fill)
    }
    fn run(&mut self, kernel: KernelId) -> Result<(), DeviceError> {
        self.0.run(kernel)
    }
    fn read_output(
        &mut self,
        kernel: KernelId,
        index: usize,
        read: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DeviceError> {
        self.0.read_output(kernel, index, read)
    }
    fn release(&mut self, kernel: KernelId) -> Result<(), DeviceError> {
        self.0.release(kernel)
    }
    fn compile_count(&self) -> usize {
        0
    }
}

#[test]
fn compile_failures_are_failed_results_naming_the_dump() {
    let kernels: Vec<_> = suite(Dialect::Ios18).into_iter().take(2).collect();
    let mut device = RejectingDevice(SimDevice::new());
    let run = run_suite(&mut device, "ane", &kernels, &Tolerance::FP16, |_| {});
    for r in &run.results {
        assert!(!r.passed);
        assert!(r.error.is_none());
        let failure = r.failure.as_deref().unwrap();
        assert!(failure.contains("ANECCompile() FAILED"), "{failure}");
        assert!(failure.contains("/tmp/dump/model.mil"), "{failure}");
    }
    assert!(run.outputs.iter().all(Option::is_none));
    let sim_run = run_suite(
        &mut SimDevice::new(),
        "sim",
        &kernels,
        &Tolerance::FP16,
        |_| {},
    );
    let cross = compare_runs(&kernels, ("ane", &run), ("sim", &sim_run), &Tolerance::FP16);
    assert!(cross.iter().all(|r| !r.passed && r.failure.is_some()));
}

#[test]
fn inputs_are_deterministic_fp16_values_and_seeds_matter() {
    let a = suite(Dialect::Ios18);
    let b = suite(Dialect::Ios18);
    let other = build_suite(Dialect::Ios18, DEFAULT_SEED + 1).unwrap();
    for ((x, y), z) in a.iter().zip(&b).zip(&other) {
        assert_eq!(x.inputs, y.inputs, "{}", x.name);
        assert_ne!(x.inputs, z.inputs, "{}", x.name);
        for v in x.inputs.iter().flatten() {
            assert_eq!(
                f16::from_f32(*v).to_f32(),
                *v,
                "{}: not an fp16 value",
                x.name
            );
        }
    }
}

#[test]
fn every_kernel_is_a_packed_fp16_program_the_chip_table_accepts() {
    for (dialect, family) in [
        (Dialect::Ios16, ChipFamily::M1),
        (Dialect::Ios18, ChipFamily::M4),
    ] {
        let caps = family.caps();
        assert_eq!(caps.dialect, dialect);
        for kernel in suite(dialect) {
            let abi = &kernel.lowered.abi;
            assert_eq!(
                abi.abi(),
                ane_compiler::lower::Abi::Packed,
                "{}",
                kernel.name
            );
            assert_eq!(abi.input_buffers().len(), 1, "{}", kernel.name);
            assert_eq!(abi.output_buffers().len(), 1, "{}", kernel.name);
            for (_, ty) in abi.input_buffers().iter().chain(abi.output_buffers()) {
                assert_eq!(ty.dtype, ane_mil::DType::Fp16, "{}", kernel.name);
            }
            let findings = ane_mil::chip::lint(&kernel.lowered.program, &caps);
            assert!(
                findings.is_empty(),
                "{} on {family}: {}",
                kernel.name,
                findings
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
    }
}

#[test]
fn dumped_kernels_hold_their_mil_and_weights() {
    let root = tempfile::tempdir().unwrap();
    let kernels = suite(Dialect::Ios16);
    // The causal attention kernel carries its mask as a weight file.
    let kernel = kernels
        .iter()
        .find(|k| k.name == "causal_attention")
        .unwrap();
    assert!(!kernel.lowered.weights.is_empty());
    let dir = dump::dump_kernel(root.path(), kernel).unwrap();
    assert_eq!(dir, root.path().join("ios16").join("causal_attention"));
    let text = std::fs::read_to_string(dir.join("model.mil")).unwrap();
    assert!(text.starts_with("program(1.0)"), "{text}");
    let program = ane_mil::parse(&text).unwrap();
    assert_eq!(program, kernel.lowered.program);
    let (weights, missing) = WeightFiles::load_referenced(&program, &dir);
    assert!(missing.is_empty(), "{missing:?}");
    assert!(ane_mil::blob::check_refs(&program, &weights).is_empty());
    let description = std::fs::read_to_string(dir.join(dump::DESCRIPTION_FILE)).unwrap();
    for needle in [
        "causal_attention",
        "ios16",
        "q:",
        "k:",
        "v:",
        "y:",
        "input buffers",
    ] {
        assert!(
            description.contains(needle),
            "{needle} missing:\n{description}"
        );
    }
}
