//! More than the MLP trains through the executor on the simulator: a small CNN on the MNIST
//! sample and a tiny Llama on a synthetic next-token task (with dropout, so the executor's masks
//! are exercised) both lower their training loss within a few dozen steps. Also: gradient
//! accumulation over two micro-batches gives the update of one batch twice the size.

use ane_compiler::abi::HostValue;
use ane_compiler::plan::PlanOptions;
use ane_device::ChipFamily;
use ane_trainer::data::{mnist_sample, Batch, LastBatch, Normalize, PixelMap, ShuffledBatches};
use ane_trainer::executor::{DeviceChoice, Devices, MicroBatch, TrainingExecutor, UpdateRule};
use ane_trainer::nn::{Preset, PresetFlags};
use ane_trainer::optim::{LossScaler, LossScalerConfig, OptimizerConfig};
use ane_trainer::params::ParamStore;
use ane_trainer::rng::Rng;

fn preset(name: &str, flags: &[&str]) -> Preset {
    Preset::from_name_and_flags(name, &PresetFlags::parse(flags.iter().copied()).unwrap()).unwrap()
}

fn adam(accum: u32, scaler: LossScalerConfig) -> UpdateRule {
    let opt = OptimizerConfig::from_name("adam").unwrap().build().unwrap();
    UpdateRule::new(opt, LossScaler::new(scaler).unwrap(), None, accum)
}

fn mean(xs: &[f32]) -> f32 {
    xs.iter().sum::<f32>() / xs.len() as f32
}

#[test]
fn small_cnn_learns_mnist_digits() {
    let preset = preset("cnn", &["channels=4,8"]);
    let model = preset.model().unwrap();
    let mut params = model.init_params(3).unwrap();
    let mut devices = Devices::open(DeviceChoice::Sim, None).unwrap();
    let batch_size = 32;
    let options = PlanOptions::new(ChipFamily::M4);
    let mut exec = TrainingExecutor::new(
        &model,
        batch_size,
        preset.default_loss(),
        &options,
        &mut devices,
        &params,
    )
    .unwrap();
    let summary = exec.summary();
    println!("cnn: {summary:?}");
    assert!(
        summary.ane_dispatches > 0,
        "the convolutions run in ANE kernels"
    );

    let data = mnist_sample().unwrap();
    let map = PixelMap::new(Normalize::Standard, data.stats());
    let mut stream =
        ShuffledBatches::new(data.train(), batch_size, LastBatch::Drop, 3, map).unwrap();
    let mut batch: Batch<i32> = Batch::for_split(batch_size, data.train());
    let mut rule = adam(1, LossScalerConfig::default());
    let mut losses = Vec::new();
    for step in 0..40 {
        stream.next_into(&mut batch).unwrap();
        let micro = MicroBatch {
            inputs: HostValue::F32(batch.images_padded()),
            targets: batch.labels_padded(),
            dropout: [3, step],
        };
        let loss = exec
            .run_micro_batch(&mut devices, &mut params, &micro, rule.loss_scale())
            .unwrap();
        rule.apply(&mut params, 2e-3).unwrap();
        losses.push(loss);
    }
    println!("cnn losses: {losses:?}");
    assert!(losses.iter().all(|l| l.is_finite()));
    let (first, last) = (mean(&losses[..5]), mean(&losses[35..]));
    assert!(
        last < 0.7 * first,
        "CNN loss {first} → {last} did not fall by 30%"
    );
}

#[test]
fn tiny_llama_learns_a_synthetic_next_token_task() {
    // Each sequence counts up from a random start modulo the vocabulary: the next token is
    // always current + 1, learnable from the embedding alone but only through the whole model.
    let (vocab, seq, batch_size) = (16usize, 8usize, 8usize);
    let preset = preset(
        "llama",
        &[
            "dim=32",
            "n_layers=1",
            "n_heads=2",
            "hidden_dim=64",
            "vocab_size=16",
            "seq_len=8",
            "dropout=0.1",
        ],
    );
    let model = preset.model().unwrap();
    let mut params: ParamStore = model.init_params(5).unwrap();
    let mut devices = Devices::open(DeviceChoice::Sim, None).unwrap();
    let options = PlanOptions::new(ChipFamily::M4);
    let mut exec = TrainingExecutor::new(
        &model,
        batch_size,
        preset.default_loss(),
        &options,
        &mut devices,
        &params,
    )
    .unwrap();
    println!("llama: {:?}", exec.summary());
    let mut rng = Rng::new(11);
    let mut tokens = vec![0i32; batch_size * seq];
    let mut targets = vec![0i32; batch_size * seq];
    let mut rule = adam(1, LossScalerConfig::default());
    let mut losses = Vec::new();
    for step in 0..60 {
        for row in 0..batch_size {
            let start = rng.below(vocab as u64) as usize;
            for t in 0..seq {
                tokens[row * seq + t] = ((start + t) % vocab) as i32;
                targets[row * seq + t] = ((start + t + 1) % vocab) as i32;
            }
        }
        let micro = MicroBatch {
            inputs: HostValue::I32(&tokens),
            targets: &targets,
            dropout: [5, step],
        };
        let loss = exec
            .run_micro_batch(&mut devices, &mut params, &micro, rule.loss_scale())
            .unwrap();
        rule.apply(&mut params, 1e-2).unwrap();
        losses.push(loss);
    }
    println!("llama losses: {losses:?}");
    assert!(losses.iter().all(|l| l.is_finite()));
    let (first, last) = (mean(&losses[..5]), mean(&losses[55..]));
    assert!(
        first > 2.0 && last < 0.5 * first,
        "llama loss {first} → {last} did not halve"
    );
}

#[test]
fn two_accumulated_micro_batches_equal_one_double_batch() {
    // fp32 kernels on the simulator compute exactly in f32: the only difference between the two
    // updates is the order of additions.
    let preset = preset("mlp", &["widths=784,32,10"]);
    let model = preset.model().unwrap();
    let data = mnist_sample().unwrap();
    let map = PixelMap::new(Normalize::Standard, data.stats());
    let options =
        PlanOptions::new(ChipFamily::M4).with_precision(ane_compiler::lower::Precision::Fp32);
    let sgd = || OptimizerConfig::from_name("sgd").unwrap().build().unwrap();

    let run = |batch_size: usize, accum: u32| -> ParamStore {
        let mut params = model.init_params(9).unwrap();
        let mut devices = Devices::open(DeviceChoice::Sim, None).unwrap();
        let mut exec = TrainingExecutor::new(
            &model,
            batch_size,
            preset.default_loss(),
            &options,
            &mut devices,
            &params,
        )
        .unwrap();
        let mut stream =
            ShuffledBatches::new(data.train(), batch_size, LastBatch::Drop, 9, map.clone())
                .unwrap();
        let mut batch: Batch<i32> = Batch::for_split(batch_size, data.train());
        let mut rule = UpdateRule::new(
            sgd(),
            LossScaler::new(LossScalerConfig::fixed(1.0)).unwrap(),
            None,
            accum,
        );
        for k in 0..accum {
            stream.next_into(&mut batch).unwrap();
            let micro = MicroBatch {
                inputs: HostValue::F32(batch.images_padded()),
                targets: batch.labels_padded(),
                dropout: [9, k as i32],
            };
            exec.run_micro_batch(&mut devices, &mut params, &micro, 1.0)
                .unwrap();
        }
        rule.apply(&mut params, 0.5).unwrap();
        params
    };
    let (double, accumulated) = (run(64, 1), run(32, 2));
    let start = model.init_params(9).unwrap();
    for ((d, a), s) in double
        .params()
        .iter()
        .zip(accumulated.params())
        .zip(start.params())
    {
        let mut moved = 0.0f32;
        for ((&x, &y), &s) in d.master().iter().zip(a.master()).zip(s.master()) {
            moved = moved.max((x - s).abs());
            assert!(
                (x - y).abs() <= 1e-6 + 1e-5 * x.abs(),
                "{}: {x} vs {y}",
                d.name()
            );
        }
        assert!(moved > 1e-4, "{} did not move", d.name());
    }
}
