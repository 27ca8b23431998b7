//! Reads the raw bytes of saved checkpoint files, the way Python's `safetensors` does, to check
//! that names, dtypes, shapes, offsets and data follow PyTorch's conventions.

use ane_trainer::checkpoint::{save, RunState, MODEL_FILE, OPTIMIZER_FILE};
use ane_trainer::optim::{OptimizerConfig, SgdConfig};
use ane_trainer::params::ParamStore;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Splits a safetensors file into its header JSON and data section, checking the framing:
/// an 8-byte little-endian header length, a JSON object, then the data.
fn read_raw(path: &Path) -> (Value, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(n % 8, 0, "header padded to 8 bytes so the data is aligned");
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    (header, bytes[8 + n..].to_vec())
}

/// The f32 values of one tensor entry of a header, after checking dtype and shape.
fn tensor(header: &Value, data: &[u8], name: &str, shape: &[usize]) -> Vec<f32> {
    let entry = &header[name];
    assert_eq!(entry["dtype"], "F32", "{name}");
    assert_eq!(entry["shape"], json!(shape), "{name}");
    let begin = entry["data_offsets"][0].as_u64().unwrap() as usize;
    let end = entry["data_offsets"][1].as_u64().unwrap() as usize;
    assert_eq!(end - begin, 4 * shape.iter().product::<usize>(), "{name}");
    data[begin..end]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn mlp() -> ParamStore {
    let values = |n: usize, k: f32| (0..n).map(|i| i as f32 * k).collect::<Vec<f32>>();
    ParamStore::from_tensors([
        ("0.weight", vec![4, 6], values(24, 0.5)),
        ("0.bias", vec![4], values(4, -1.0)),
        ("1.weight", vec![3, 2, 3, 3], values(54, 0.25)),
        ("2.weight", vec![2, 4], values(8, 2.0)),
    ])
    .unwrap()
}

#[test]
fn model_file_has_pytorch_names_f32_dtype_and_shapes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ckpt");
    let store = mlp();
    let optimizer = OptimizerConfig::from_name("adamw")
        .unwrap()
        .build()
        .unwrap();
    let run = RunState {
        step: 0,
        config: json!({}),
        data_cursor: json!(null),
        rng: BTreeMap::new(),
        loss_scaler: None,
    };
    save(&dir, &store, optimizer.as_ref(), &run).unwrap();

    let (header, data) = read_raw(&dir.join(MODEL_FILE));
    assert_eq!(header["__metadata__"], json!({"format": "pt"}));
    let mut names: Vec<&str> = header
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "__metadata__")
        .collect();
    names.sort();
    assert_eq!(names, ["0.bias", "0.weight", "1.weight", "2.weight"]);
    for p in store.params() {
        assert_eq!(
            tensor(&header, &data, p.name(), p.shape()),
            p.master(),
            "{}",
            p.name()
        );
    }
    // The data section is exactly covered by the tensors, with no gaps.
    let mut spans: Vec<(u64, u64)> = names
        .iter()
        .map(|n| {
            let o = &header[*n]["data_offsets"];
            (o[0].as_u64().unwrap(), o[1].as_u64().unwrap())
        })
        .collect();
    spans.sort();
    assert_eq!(spans[0].0, 0);
    assert!(spans.windows(2).all(|w| w[0].1 == w[1].0));
    assert_eq!(spans.last().unwrap().1 as usize, data.len());

    // A fresh optimizer has no state yet: an empty but valid file.
    let (header, data) = read_raw(&dir.join(OPTIMIZER_FILE));
    assert_eq!(
        header.as_object().unwrap().len(),
        1,
        "only __metadata__: {header}"
    );
    assert!(data.is_empty());
}

#[test]
fn optimizer_file_names_state_after_the_parameter() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = mlp();
    let mut sgd = OptimizerConfig::Sgd(SgdConfig {
        momentum: 0.9,
        ..Default::default()
    })
    .build()
    .unwrap();
    for p in store.params_mut() {
        p.grad_mut().fill(1.0);
    }
    sgd.step(&mut store, 0.1, 1.0).unwrap();
    let run = RunState {
        step: 1,
        config: json!({"optimizer": "sgd"}),
        data_cursor: json!({"epoch": 0}),
        rng: BTreeMap::new(),
        loss_scaler: None,
    };
    let dir = tmp.path().join("sgd");
    save(&dir, &store, sgd.as_ref(), &run).unwrap();
    let (header, data) = read_raw(&dir.join(OPTIMIZER_FILE));
    for p in store.params() {
        let name = format!("{}.momentum_buffer", p.name());
        let buf = tensor(&header, &data, &name, p.shape());
        assert!(
            buf.iter().all(|&b| b == 1.0),
            "first-step buffer is the gradient"
        );
    }
    assert_eq!(header.as_object().unwrap().len(), store.len() + 1);
}
