//! Checkpoint tests: bit-exact round trips, crash safety under injected write failures,
//! rotation, corruption and mismatch errors, and `--init` loading.

use super::rotation::save_step_with_hook;
use super::*;
use crate::optim::{
    AdamConfig, LossScaler, LossScalerConfig, Optimizer, OptimizerConfig, Sgd, SgdConfig,
};
use crate::params::ParamStore;
use crate::rng::Rng;
use serde_json::json;
use std::fs;
use std::path::Path;

fn model(seed: u64) -> ParamStore {
    let mut rng = Rng::new(seed);
    let mut normal = |n: usize| (0..n).map(|_| rng.normal()).collect::<Vec<f32>>();
    let mut store = ParamStore::from_tensors([
        ("0.weight", vec![8, 3, 3, 3], normal(216)),
        ("0.bias", vec![8], normal(8)),
        ("2.weight", vec![10, 8], normal(80)),
        ("2.bias", vec![10], normal(10)),
    ])
    .unwrap();
    store.set_weight_decay_where(false, |n| n.ends_with(".bias"));
    store
}

fn adamw() -> Box<dyn Optimizer> {
    OptimizerConfig::AdamW(AdamConfig::adamw_default())
        .build()
        .unwrap()
}

/// Trains `steps` updates with random gradients so optimizer state is non-trivial.
fn trained(seed: u64, steps: u64, optimizer: &mut dyn Optimizer) -> ParamStore {
    let mut store = model(seed);
    let mut rng = Rng::new(seed + 100);
    for _ in 0..steps {
        for p in store.params_mut() {
            for g in p.grad_mut() {
                *g = rng.normal();
            }
        }
        optimizer.step(&mut store, 1e-2, 1.0).unwrap();
        store.zero_grads();
    }
    store
}

fn run_state(step: u64) -> RunState {
    let mut scaler = LossScaler::new(LossScalerConfig::default()).unwrap();
    scaler.record(false);
    scaler.record(true);
    let mut shuffle = Rng::derive(7, "shuffle");
    shuffle.next_u64();
    RunState {
        step,
        config: json!({"model": "cnn", "lr": 0.01, "batch": 32}),
        data_cursor: json!({"epoch": 2, "batch": 17}),
        rng: [
            ("shuffle".to_string(), shuffle.state()),
            ("dropout".to_string(), Rng::new(3).state()),
        ]
        .into_iter()
        .collect(),
        loss_scaler: Some(scaler.state()),
    }
}

fn bits(store: &ParamStore) -> Vec<Vec<u32>> {
    store
        .params()
        .iter()
        .map(|p| p.master().iter().map(|x| x.to_bits()).collect())
        .collect()
}

fn state_bits(opt: &dyn Optimizer) -> Vec<Vec<Vec<u32>>> {
    opt.state_buffers()
        .iter()
        .map(|slots| {
            slots
                .iter()
                .map(|s| s.iter().map(|x| x.to_bits()).collect())
                .collect()
        })
        .collect()
}

#[test]
fn round_trip_is_bit_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ckpt");
    let mut opt = adamw();
    let store = trained(1, 3, opt.as_mut());
    let run = run_state(3);
    save(&dir, &store, opt.as_ref(), &run).unwrap();
    assert!(
        !tmp.path().join("ckpt.partial").exists(),
        "staging directory moved into place"
    );

    let ckpt = Checkpoint::open(&dir).unwrap();
    assert_eq!(ckpt.run_state(), run);
    assert_eq!(ckpt.meta().optimizer.config().unwrap(), opt.config());
    assert_eq!(ckpt.meta().optimizer.step, 3);
    let mut restored = model(99);
    let mut restored_opt = adamw();
    ckpt.restore(&mut restored, restored_opt.as_mut()).unwrap();
    assert_eq!(bits(&restored), bits(&store));
    assert_eq!(restored_opt.step_count(), 3);
    assert_eq!(state_bits(restored_opt.as_ref()), state_bits(opt.as_ref()));
    for (a, b) in restored.params().iter().zip(store.params()) {
        assert_eq!(a.half(), b.half());
    }
    // Resumed training continues exactly like uninterrupted training.
    let mut continued = store.clone();
    for (s, o) in [
        (&mut continued, opt.as_mut()),
        (&mut restored, restored_opt.as_mut()),
    ] {
        let mut grads = Rng::new(5);
        for p in s.params_mut() {
            for g in p.grad_mut() {
                *g = grads.normal();
            }
        }
        o.step(s, 1e-2, 1.0).unwrap();
    }
    assert_eq!(bits(&restored), bits(&continued));
}

#[test]
fn sidecar_lists_params_and_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let mut opt = adamw();
    let store = trained(2, 1, opt.as_mut());
    save(&dir, &store, opt.as_ref(), &run_state(1)).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join(SIDECAR_FILE)).unwrap()).unwrap();
    assert_eq!(json["format"], FORMAT_NAME);
    assert_eq!(json["version"], FORMAT_VERSION);
    assert_eq!(json["optimizer"]["name"], "adamw");
    assert_eq!(json["optimizer"]["hyper_params"]["weight_decay"], 0.01);
    assert_eq!(json["optimizer"]["slots"], json!(["exp_avg", "exp_avg_sq"]));
    assert_eq!(
        json["params"][0],
        json!({"name": "0.weight", "shape": [8, 3, 3, 3], "weight_decay": true})
    );
    assert_eq!(json["params"][1]["weight_decay"], false);
    let model_len = fs::metadata(dir.join(MODEL_FILE)).unwrap().len();
    assert_eq!(json["files"][MODEL_FILE]["bytes"], model_len);
    assert_eq!(
        json["files"][MODEL_FILE]["sha256"].as_str().unwrap().len(),
        64
    );
    assert_eq!(json["loss_scaler"]["skipped"], 1);
}

#[test]
fn save_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let opt = adamw();
    let store = model(1);
    save(&dir, &store, opt.as_ref(), &run_state(0)).unwrap();
    assert!(matches!(
        save(&dir, &store, opt.as_ref(), &run_state(0)),
        Err(CheckpointError::AlreadyExists { .. })
    ));
    let other = tmp.path().join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("notes.txt"), "mine").unwrap();
    assert!(matches!(
        save(&other, &store, opt.as_ref(), &run_state(0)),
        Err(CheckpointError::DirectoryNotEmpty { .. })
    ));
    assert_eq!(fs::read_to_string(other.join("notes.txt")).unwrap(), "mine");
    // An existing empty directory is fine.
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    save(&empty, &store, opt.as_ref(), &run_state(0)).unwrap();
    assert!(Checkpoint::open(&empty).is_ok());
    assert!(matches!(
        save(Path::new(".."), &store, opt.as_ref(), &run_state(0)),
        Err(CheckpointError::AlreadyExists { .. }
            | CheckpointError::BadPath { .. }
            | CheckpointError::DirectoryNotEmpty { .. })
    ));
}

/// A hook that fails when asked to write `file`.
fn fail_at(file: &'static str) -> impl FnMut(&str) -> std::io::Result<()> {
    move |name| {
        if name == file {
            Err(std::io::Error::other("injected failure"))
        } else {
            Ok(())
        }
    }
}

#[test]
fn failed_save_leaves_previous_checkpoint_loadable() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut opt = adamw();
    let old_store = trained(3, 2, opt.as_mut());
    let old_dir = save_step(root, &old_store, opt.as_ref(), &run_state(2), None).unwrap();
    let old_bits = bits(&old_store);

    let new_store = trained(3, 4, opt.as_mut());
    for failing in [OPTIMIZER_FILE, SIDECAR_FILE] {
        let err = save_step_with_hook(
            root,
            &new_store,
            opt.as_ref(),
            &run_state(4),
            None,
            &mut fail_at(failing),
        );
        assert!(matches!(err, Err(CheckpointError::Io { .. })), "{err:?}");
        assert_eq!(latest(root).unwrap().as_deref(), Some(old_dir.as_path()));
        assert!(
            !root.join(step_dir_name(4)).exists(),
            "no half-written final directory"
        );
        let staged = root.join(format!("{}.partial", step_dir_name(4)));
        assert!(
            staged.join(MODEL_FILE).exists(),
            "the first file was written before the failure"
        );
        assert!(matches!(
            Checkpoint::open(&staged),
            Err(CheckpointError::Incomplete { .. })
        ));

        let mut store = model(0);
        let mut fresh = adamw();
        Checkpoint::open(&old_dir)
            .unwrap()
            .restore(&mut store, fresh.as_mut())
            .unwrap();
        assert_eq!(bits(&store), old_bits);
        assert_eq!(fresh.step_count(), 2);
    }
    // A retry cleans up the leftovers and commits.
    let new_dir = save_step(root, &new_store, opt.as_ref(), &run_state(4), None).unwrap();
    assert_eq!(latest(root).unwrap(), Some(new_dir.clone()));
    assert!(!root.join(format!("{}.partial", step_dir_name(4))).exists());
    let mut store = model(0);
    Checkpoint::open(&new_dir)
        .unwrap()
        .restore_params(&mut store)
        .unwrap();
    assert_eq!(bits(&store), bits(&new_store));
}

#[test]
fn failed_replacement_keeps_the_old_checkpoint_of_that_step() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let opt = adamw();
    let first = model(1);
    let dir = save_step(root, &first, opt.as_ref(), &run_state(5), None).unwrap();
    let second = model(2);
    assert!(save_step_with_hook(
        root,
        &second,
        opt.as_ref(),
        &run_state(5),
        None,
        &mut fail_at(SIDECAR_FILE)
    )
    .is_err());
    let mut store = model(0);
    Checkpoint::open(&dir)
        .unwrap()
        .restore_params(&mut store)
        .unwrap();
    assert_eq!(bits(&store), bits(&first));
    // A successful replacement swaps in the new contents.
    save_step(root, &second, opt.as_ref(), &run_state(5), None).unwrap();
    Checkpoint::open(&dir)
        .unwrap()
        .restore_params(&mut store)
        .unwrap();
    assert_eq!(bits(&store), bits(&second));
    let names: Vec<String> = fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names,
        [step_dir_name(5)],
        "no staging or replaced directories left"
    );
}

#[test]
fn keep_last_prunes_oldest_and_latest_finds_newest() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    assert_eq!(latest(root).unwrap(), None);
    assert_eq!(latest(&root.join("missing")).unwrap(), None);
    let opt = adamw();
    let store = model(1);
    for step in [10, 20, 30, 40] {
        save_step(root, &store, opt.as_ref(), &run_state(step), Some(2)).unwrap();
    }
    fs::create_dir(root.join("step-00000099.partial")).unwrap();
    fs::create_dir(root.join("step-00000098")).unwrap(); // no sidecar: not complete
    let mut names: Vec<String> = fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "step-00000030",
            "step-00000040",
            "step-00000098",
            "step-00000099.partial"
        ]
    );
    assert_eq!(latest(root).unwrap(), Some(root.join("step-00000040")));
}

/// Saves a checkpoint and returns its directory (inside `tmp`).
fn saved(tmp: &Path) -> std::path::PathBuf {
    let dir = tmp.join("c");
    let mut opt = adamw();
    let store = trained(4, 2, opt.as_mut());
    save(&dir, &store, opt.as_ref(), &run_state(2)).unwrap();
    dir
}

fn restore_err(dir: &Path) -> CheckpointError {
    let mut store = model(0);
    let before = bits(&store);
    let mut opt = adamw();
    let err = Checkpoint::open(dir)
        .and_then(|c| c.restore(&mut store, opt.as_mut()))
        .unwrap_err();
    assert_eq!(bits(&store), before, "a failed restore changes nothing");
    assert_eq!(opt.step_count(), 0);
    err
}

#[test]
fn missing_and_malformed_files_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = saved(tmp.path());
    assert!(matches!(
        restore_err(&tmp.path().join("nope")),
        CheckpointError::NotACheckpoint { .. }
    ));
    assert!(matches!(
        restore_err(tmp.path()),
        CheckpointError::NotACheckpoint { .. }
    ));

    let sidecar = dir.join(SIDECAR_FILE);
    let good = fs::read_to_string(&sidecar).unwrap();
    fs::write(&sidecar, "{ not json").unwrap();
    let err = restore_err(&dir);
    assert!(matches!(err, CheckpointError::BadSidecar { .. }), "{err}");
    fs::write(&sidecar, good.replace("\"version\": 1", "\"version\": 99")).unwrap();
    let err = restore_err(&dir);
    assert!(
        err.to_string().contains("version 99 is not supported"),
        "{err}"
    );
    fs::write(
        &sidecar,
        good.replace("\"step\": 2,\n  \"config\"", "\"config\""),
    )
    .unwrap();
    let err = restore_err(&dir);
    assert!(err.to_string().contains("missing field `step`"), "{err}");
    fs::write(&sidecar, &good).unwrap();

    let model_path = dir.join(MODEL_FILE);
    let model_bytes = fs::read(&model_path).unwrap();
    fs::write(&model_path, &model_bytes[..model_bytes.len() - 10]).unwrap();
    let err = restore_err(&dir);
    assert!(err.to_string().contains("truncated or replaced"), "{err}");
    let mut flipped = model_bytes.clone();
    *flipped.last_mut().unwrap() ^= 1;
    fs::write(&model_path, &flipped).unwrap();
    let err = restore_err(&dir);
    assert!(err.to_string().contains("SHA-256"), "{err}");
    fs::remove_file(&model_path).unwrap();
    assert!(matches!(
        restore_err(&dir),
        CheckpointError::MissingFile { .. }
    ));
    fs::write(&model_path, &model_bytes).unwrap();

    fs::remove_file(&sidecar).unwrap();
    assert!(matches!(
        restore_err(&dir),
        CheckpointError::Incomplete { .. }
    ));
}

/// Replaces `file` with `bytes` and updates the sidecar's record so only the tensor checks can
/// catch the problem.
fn forge(dir: &Path, file: &str, bytes: &[u8]) {
    fs::write(dir.join(file), bytes).unwrap();
    let sidecar = dir.join(SIDECAR_FILE);
    let mut meta: CheckpointMeta =
        serde_json::from_str(&fs::read_to_string(&sidecar).unwrap()).unwrap();
    meta.files.insert(file.to_string(), FileRecord::of(bytes));
    fs::write(&sidecar, serde_json::to_vec(&meta).unwrap()).unwrap();
}

#[test]
fn tensor_problems_behind_a_valid_sidecar_are_caught() {
    use safetensors::tensor::{Dtype, TensorView};
    let tmp = tempfile::tempdir().unwrap();
    let dir = saved(tmp.path());
    let original = fs::read(dir.join(MODEL_FILE)).unwrap();
    let st = safetensors::SafeTensors::deserialize(&original).unwrap();
    let mut tensors: Vec<(String, TensorView<'_>)> = st.tensors();

    // Truncated safetensors data.
    forge(&dir, MODEL_FILE, &original[..original.len() - 4]);
    assert!(matches!(
        restore_err(&dir),
        CheckpointError::BadSafetensors { .. }
    ));

    // A tensor missing.
    let without: Vec<_> = tensors
        .iter()
        .filter(|(n, _)| n != "2.bias")
        .cloned()
        .collect();
    forge(
        &dir,
        MODEL_FILE,
        &safetensors::serialize(without, None).unwrap(),
    );
    let err = restore_err(&dir);
    assert!(
        matches!(err, CheckpointError::MissingTensor { ref name, .. } if name == "2.bias"),
        "{err}"
    );

    // A tensor with the wrong shape (same byte count).
    let data = st.tensor("2.weight").unwrap().data();
    let reshaped = TensorView::new(Dtype::F32, vec![8, 10], data).unwrap();
    let i = tensors.iter().position(|(n, _)| n == "2.weight").unwrap();
    tensors[i].1 = reshaped;
    forge(
        &dir,
        MODEL_FILE,
        &safetensors::serialize(tensors.clone(), None).unwrap(),
    );
    let err = restore_err(&dir);
    assert!(
        matches!(err, CheckpointError::WrongShape { ref found, .. } if found == &[8, 10]),
        "{err}"
    );

    // A tensor with the wrong dtype.
    let as_i32 = TensorView::new(Dtype::I32, vec![10, 8], data).unwrap();
    tensors[i].1 = as_i32;
    forge(
        &dir,
        MODEL_FILE,
        &safetensors::serialize(tensors, None).unwrap(),
    );
    assert!(matches!(
        restore_err(&dir),
        CheckpointError::WrongDtype { .. }
    ));
}

#[test]
fn model_and_optimizer_mismatches_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = saved(tmp.path());
    let ckpt = Checkpoint::open(&dir).unwrap();

    let mut wider = ParamStore::from_tensors(model(0).params().iter().map(|p| {
        let mut shape = p.shape().to_vec();
        if p.name() == "2.weight" {
            shape[0] = 11;
        }
        let n = shape.iter().product();
        (p.name().to_string(), shape, vec![0.0; n])
    }))
    .unwrap();
    let err = ckpt.restore_params(&mut wider).unwrap_err();
    assert!(
        err.to_string()
            .contains("`2.weight` is [10, 8] in the checkpoint but [11, 8]"),
        "{err}"
    );

    let mut extra = model(0);
    extra.push("4.weight", vec![2], vec![0.0; 2]).unwrap();
    let err = ckpt.restore_params(&mut extra).unwrap_err();
    assert!(
        err.to_string().contains("the model has `4.weight`"),
        "{err}"
    );

    let mut sgd = Sgd::new(SgdConfig {
        momentum: 0.9,
        ..Default::default()
    })
    .unwrap();
    let err = ckpt.restore(&mut model(0), &mut sgd).unwrap_err();
    assert!(
        err.to_string()
            .contains("saved with adamw, the run uses sgd"),
        "{err}"
    );

    // Adam shares AdamW's slots but is a different optimizer.
    let mut adam = OptimizerConfig::from_name("adam").unwrap().build().unwrap();
    assert!(matches!(
        ckpt.restore(&mut model(0), adam.as_mut()),
        Err(CheckpointError::OptimizerMismatch(_))
    ));
}

#[test]
fn sgd_with_and_without_momentum_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, momentum) in [0.0, 0.9].into_iter().enumerate() {
        let config = SgdConfig {
            momentum,
            ..Default::default()
        };
        let mut opt = Sgd::new(config.clone()).unwrap();
        let store = trained(6, 2, &mut opt);
        let dir = tmp.path().join(format!("sgd{i}"));
        save(&dir, &store, &opt, &run_state(2)).unwrap();
        let mut restored = model(0);
        let mut fresh = Sgd::new(config).unwrap();
        Checkpoint::open(&dir)
            .unwrap()
            .restore(&mut restored, &mut fresh)
            .unwrap();
        assert_eq!(fresh.step_count(), 2);
        assert_eq!(state_bits(&fresh), state_bits(&opt));
        // Turning momentum on or off across a resume is refused.
        let mut other = Sgd::new(SgdConfig {
            momentum: 0.9 - momentum,
            ..Default::default()
        })
        .unwrap();
        assert!(Checkpoint::open(&dir)
            .unwrap()
            .restore(&mut model(0), &mut other)
            .is_err());
    }
}

#[test]
fn fresh_optimizer_state_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let opt = adamw();
    save(&dir, &model(1), opt.as_ref(), &run_state(0)).unwrap();
    let mut restored_opt = adamw();
    let mut store = model(2);
    Checkpoint::open(&dir)
        .unwrap()
        .restore(&mut store, restored_opt.as_mut())
        .unwrap();
    assert_eq!(restored_opt.step_count(), 0);
    assert!(restored_opt.state_buffers().is_empty());
    assert_eq!(bits(&store), bits(&model(1)));
}

#[test]
fn init_loads_matching_weights_and_reports_the_rest() {
    use half::f16;
    use safetensors::tensor::{Dtype, TensorView};
    let tmp = tempfile::tempdir().unwrap();
    let dir = saved(tmp.path());
    let source = Checkpoint::open(&dir).unwrap();
    let mut expected = model(0);
    source.restore_params(&mut expected).unwrap();

    // From a checkpoint directory: everything matches.
    let mut store = model(9);
    let report = load_init_weights(&dir, &mut store, false).unwrap();
    assert_eq!(report.loaded.len(), 4);
    assert!(report.missing.is_empty() && report.unused.is_empty());
    assert_eq!(bits(&store), bits(&expected));

    // A file with an fp16 tensor, an extra tensor, and without `2.bias`.
    let half_w: Vec<u8> = (0..80)
        .flat_map(|i| f16::from_f32(i as f32 / 8.0).to_le_bytes())
        .collect();
    let extra = vec![0u8; 8];
    let file = tmp.path().join("partial.safetensors");
    let tensors = vec![
        (
            "2.weight",
            TensorView::new(Dtype::F16, vec![10, 8], &half_w).unwrap(),
        ),
        (
            "head.extra",
            TensorView::new(Dtype::F32, vec![2], &extra).unwrap(),
        ),
    ];
    fs::write(&file, safetensors::serialize(tensors, None).unwrap()).unwrap();
    let mut store = model(9);
    let before = bits(&store);
    let err = load_init_weights(&file, &mut store, false).unwrap_err();
    assert!(
        err.to_string()
            .contains("no weights for 3 model parameter(s): 0.weight, 0.bias, 2.bias"),
        "{err}"
    );
    assert_eq!(bits(&store), before);
    let report = load_init_weights(&file, &mut store, true).unwrap();
    assert_eq!(report.loaded, ["2.weight"]);
    assert_eq!(report.missing, ["0.weight", "0.bias", "2.bias"]);
    assert_eq!(report.unused, ["head.extra"]);
    let w = store.get("2.weight").unwrap().master();
    assert!(w.iter().enumerate().all(|(i, &x)| x == i as f32 / 8.0));
    assert_eq!(
        store.params()[0].master(),
        model(9).params()[0].master(),
        "missing ones keep their values"
    );

    // Shape mismatch is always an error.
    let tensors = vec![(
        "2.weight",
        TensorView::new(Dtype::F16, vec![8, 10], &half_w).unwrap(),
    )];
    fs::write(&file, safetensors::serialize(tensors, None).unwrap()).unwrap();
    assert!(matches!(
        load_init_weights(&file, &mut store, true),
        Err(CheckpointError::WrongShape { .. })
    ));
    let absent = load_init_weights(&tmp.path().join("absent.safetensors"), &mut store, true);
    assert!(
        matches!(absent, Err(CheckpointError::Read(_))),
        "{absent:?}"
    );
    assert!(absent
        .unwrap_err()
        .to_string()
        .contains("absent.safetensors"));
    // NaN or infinity in a weight is refused, naming the tensor and the element.
    let mut bad = vec![0.5f32; 8 * 10];
    bad[17] = f32::NAN;
    let bad_bytes: Vec<u8> = bad.iter().flat_map(|v| v.to_le_bytes()).collect();
    let nan_file = tmp.path().join("nan.safetensors");
    let tensors = vec![(
        "2.weight",
        TensorView::new(Dtype::F32, vec![10, 8], &bad_bytes).unwrap(),
    )];
    fs::write(&nan_file, safetensors::serialize(tensors, None).unwrap()).unwrap();
    let err = load_init_weights(&nan_file, &mut store, true).unwrap_err();
    assert!(
        matches!(err, CheckpointError::NonFiniteWeight { index: 17, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("`2.weight`"), "{err}");
    // Something other than a file is refused without reading it.
    let dev = load_init_weights(Path::new("/dev/zero"), &mut store, true);
    if Path::new("/dev/zero").exists() {
        let err = dev.unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }
}
