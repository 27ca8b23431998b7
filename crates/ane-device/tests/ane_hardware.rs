//! Hardware checks of the ANE device: compile and run tiny kernels on a real Neural Engine.
//!
//! Only on macOS, and only when `ANE_TRAINER_HW_TESTS=1` (each test spends compiles from the
//! process budget and needs Apple Silicon); otherwise each test returns at once. The kernels are
//! handwritten MIL in the chip's dialect (ane-facts §1.1) so they do not depend on the printer.
#![cfg(target_os = "macos")]

use ane_device::{AneConfig, AneDevice, Device, KernelIo};
use ane_mil::{DType, Dialect, TensorType, WeightFiles};
use half::f16;

const C: usize = 64;
const S: usize = 32;

fn hardware_tests_enabled() -> bool {
    std::env::var("ANE_TRAINER_HW_TESTS").is_ok_and(|v| v == "1")
}

fn device() -> AneDevice {
    AneDevice::with_config(AneConfig::from_env().expect("config")).expect("ANE device")
}

fn act() -> TensorType {
    TensorType::new(DType::Fp16, [1, C, 1, S])
}

fn io() -> KernelIo {
    KernelIo {
        inputs: vec![("x".into(), act())],
        outputs: vec![("y".into(), act())],
    }
}

/// `y = x + x`, or `y = x * w` with `w` a `[1, C, 1, 1]` BLOBFILE constant.
fn kernel_text(dialect: Dialect, with_weight: bool) -> String {
    let (header, func, name): (&str, &str, fn(&str) -> String) = match dialect {
        Dialect::Ios18 => (
            "program(1.3)\n[buildInfo = dict<string, string>({{\"coremlc-component-MIL\", \"3510.2.1\"}, \
             {\"coremlc-version\", \"3505.4.1\"}, {\"coremltools-component-milinternal\", \"\"}, \
             {\"coremltools-version\", \"9.0\"}})]",
            "ios18",
            |n: &str| format!("string(\"{n}\")"),
        ),
        Dialect::Ios16 => (
            "program(1.0)\n[buildInfo = dict<tensor<string, []>, tensor<string, []>>({{\"coremlc-version\", \"3505.4.1\"}})]",
            "ios16",
            |n: &str| format!("tensor<string, []>(\"{n}\")"),
        ),
    };
    let t = format!("tensor<fp16, [1, {C}, 1, {S}]>");
    let body = if with_weight {
        let w = format!("tensor<fp16, [1, {C}, 1, 1]>");
        let offset = match dialect {
            Dialect::Ios18 => "uint64(64)",
            Dialect::Ios16 => "tensor<uint64, []>(64)",
        };
        format!(
            "        {w} w = const()[name = {}, val = {w}(BLOBFILE(path = {}, offset = {offset}))];\n\
             \x20       {t} y = mul(x = x, y = w)[name = {}];\n",
            name("w"),
            name("@model_path/weights/w.bin"),
            name("y")
        )
    } else {
        format!("        {t} y = add(x = x, y = x)[name = {}];\n", name("y"))
    };
    format!("{header}\n{{\n    func main<{func}>({t} x) {{\n{body}    }} -> (y);\n}}\n")
}

/// A one-tensor MIL blob file (ane-facts §3): header, metadata at 64, fp16 payload at 128.
fn blob(values: &[f16]) -> Vec<u8> {
    let payload: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut file = vec![0u8; 128];
    file[0..4].copy_from_slice(&1u32.to_le_bytes());
    file[4..8].copy_from_slice(&2u32.to_le_bytes());
    file[64..68].copy_from_slice(&0xDEAD_BEEFu32.to_le_bytes());
    file[68..72].copy_from_slice(&1u32.to_le_bytes());
    file[72..80].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    file[80..88].copy_from_slice(&128u64.to_le_bytes());
    file.extend(payload);
    file
}

fn input() -> Vec<f16> {
    (0..C * S)
        .map(|i| f16::from_f32((i % 97) as f32 * 0.25 - 12.0))
        .collect()
}

fn run(device: &mut AneDevice, kernel: ane_device::KernelId, x: &[f16]) -> Vec<f16> {
    device
        .write_input(kernel, 0, &mut |buf| {
            for (chunk, v) in buf.chunks_exact_mut(2).zip(x) {
                chunk.copy_from_slice(&v.to_le_bytes());
            }
        })
        .unwrap();
    device.run(kernel).unwrap();
    let mut out = Vec::new();
    device
        .read_output(kernel, 0, &mut |buf| {
            out = buf
                .chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]))
                .collect()
        })
        .unwrap();
    out
}

#[test]
fn an_add_kernel_doubles_its_input() {
    if !hardware_tests_enabled() {
        return;
    }
    let mut dev = device();
    let text = kernel_text(dev.dialect(), false);
    let k = dev
        .compile_mil(&text, io(), &WeightFiles::new())
        .unwrap_or_else(|e| panic!("{e}\n{:?}", dev.take_warnings()));
    let x = input();
    let y = run(&mut dev, k, &x);
    for (i, (a, b)) in x.iter().zip(&y).enumerate() {
        assert_eq!(b.to_f32(), a.to_f32() * 2.0, "element {i}");
    }
    dev.release(k).unwrap();
}

#[test]
fn a_blobfile_weight_scales_each_channel() {
    if !hardware_tests_enabled() {
        return;
    }
    let mut dev = device();
    let scales: Vec<f16> = (0..C).map(|c| f16::from_f32(c as f32 * 0.125)).collect();
    let mut weights = WeightFiles::new();
    weights.insert("@model_path/weights/w.bin", blob(&scales));
    let text = kernel_text(dev.dialect(), true);
    let k = dev.compile_mil(&text, io(), &weights).unwrap();
    let x = input();
    let y = run(&mut dev, k, &x);
    for (c, scale) in scales.iter().enumerate() {
        for s in 0..S {
            let i = c * S + s;
            // The f32 product is exact; the ANE rounds it to fp16. Allow one unit in the last
            // place, since its rounding mode is for the simulator's conformance suite to pin.
            let expected = f16::from_f32(x[i].to_f32() * scale.to_f32());
            let ulps =
                (i32::from(y[i].to_bits() as i16) - i32::from(expected.to_bits() as i16)).abs();
            assert!(
                ulps <= 1,
                "channel {c}, position {s}: got {}, expected {expected}",
                y[i]
            );
        }
    }
}

#[test]
fn identical_kernels_compile_once_and_keep_separate_buffers() {
    if !hardware_tests_enabled() {
        return;
    }
    let mut dev = device();
    let text = kernel_text(dev.dialect(), false);
    let a = dev.compile_mil(&text, io(), &WeightFiles::new()).unwrap();
    let b = dev.compile_mil(&text, io(), &WeightFiles::new()).unwrap();
    assert_eq!(dev.compile_count(), 1);
    let xa = input();
    let xb: Vec<f16> = xa.iter().map(|v| -*v).collect();
    let ya = run(&mut dev, a, &xa);
    let yb = run(&mut dev, b, &xb);
    assert_ne!(ya, yb);
    dev.release(a).unwrap();
    // b still runs after a is released (the shared model and directory survive).
    assert_eq!(run(&mut dev, b, &xb), yb);
}

/// Goes through `Device::compile`, so the device's dialect choice (and its fallback to the other
/// dialect) applies, and reports what the loaded model's attributes said about each buffer.
#[test]
fn a_program_compiles_in_the_chosen_dialect_and_reports_its_layouts() {
    if !hardware_tests_enabled() {
        return;
    }
    let mut dev = device();
    let program = ane_mil::parse(&kernel_text(dev.dialect(), false)).expect("kernel parses");
    let k = dev
        .compile(&program, &WeightFiles::new())
        .unwrap_or_else(|e| panic!("{e}\n{:?}", dev.take_warnings()));
    for note in dev.take_notes() {
        eprintln!("note: {note}");
    }
    eprintln!(
        "dialect in use: {:?} ({})",
        dev.dialect(),
        dev.dialect_source().describe()
    );
    assert_eq!(dev.layout_notes(k).unwrap().len(), 2, "one per buffer");
    let x = input();
    let y = run(&mut dev, k, &x);
    for (i, (a, b)) in x.iter().zip(&y).enumerate() {
        assert_eq!(b.to_f32(), a.to_f32() * 2.0, "element {i}");
    }
}
