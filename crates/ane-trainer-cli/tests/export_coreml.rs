//! Core ML export end to end: a trained MLP, CNN (both through `ane-trainer train`) and a tiny
//! Llama (through the library) are exported with `ane-trainer export`; our reader parses each
//! package back and the simulator running the package's program gives `eval`'s logits (fp32:
//! ≤ 1e-4); coremltools loads every package and converts its MIL back when
//! `ANE_TRAINER_COREML_PYTHON` names a Python with coremltools (CI sets it, see `.ci/run`).

mod cli_common;

use ane_compiler::abi::HostValue;
use ane_compiler::lower::Precision;
use ane_compiler::plan::{plan_training_step, PlanOptions};
use ane_device::ChipFamily;
use ane_sim::{SimOptions, Simulator};
use ane_trainer::checkpoint::{self, RunState};
use ane_trainer::data::{mnist_sample, Normalize, PixelMap};
use ane_trainer::executor::{eval_graph, CompiledPlan, DeviceChoice, Devices, PhaseTimes};
use ane_trainer::export::{load_checkpoint, read_package, LoadedCheckpoint};
use ane_trainer::nn::InputSpec;
use ane_trainer::optim::OptimizerConfig;
use ane_trainer::trainer::{TrainConfig, TrainSettings};
use cli_common::{expect_success, run_in, stderr, stdout};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Trains `model` for a few steps with the CLI and returns the run directory.
fn train_with_cli(root: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = root.join(name);
    let out_s = out.to_str().unwrap();
    let mut args = vec![
        "train",
        "--steps",
        "4",
        "--batch-size",
        "16",
        "--device",
        "sim",
        "--out",
        out_s,
        "--eval-batch-size",
        "500",
    ];
    args.extend_from_slice(extra);
    let result = run_in(root, &args);
    expect_success(&result, &format!("training {name}"));
    out
}

/// A tiny Llama with a few random updates applied, saved as a checkpoint the way the trainer
/// saves them (its configuration in the sidecar).
fn llama_checkpoint(root: &Path) -> PathBuf {
    let flags: Vec<String> = [
        "dim=32",
        "n_layers=1",
        "n_heads=2",
        "hidden_dim=64",
        "vocab_size=16",
        "seq_len=8",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let dir = root.join("llama-ckpt");
    let settings = TrainSettings {
        model: Some("llama".into()),
        model_flag: flags,
        steps: Some(1),
        out: Some(root.join("llama-run")),
        ..TrainSettings::default()
    };
    let config = TrainConfig::resolve(&settings, |_, _| root.join("unused")).unwrap();
    let model = config.preset().unwrap().model().unwrap();
    let mut params = model.init_params(7).unwrap();
    // Move every weight off its initialization so the export carries "trained" values.
    for (i, p) in params.params_mut().iter_mut().enumerate() {
        let values: Vec<f32> = p
            .master()
            .iter()
            .enumerate()
            .map(|(j, &x)| x + 0.01 * (((i * 31 + j * 17) % 13) as f32 - 6.0) / 6.0)
            .collect();
        p.set_master(&values).unwrap();
    }
    let optimizer = OptimizerConfig::from_name("adam").unwrap().build().unwrap();
    let run = RunState {
        step: 3,
        config: serde_json::to_value(&config).unwrap(),
        data_cursor: json!({}),
        rng: BTreeMap::new(),
        loss_scaler: None,
    };
    checkpoint::save(&dir, &params, optimizer.as_ref(), &run).unwrap();
    dir
}

fn export(root: &Path, checkpoint: &Path, out: &str, extra: &[&str]) -> PathBuf {
    let package = root.join(out);
    let mut args = vec![
        "export",
        checkpoint.to_str().unwrap(),
        "--format",
        "mlpackage",
        "--out",
        package.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let result = run_in(root, &args);
    expect_success(&result, &format!("exporting {out}"));
    println!("{}", stdout(&result));
    package
}

/// Inputs for `n` examples: MNIST-sample test images (normalized as in training) or token ids.
fn example_inputs(loaded: &LoadedCheckpoint, n: usize) -> Vec<Vec<f32>> {
    match loaded.model.input_spec() {
        InputSpec::Tokens {
            seq_len,
            vocab_size,
            ..
        } => (0..n)
            .map(|k| {
                (0..*seq_len)
                    .map(|t| ((k * 5 + t * 3) % vocab_size) as f32)
                    .collect()
            })
            .collect(),
        InputSpec::Dense { .. } => {
            let data = mnist_sample().unwrap();
            let map = PixelMap::new(Normalize::Standard, data.stats());
            let test = data.test();
            let pixels = test.pixels_per_image();
            (0..n)
                .map(|k| {
                    let mut out = vec![0.0; pixels];
                    map.map_into(test.image(k), &mut out);
                    out
                })
                .collect()
        }
    }
}

/// `eval`'s logits: the checkpoint's evaluation plan (fp32 kernels) run on the simulator for
/// all `inputs` as one batch.
fn eval_logits(loaded: &LoadedCheckpoint, inputs: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let graph = eval_graph(&loaded.model, inputs.len()).unwrap();
    let options = PlanOptions::new(ChipFamily::M4).with_precision(Precision::Fp32);
    let plan = plan_training_step(&graph.graph, &options).unwrap();
    let mut devices = Devices::open(DeviceChoice::Sim, None).unwrap();
    let mut compiled =
        CompiledPlan::new(plan, &mut devices, &loaded.params, &[graph.input.as_str()]).unwrap();
    let flat: Vec<f32> = inputs.concat();
    let ids: Vec<i32> = flat.iter().map(|&x| x as i32).collect();
    let external = match loaded.model.input_spec() {
        InputSpec::Tokens { .. } => HostValue::I32(&ids),
        InputSpec::Dense { .. } => HostValue::F32(&flat),
    };
    compiled
        .run(
            &mut devices,
            &loaded.params,
            &[external],
            &mut PhaseTimes::default(),
        )
        .unwrap();
    let logits: Vec<f32> = match compiled.output("logits").unwrap() {
        HostValue::F32(v) => v.to_vec(),
        HostValue::F16(v) => v.iter().map(|x| x.to_f32()).collect(),
        HostValue::I32(_) => panic!("integer logits"),
    };
    let per = logits.len() / inputs.len();
    logits.chunks(per).map(<[f32]>::to_vec).collect()
}

/// The package's program, as our reader parses it, run on the simulator one example at a time.
fn package_logits(package: &Path, input_name: &str, inputs: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let read = read_package(package).unwrap();
    let mut sim = Simulator::prepare(&read.program, &read.weights, SimOptions::default()).unwrap();
    let int_input = read.program.main().unwrap().params[0]
        .ty
        .as_tensor()
        .unwrap()
        .dtype
        == ane_mil::DType::Int32;
    inputs
        .iter()
        .map(|x| {
            if int_input {
                let ids: Vec<i32> = x.iter().map(|&v| v as i32).collect();
                sim.set_input_i32(input_name, &ids).unwrap();
            } else {
                sim.set_input_f32(input_name, x).unwrap();
            }
            sim.run().unwrap();
            sim.output_f32("logits").unwrap()
        })
        .collect()
}

fn max_abs_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).map(|(p, q)| (p - q).abs())
        })
        .fold(0.0, f32::max)
}

struct Case {
    name: &'static str,
    checkpoint: PathBuf,
}

#[test]
fn exported_packages_run_like_eval_and_load_in_coremltools() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let cases = [
        Case {
            name: "Mlp",
            checkpoint: train_with_cli(root, "mlp-run", &["--widths", "784,32,10"]),
        },
        Case {
            name: "Cnn",
            checkpoint: train_with_cli(
                root,
                "cnn-run",
                &["--model", "cnn", "--model-flag", "channels=4,8"],
            ),
        },
        Case {
            name: "Llama",
            checkpoint: llama_checkpoint(root),
        },
    ];
    let mut expectations = Vec::new();
    for case in &cases {
        let loaded = load_checkpoint(&case.checkpoint).unwrap();
        let input_name = loaded.model.input_spec().name().to_string();
        let inputs = example_inputs(&loaded, 4);
        let reference = eval_logits(&loaded, &inputs);

        // fp32: the package computes eval's logits.
        let fp32 = export(
            root,
            &case.checkpoint,
            &format!("{}32.mlpackage", case.name),
            &["--precision", "fp32", "--deployment-target", "macOS14"],
        );
        let got = package_logits(&fp32, &input_name, &inputs);
        let err = max_abs_diff(&got, &reference);
        println!("{}: fp32 package vs eval: max |Δ| = {err:e}", case.name);
        assert!(
            err <= 1e-4,
            "{}: fp32 package logits differ by {err}",
            case.name
        );

        // fp16 (the default): close to eval's logits at fp16 accuracy.
        let fp16 = export(
            root,
            &case.checkpoint,
            &format!("{}16.mlpackage", case.name),
            &["--deployment-target", "iOS18"],
        );
        let got16 = package_logits(&fp16, &input_name, &inputs);
        let scale = reference
            .iter()
            .flatten()
            .fold(0.0f32, |m, x| m.max(x.abs()))
            .max(1.0);
        let err16 = max_abs_diff(&got16, &reference);
        println!(
            "{}: fp16 package vs eval: max |Δ| = {err16:e} (scale {scale})",
            case.name
        );
        assert!(
            err16 <= 2e-2 * scale,
            "{}: fp16 logits differ by {err16}",
            case.name
        );

        // What coremltools must find in each package.
        let read = read_package(&fp32).unwrap();
        let shape = read.program.main().unwrap().params[0]
            .ty
            .as_tensor()
            .unwrap()
            .known_shape()
            .unwrap();
        let logits_shape: Vec<usize> = match loaded.model.input_spec() {
            InputSpec::Tokens {
                seq_len,
                vocab_size,
                ..
            } => vec![1, *seq_len, *vocab_size],
            InputSpec::Dense { .. } => vec![1, reference[0].len()],
        };
        for (package, spec_version) in [(&fp32, 8), (&fp16, 9)] {
            let outputs = match &read.class_labels {
                Some(_) => {
                    json!({"classLabel": null, "classLabel_probs": null, "logits": logits_shape})
                }
                None => json!({ "logits": logits_shape }),
            };
            expectations.push(json!({
                "path": package,
                "spec_version": spec_version,
                "inputs": { input_name.clone(): shape },
                "outputs": outputs,
                "classes": read.class_labels,
            }));
        }
        if let Some(labels) = &read.class_labels {
            assert_eq!(labels.len(), 10);
            assert_eq!(labels[3], "3");
        }
    }
    check_with_coremltools(root, &expectations);
}

/// Runs `tests/coreml/check_packages.py` with `$ANE_TRAINER_COREML_PYTHON`, if set.
fn check_with_coremltools(root: &Path, expectations: &[serde_json::Value]) {
    let Some(python) = std::env::var_os("ANE_TRAINER_COREML_PYTHON") else {
        println!(
            "ANE_TRAINER_COREML_PYTHON is not set: skipping the coremltools check \
             (.ci/run sets it to a virtual environment with coremltools 9)"
        );
        return;
    };
    let file = root.join("expectations.json");
    std::fs::write(&file, serde_json::to_vec_pretty(expectations).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/coreml/check_packages.py");
    let out = std::process::Command::new(python)
        .arg(&script)
        .arg(&file)
        .output()
        .expect("the coremltools Python runs");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "coremltools rejected a package:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = stderr;
}
