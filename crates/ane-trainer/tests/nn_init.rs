//! Initialization follows PyTorch's defaults (and llama2.c's for the llama preset), is drawn in
//! declaration order from `Rng::derive(seed, "init")`, and is reproducible bit for bit.
//!
//! Sampling tolerances: for n draws of U(−b, b) the sample mean has standard deviation
//! b/√(3n) and the sample standard deviation b/√3 has relative spread ≈ 0.45/√n; for N(0, σ²)
//! the mean has σ/√n and the standard deviation σ/√(2n). Every check allows 5 of those spreads
//! (the seeds are fixed, so the tests are deterministic; 5σ keeps them meaningful for any seed).

mod nn_common;

use ane_trainer::nn::{
    Embedding, Init, InputSpec, LayerNorm, Linear, Model, Preset, PresetFlags, RmsNorm, Sequential,
    INIT_RNG_PURPOSE,
};
use ane_trainer::params::ParamStore;
use ane_trainer::rng::Rng;
use nn_common::mean_std;

fn preset_params(name: &str, flags: &[&str], seed: u64) -> ParamStore {
    let flags = PresetFlags::parse(flags.iter().copied()).unwrap();
    Preset::from_name_and_flags(name, &flags)
        .unwrap()
        .model()
        .unwrap()
        .init_params(seed)
        .unwrap()
}

/// Values lie in [−bound, bound], fill it (max |v| > 0.9·bound with many draws), and have the
/// uniform's mean 0 and standard deviation bound/√3.
fn assert_uniform(values: &[f32], bound: f64, what: &str) {
    let n = values.len() as f64;
    let max = values.iter().map(|v| v.abs() as f64).fold(0.0, f64::max);
    // The initializer holds the bound as an f32; compare against that exact value.
    let bound_f32 = bound as f32 as f64;
    assert!(
        max <= bound_f32,
        "{what}: |v| = {max} exceeds bound {bound}"
    );
    if n >= 100.0 {
        assert!(
            max > 0.9 * bound,
            "{what}: max |v| {max} does not reach the bound {bound}"
        );
    }
    let (mean, std) = mean_std(values);
    let expected_std = bound / 3f64.sqrt();
    assert!(
        mean.abs() < 5.0 * expected_std / n.sqrt(),
        "{what}: mean {mean} (n = {n})"
    );
    assert!(
        (std / expected_std - 1.0).abs() < 5.0 * 0.45 / n.sqrt(),
        "{what}: std {std}, expected {expected_std}"
    );
}

fn assert_normal(values: &[f32], sigma: f64, what: &str) {
    let n = values.len() as f64;
    let (mean, std) = mean_std(values);
    assert!(mean.abs() < 5.0 * sigma / n.sqrt(), "{what}: mean {mean}");
    assert!(
        (std / sigma - 1.0).abs() < 5.0 / (2.0 * n).sqrt(),
        "{what}: std {std}, expected {sigma}"
    );
    // A Gaussian, not just any distribution with that variance: 68.27 % within one sigma.
    let within = values.iter().filter(|v| (v.abs() as f64) < sigma).count() as f64 / n;
    assert!(
        (within - 0.6827).abs() < 5.0 * (0.6827f64 * 0.3173 / n).sqrt(),
        "{what}: {within} within one sigma"
    );
}

#[test]
fn mlp_linear_weights_and_biases_are_uniform_inverse_sqrt_fan_in() {
    let p = preset_params("mlp", &[], 1);
    assert_uniform(p.get("0.weight").unwrap().master(), 1.0 / 28.0, "0.weight");
    assert_uniform(p.get("0.bias").unwrap().master(), 1.0 / 28.0, "0.bias");
    assert_uniform(p.get("2.weight").unwrap().master(), 1.0 / 16.0, "2.weight");
    // 10 biases: only the bound is meaningful.
    assert_uniform(p.get("2.bias").unwrap().master(), 1.0 / 16.0, "2.bias");
    assert!(p.get("0.weight").unwrap().weight_decay());
    assert!(!p.get("0.bias").unwrap().weight_decay());
}

#[test]
fn conv_fan_in_counts_input_channels_and_window() {
    let p = preset_params("cnn", &[], 2);
    assert_uniform(
        p.get("0.weight").unwrap().master(),
        1.0 / 3.0,
        "0.weight (fan_in 1·3·3)",
    );
    assert_uniform(p.get("0.bias").unwrap().master(), 1.0 / 3.0, "0.bias");
    assert_uniform(
        p.get("3.weight").unwrap().master(),
        1.0 / 12.0,
        "3.weight (fan_in 16·3·3)",
    );
    assert_uniform(
        p.get("7.weight").unwrap().master(),
        1.0 / 1568f64.sqrt(),
        "7.weight",
    );
    // Grouped convolution: fan_in = in/groups · kh · kw.
    let conv = ane_trainer::nn::Conv2d::new(8, 16, 3).groups(4);
    assert_eq!(conv.fan_in(), 2 * 9);
    assert_eq!(conv.weight_shape(), [16, 2, 3, 3]);
}

#[test]
fn embeddings_are_standard_normal_and_norms_start_at_one() {
    let net = Sequential::new()
        .then(Embedding::new(500, 64))
        .then(LayerNorm::new(64))
        .then(RmsNorm::new(64))
        .then(Linear::new(64, 3));
    let model = Model::new(net, InputSpec::tokens(4, 500)).unwrap();
    let p = model.init_params(3).unwrap();
    assert_normal(p.get("0.weight").unwrap().master(), 1.0, "embedding");
    assert!(p
        .get("1.weight")
        .unwrap()
        .master()
        .iter()
        .all(|&v| v == 1.0));
    assert!(p.get("1.bias").unwrap().master().iter().all(|&v| v == 0.0));
    assert!(p
        .get("2.weight")
        .unwrap()
        .master()
        .iter()
        .all(|&v| v == 1.0));
    assert!(!p.get("1.weight").unwrap().weight_decay());
    assert!(p.get("0.weight").unwrap().weight_decay());
}

#[test]
fn llama_follows_llama2c_init() {
    let p = preset_params(
        "llama",
        &["dim=128", "n_layers=8", "n_heads=4", "vocab_size=300"],
        4,
    );
    let scaled = 0.02 / (2.0f64 * 8.0).sqrt();
    assert_normal(
        p.get("tok_embeddings.weight").unwrap().master(),
        0.02,
        "tok_embeddings",
    );
    for name in [
        "attention.wq",
        "attention.wk",
        "attention.wv",
        "feed_forward.w1",
        "feed_forward.w2",
    ] {
        let full = format!("layers.3.{name}.weight");
        assert_normal(p.get(&full).unwrap().master(), 0.02, &full);
    }
    for name in ["attention.wo", "feed_forward.w3"] {
        let full = format!("layers.7.{name}.weight");
        assert_normal(p.get(&full).unwrap().master(), scaled, &full);
    }
    for name in [
        "layers.0.attention_norm.weight",
        "layers.0.ffn_norm.weight",
        "norm.weight",
    ] {
        assert!(
            p.get(name).unwrap().master().iter().all(|&v| v == 1.0),
            "{name}"
        );
    }
    let untied = preset_params(
        "llama",
        &["dim=64", "n_layers=2", "n_heads=4", "tied=false"],
        4,
    );
    assert_normal(
        untied.get("output.weight").unwrap().master(),
        0.02,
        "output",
    );
}

#[test]
fn same_seed_same_bits_other_seed_other_values() {
    for preset in ["mlp", "cnn"] {
        let a = preset_params(preset, &[], 42);
        let b = preset_params(preset, &[], 42);
        let c = preset_params(preset, &[], 43);
        for ((pa, pb), pc) in a.params().iter().zip(b.params()).zip(c.params()) {
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(pa.master()), bits(pb.master()), "{}", pa.name());
            assert_ne!(pa.master(), pc.master(), "{}", pa.name());
        }
    }
    let flags = [
        "dim=32",
        "n_layers=2",
        "n_heads=2",
        "vocab_size=50",
        "seq_len=8",
    ];
    assert_eq!(
        preset_params("llama", &flags, 7),
        preset_params("llama", &flags, 7)
    );
    assert_ne!(
        preset_params("llama", &flags, 7),
        preset_params("llama", &flags, 8)
    );
}

#[test]
fn one_stream_consumed_in_declaration_order() {
    // The store equals filling each spec, in order, from Rng::derive(seed, "init").
    let model = Preset::from_name_and_flags("mlp", &PresetFlags::parse(["widths=5,4,3"]).unwrap())
        .unwrap()
        .model()
        .unwrap();
    let store = model.init_params(9).unwrap();
    let mut rng = Rng::derive(9, INIT_RNG_PURPOSE);
    for spec in model.param_specs() {
        let mut values = vec![0.0; spec.numel()];
        spec.init.fill(&mut rng, &mut values);
        assert_eq!(store.get(&spec.name).unwrap().master(), values.as_slice());
    }
    assert_eq!(
        model.param_specs()[0].init,
        Init::Uniform {
            bound: 1.0 / 5f32.sqrt()
        }
    );
    // The fp16 copy is ready for the executor.
    let p = store.get("0.weight").unwrap();
    assert_eq!(p.half()[0], half::f16::from_f32(p.master()[0]));
}
