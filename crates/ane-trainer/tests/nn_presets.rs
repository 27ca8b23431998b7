//! The presets' parameter names, shapes and counts follow PyTorch / llama2.c, and bad names,
//! flags and sizes are rejected with messages that say what is wrong.

use ane_trainer::nn::{LlamaConfig, NnError, Preset, PresetFlags};

fn names_and_shapes(preset: &str, flags: &[&str]) -> Vec<(String, Vec<usize>)> {
    let flags = PresetFlags::parse(flags.iter().copied()).unwrap();
    let model = Preset::from_name_and_flags(preset, &flags)
        .unwrap()
        .model()
        .unwrap();
    model
        .param_specs()
        .iter()
        .map(|s| (s.name.clone(), s.shape.clone()))
        .collect()
}

fn owned(list: &[(&str, &[usize])]) -> Vec<(String, Vec<usize>)> {
    list.iter()
        .map(|(n, s)| (n.to_string(), s.to_vec()))
        .collect()
}

#[test]
fn mlp_is_named_like_torch_sequential() {
    assert_eq!(
        names_and_shapes("mlp", &[]),
        owned(&[
            ("0.weight", &[256, 784]),
            ("0.bias", &[256]),
            ("2.weight", &[10, 256]),
            ("2.bias", &[10]),
        ])
    );
    let model = Preset::from_name_and_flags("mlp", &PresetFlags::default())
        .unwrap()
        .model()
        .unwrap();
    assert_eq!(model.num_parameters(), 784 * 256 + 256 + 256 * 10 + 10);
    assert_eq!(model.num_parameters(), 203_530);
    // Deeper widths: Linear at even indices, ReLU at odd ones.
    let deep = names_and_shapes("mlp", &["widths=32,16,8,4"]);
    let names: Vec<&str> = deep.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    );
    assert_eq!(deep[4].1, [4, 8]);
}

#[test]
fn cnn_is_named_like_torch_sequential() {
    assert_eq!(
        names_and_shapes("cnn", &[]),
        owned(&[
            ("0.weight", &[16, 1, 3, 3]),
            ("0.bias", &[16]),
            ("3.weight", &[32, 16, 3, 3]),
            ("3.bias", &[32]),
            ("7.weight", &[10, 1568]),
            ("7.bias", &[10]),
        ])
    );
    let model = Preset::from_name_and_flags("cnn", &PresetFlags::default())
        .unwrap()
        .model()
        .unwrap();
    assert_eq!(model.num_parameters(), 20_490);
    // CIFAR-10 geometry: 3×32×32 → 8×8 after two pools.
    let cifar = names_and_shapes("cnn", &["input=3,32,32", "channels=32,64,128"]);
    assert_eq!(cifar[0].1, [32, 3, 3, 3]);
    assert_eq!(cifar.last().unwrap().0, "10.bias");
    assert_eq!(cifar[cifar.len() - 2].1, [10, 128 * 4 * 4]);
}

/// The llama2.c parameter names for one layer, in `named_parameters()` order.
fn llama_layer_names(i: usize) -> Vec<String> {
    [
        "attention.wq.weight",
        "attention.wk.weight",
        "attention.wv.weight",
        "attention.wo.weight",
        "feed_forward.w1.weight",
        "feed_forward.w2.weight",
        "feed_forward.w3.weight",
        "attention_norm.weight",
        "ffn_norm.weight",
    ]
    .iter()
    .map(|s| format!("layers.{i}.{s}"))
    .collect()
}

#[test]
fn llama_uses_llama2c_names_shapes_and_order() {
    let params = names_and_shapes("stories15m", &[]);
    let mut expected = vec!["tok_embeddings.weight".to_string()];
    for i in 0..6 {
        expected.extend(llama_layer_names(i));
    }
    expected.push("norm.weight".into());
    let names: Vec<String> = params.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, expected, "tied classifier: no output.weight");
    let shape = |name: &str| params.iter().find(|(n, _)| n == name).unwrap().1.clone();
    assert_eq!(shape("tok_embeddings.weight"), [32000, 288]);
    assert_eq!(shape("layers.5.attention.wq.weight"), [288, 288]);
    assert_eq!(shape("layers.5.attention.wo.weight"), [288, 288]);
    assert_eq!(shape("layers.0.feed_forward.w1.weight"), [768, 288]);
    assert_eq!(shape("layers.0.feed_forward.w2.weight"), [288, 768]);
    assert_eq!(shape("layers.0.feed_forward.w3.weight"), [768, 288]);
    assert_eq!(shape("layers.0.attention_norm.weight"), [288]);
    assert_eq!(shape("norm.weight"), [288]);

    let untied = names_and_shapes("stories15m", &["tied=false"]);
    assert_eq!(
        untied.last().unwrap(),
        &("output.weight".to_string(), vec![32000, 288])
    );

    // Grouped-query attention (stories260K: 8 heads, 4 kv heads, head dim 8).
    let small = names_and_shapes("stories260k", &[]);
    let shape = |name: &str| small.iter().find(|(n, _)| n == name).unwrap().1.clone();
    assert_eq!(shape("layers.4.attention.wq.weight"), [64, 64]);
    assert_eq!(shape("layers.4.attention.wk.weight"), [32, 64]);
    assert_eq!(shape("layers.4.attention.wv.weight"), [32, 64]);
    assert_eq!(shape("layers.4.feed_forward.w1.weight"), [172, 64]);
}

#[test]
fn stories_parameter_counts() {
    // Exact counts, computed three ways: declared specs, the closed form, and by hand.
    // stories110M: 32000·768 + 12·(4·768² + 3·768·2048 + 2·768) + 768 = 109,529,856
    // (llama2.c's README lists "110M"; untied it would be 134,105,856).
    let cases = [
        ("stories260k", 260_032usize),
        ("stories15m", 15_191_712),
        ("stories42m", 41_689_600),
        ("stories110m", 109_529_856),
    ];
    for (name, expected) in cases {
        let preset = Preset::from_name_and_flags(name, &PresetFlags::default()).unwrap();
        let model = preset.model().unwrap();
        let Preset::Llama { config, .. } = &preset else {
            panic!("{name} is a llama preset")
        };
        assert_eq!(model.num_parameters(), expected, "{name}");
        assert_eq!(config.num_parameters(), expected, "{name} closed form");
    }
    let by_hand = 32000 * 768 + 12 * (4 * 768 * 768 + 3 * 768 * 2048 + 2 * 768) + 768;
    assert_eq!(by_hand, 109_529_856);
    let mut untied = LlamaConfig::stories110m();
    untied.tied_classifier = false;
    assert_eq!(untied.num_parameters(), 134_105_856);
    // Within 0.5 % of the README's round figure.
    assert!((109_529_856f64 / 110e6 - 1.0).abs() < 0.005);
}

#[test]
fn stories110m_matches_the_landscape_table() {
    let c = LlamaConfig::stories110m();
    assert_eq!(
        (
            c.n_layers,
            c.dim,
            c.hidden_dim,
            c.n_heads,
            c.n_kv_heads,
            c.seq_len,
            c.vocab_size
        ),
        (12, 768, 2048, 12, 12, 256, 32000)
    );
    assert!(c.tied_classifier);
    let llama = Preset::from_name_and_flags("llama", &PresetFlags::default()).unwrap();
    let Preset::Llama { config, .. } = llama else {
        unreachable!()
    };
    assert_eq!(
        config,
        LlamaConfig::stories15m(),
        "`llama` = llama2.c train.py defaults"
    );
}

#[test]
fn llama_flags_override_and_derive_sizes() {
    let flags =
        PresetFlags::parse(["dim=64", "n_layers=2", "n_heads=4", "vocab_size=100"]).unwrap();
    let Preset::Llama { config, .. } = Preset::from_name_and_flags("llama", &flags).unwrap() else {
        unreachable!()
    };
    assert_eq!(config.dim, 64);
    assert_eq!(
        config.hidden_dim, 192,
        "recomputed: 2·4·64/3 = 170 → multiple of 32"
    );
    assert_eq!(config.n_kv_heads, 4, "follows n_heads when not given");
    assert_eq!(config.seq_len, 256, "kept from the base shape");
    let flags = PresetFlags::parse(["n_kv_heads=2", "hidden_dim=100", "seq_len=64"]).unwrap();
    let Preset::Llama { config, .. } = Preset::from_name_and_flags("stories260K", &flags).unwrap()
    else {
        unreachable!()
    };
    assert_eq!(
        (
            config.n_heads,
            config.n_kv_heads,
            config.hidden_dim,
            config.seq_len
        ),
        (8, 2, 100, 64)
    );
}

fn preset_error(name: &str, flags: &[&str]) -> NnError {
    let flags = PresetFlags::parse(flags.iter().copied()).unwrap();
    Preset::from_name_and_flags(name, &flags).unwrap_err()
}

#[test]
fn bad_names_flags_and_sizes_are_clear_errors() {
    let e = preset_error("resnet", &[]);
    assert!(matches!(e, NnError::UnknownPreset { .. }));
    let text = e.to_string();
    assert!(
        text.contains("resnet") && text.contains("stories110m"),
        "{text}"
    );

    let e = preset_error("mlp", &["dim=64"]).to_string();
    assert!(
        e.contains("`dim` does not apply to the `mlp` preset"),
        "{e}"
    );
    let e = preset_error("stories15m", &["widths=1,2"]).to_string();
    assert!(e.contains("`widths`"), "{e}");

    let e = preset_error("llama", &["dim=100", "n_heads=3"]).to_string();
    assert!(e.contains("dim 100 is not divisible by n_heads 3"), "{e}");
    let e = preset_error("llama", &["dim=60", "n_heads=4"]).to_string();
    assert!(e.contains("head dim") && e.contains("must be even"), "{e}");
    let e = preset_error("llama", &["n_heads=6", "n_kv_heads=4"]).to_string();
    assert!(e.contains("n_kv_heads 4 must divide n_heads 6"), "{e}");
    let e = preset_error("llama", &["dropout=1.0"]).to_string();
    assert!(e.contains("dropout"), "{e}");

    let e = preset_error("mlp", &["widths=784"]).to_string();
    assert!(e.contains("at least an input and an output"), "{e}");
    let e = preset_error("cnn", &["input=1,6,6", "channels=4,4,4"]).to_string();
    assert!(e.contains("too small"), "{e}");
}
