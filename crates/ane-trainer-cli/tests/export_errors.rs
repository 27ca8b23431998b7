//! Bad input to `ane-trainer export` is a clear error with a non-zero exit, and never leaves a
//! package (or a staging directory) behind: a checkpoint of an unknown model, an output that
//! cannot be written, an existing output, bad flags, a program the deployment target's opset
//! cannot hold, and malformed packages given to the reader.

mod cli_common;

use ane_mil::builder::{FunctionBuilder, ProgramBuilder};
use ane_mil::{DType, Dialect, NamedType, Opset, TensorType, WeightFiles};
use ane_trainer::checkpoint::{self, RunState, SIDECAR_FILE};
use ane_trainer::export::{
    package_contents, read_package, DeploymentTarget, ExportError, ExportMetadata, InferenceProgram,
};
use ane_trainer::optim::OptimizerConfig;
use ane_trainer::trainer::{TrainConfig, TrainSettings};
use cli_common::{run_in, stderr};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An untrained 784-16-10 MLP checkpoint (training adds nothing these tests need).
fn mlp_checkpoint(root: &Path) -> PathBuf {
    let dir = root.join("ckpt");
    let settings = TrainSettings {
        widths: Some("784,16,10".into()),
        out: Some(root.join("run")),
        ..TrainSettings::default()
    };
    let config = TrainConfig::resolve(&settings, |_, _| root.join("unused")).unwrap();
    let model = config.preset().unwrap().model().unwrap();
    let params = model.init_params(1).unwrap();
    let optimizer = OptimizerConfig::from_name("adam").unwrap().build().unwrap();
    let run = RunState {
        step: 0,
        config: serde_json::to_value(&config).unwrap(),
        data_cursor: json!({}),
        rng: BTreeMap::new(),
        loss_scaler: None,
    };
    checkpoint::save(&dir, &params, optimizer.as_ref(), &run).unwrap();
    dir
}

/// Runs `export CKPT --out OUT extra…` and returns (success, stderr).
fn export(root: &Path, ckpt: &Path, out: &Path, extra: &[&str]) -> (bool, String) {
    let mut args = vec![
        "export",
        ckpt.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let result = run_in(root, &args);
    (result.status.success(), stderr(&result))
}

/// Nothing named like a staging directory is left in `dir`.
fn no_leftovers(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".partial"), "left behind: {name}");
    }
}

#[test]
fn a_checkpoint_of_an_unknown_model_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let ckpt = mlp_checkpoint(root.path());
    let sidecar = ckpt.join(SIDECAR_FILE);
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sidecar).unwrap()).unwrap();
    meta["config"]["model"] = json!("resnet9000");
    std::fs::write(&sidecar, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
    let out = root.path().join("M.mlpackage");
    let (ok, err) = export(root.path(), &ckpt, &out, &[]);
    assert!(!ok);
    assert!(
        err.contains("cannot export this checkpoint") && err.contains("resnet9000"),
        "{err}"
    );
    assert!(!out.exists());
    no_leftovers(root.path());

    // A sidecar without any training configuration.
    meta["config"] = json!({"something": "else"});
    std::fs::write(&sidecar, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
    let (ok, err) = export(root.path(), &ckpt, &out, &[]);
    assert!(!ok);
    assert!(err.contains("no ane-trainer model configuration"), "{err}");
    assert!(!out.exists());
}

#[test]
fn outputs_that_cannot_be_written_leave_nothing_behind() {
    let root = tempfile::tempdir().unwrap();
    let ckpt = mlp_checkpoint(root.path());
    // The parent is a file.
    let file = root.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let (ok, err) = export(root.path(), &ckpt, &file.join("M.mlpackage"), &[]);
    assert!(!ok);
    assert!(err.contains("cannot write the package"), "{err}");
    // The parent does not exist.
    let (ok, err) = export(
        root.path(),
        &ckpt,
        &root.path().join("no/such/M.mlpackage"),
        &[],
    );
    assert!(!ok);
    assert!(err.contains("does not exist"), "{err}");
    // Not a package name.
    let (ok, err) = export(root.path(), &ckpt, &root.path().join("model.zip"), &[]);
    assert!(!ok);
    assert!(err.contains(".mlpackage"), "{err}");
    assert!(!root.path().join("model.zip").exists());
    no_leftovers(root.path());

    // An existing package is kept unless --overwrite.
    let out = root.path().join("M.mlpackage");
    assert!(export(root.path(), &ckpt, &out, &[]).0);
    let model_file = out.join("Data/com.apple.CoreML/model.mlmodel");
    let before = std::fs::read(&model_file).unwrap();
    let (ok, err) = export(root.path(), &ckpt, &out, &["--precision", "fp32"]);
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&model_file).unwrap(), before);
    assert!(
        export(
            root.path(),
            &ckpt,
            &out,
            &["--precision", "fp32", "--overwrite"]
        )
        .0
    );
    assert_ne!(std::fs::read(&model_file).unwrap(), before);
    assert!(read_package(&out).is_ok());
    no_leftovers(root.path());
}

#[test]
fn bad_flags_are_clear_errors() {
    let root = tempfile::tempdir().unwrap();
    let ckpt = mlp_checkpoint(root.path());
    let out = root.path().join("M.mlpackage");
    for (flags, expected) in [
        (
            &["--deployment-target", "macOS12"][..],
            "unknown deployment target",
        ),
        (&["--precision", "int4"][..], "unknown precision"),
        (&["--format", "onnx"][..], "unknown format"),
    ] {
        let (ok, err) = export(root.path(), &ckpt, &out, flags);
        assert!(!ok, "{flags:?}");
        assert!(err.contains(expected), "{flags:?}: {err}");
        assert!(!out.exists());
    }
    let (ok, err) = export(root.path(), &root.path().join("nothing"), &out, &[]);
    assert!(!ok);
    assert!(err.starts_with("error:"), "{err}");
    assert!(!out.exists());
}

#[test]
fn an_op_missing_from_the_target_opset_is_an_unsupported_target() {
    // scaled_dot_product_attention exists from iOS18 / macOS15 on.
    let mut f = FunctionBuilder::new("main", Opset::Ios18);
    let ty = TensorType::new(DType::Fp32, [1, 2, 4, 8]);
    let q = f.input("x", ty.clone()).unwrap();
    let y = f.scaled_dot_product_attention(&q, &q, &q, None).unwrap();
    f.output(&y).unwrap();
    let program = ProgramBuilder::new(Dialect::Ios18)
        .function(f.finish().unwrap())
        .build()
        .unwrap();
    let inference = InferenceProgram {
        input: program.main().unwrap().params[0].clone(),
        outputs: vec![NamedType::tensor(y.name.clone(), ty)],
        program,
        weights: WeightFiles::new(),
    };
    let metadata = ExportMetadata::default();
    for target in [DeploymentTarget::MacOs14, DeploymentTarget::Ios16] {
        let err = package_contents(&inference, target, None, &metadata).unwrap_err();
        assert!(
            matches!(err, ExportError::UnsupportedTarget { .. }),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("scaled_dot_product_attention") && text.contains(target.name()),
            "{text}"
        );
    }
    for target in [DeploymentTarget::MacOs15, DeploymentTarget::Ios18] {
        package_contents(&inference, target, None, &metadata).unwrap();
    }
}

#[test]
fn malformed_packages_are_reader_errors() {
    let root = tempfile::tempdir().unwrap();
    let ckpt = mlp_checkpoint(root.path());
    let out = root.path().join("M.mlpackage");
    assert!(export(root.path(), &ckpt, &out, &[]).0);
    assert!(read_package(&out).is_ok());

    let model_file = out.join("Data/com.apple.CoreML/model.mlmodel");
    let good = std::fs::read(&model_file).unwrap();
    std::fs::write(&model_file, &good[..good.len() / 2]).unwrap();
    let err = read_package(&out).unwrap_err();
    assert!(matches!(err, ExportError::BadPackage { .. }), "{err}");
    std::fs::write(&model_file, &good).unwrap();

    let weights = out.join("Data/com.apple.CoreML/weights/weight.bin");
    std::fs::remove_file(&weights).unwrap();
    let err = read_package(&out).unwrap_err();
    assert!(err.to_string().contains("weight"), "{err}");

    std::fs::write(out.join("Manifest.json"), b"{not json").unwrap();
    let err = read_package(&out).unwrap_err();
    assert!(matches!(err, ExportError::BadPackage { .. }), "{err}");
    let err = read_package(&root.path().join("absent.mlpackage")).unwrap_err();
    assert!(matches!(err, ExportError::BadPackage { .. }), "{err}");
}
