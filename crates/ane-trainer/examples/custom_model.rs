//! Train a model you define yourself, through the library rather than the CLI.
//!
//! ```sh
//! cargo run --release -p ane-trainer --example custom_model
//! ```
//!
//! The model is a small MLP with LayerNorm, GELU and dropout — none of the presets. ane-trainer
//! traces it, derives its backward pass, plans ANE kernels and host kernels, compiles each once,
//! and trains it on the MNIST sample embedded in the binary (on the Neural Engine on a Mac, on the
//! simulator elsewhere). Then it evaluates the test split and writes the weights as safetensors
//! under PyTorch's names.

use ane_compiler::abi::HostValue;
use ane_compiler::plan::PlanOptions;
use ane_device::ChipFamily;
use ane_trainer::checkpoint::save_weights;
use ane_trainer::data::{mnist_sample, Batch, LastBatch, Normalize, PixelMap, ShuffledBatches};
use ane_trainer::executor::{DeviceChoice, Devices, EvalExecutor, MicroBatch, TrainingExecutor};
use ane_trainer::executor::{EvalResult, UpdateRule};
use ane_trainer::nn::{Dropout, Gelu, InputSpec, LayerNorm, Linear, Loss, Model, Sequential};
use ane_trainer::optim::{LossScaler, LossScalerConfig, OptimizerConfig};
use ane_trainer::trainer::evaluate::evaluate_split;

const BATCH: usize = 64;
const EPOCHS: u64 = 5;
const PEAK_LR: f64 = 2e-3;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The model: children are named `0`, `1`, … as in torch.nn.Sequential.
    let net = Sequential::new()
        .then(Linear::new(784, 256))
        .then(LayerNorm::new(256))
        .then(Gelu::default())
        .then(Dropout::new(0.1))
        .then(Linear::new(256, 10));
    let model = Model::new(net, InputSpec::images(&[784]))?;
    let mut params = model.init_params(7)?;
    println!(
        "model: {} parameters in {} tensors",
        model.num_parameters(),
        params.len()
    );

    // 2. Devices and the plans: the Neural Engine when there is one, else the simulator.
    let mut devices = Devices::open(DeviceChoice::Auto, None)?;
    eprintln!("{}", devices.note());
    let options = PlanOptions::new(devices.chip().unwrap_or(ChipFamily::M4));
    let mut train = TrainingExecutor::new(
        &model,
        BATCH,
        Loss::CrossEntropy,
        &options,
        &mut devices,
        &params,
    )?;
    let mut eval = EvalExecutor::new(&model, BATCH, &options, &mut devices, &params)?;
    let plan = train.summary();
    println!(
        "training step: {} ANE + {} host dispatches",
        plan.ane_dispatches, plan.host_dispatches
    );

    // 3. Data: the embedded MNIST sample, standardized, shuffled with a seed.
    let data = mnist_sample()?;
    let map = PixelMap::new(Normalize::Standard, data.stats());
    let mut stream = ShuffledBatches::new(data.train(), BATCH, LastBatch::Drop, 7, map.clone())?;
    let mut batch: Batch<i32> = Batch::for_split(BATCH, data.train());

    // 4. Adam with dynamic loss scaling (fp16 kernels) and a cosine learning rate.
    let optimizer = OptimizerConfig::from_name("adam")?.build()?;
    let scaler = LossScaler::new(LossScalerConfig::default())?;
    let mut rule = UpdateRule::new(optimizer, scaler, Some(1.0), 1);
    let total = EPOCHS * stream.batches_per_epoch();
    for step in 0..total {
        stream.next_into(&mut batch)?;
        let micro = MicroBatch {
            inputs: HostValue::F32(batch.images_padded()),
            targets: batch.labels_padded(),
            // Dropout masks are a pure function of (seed, step): reproducible runs.
            dropout: [7, i32::try_from(step)?],
        };
        let loss = train.run_micro_batch(&mut devices, &mut params, &micro, rule.loss_scale())?;
        let progress = step as f64 / total as f64;
        let lr = PEAK_LR * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        rule.apply(&mut params, lr)?;
        if (step + 1) % stream.batches_per_epoch() == 0 {
            let epoch = (step + 1) / stream.batches_per_epoch();
            println!("epoch {epoch}: last loss {loss:.4}");
        }
    }

    // 5. Evaluate on the test split (dropout is off in the evaluation graph).
    let result: EvalResult = evaluate_split(&mut eval, &mut devices, &params, data.test(), &map)?;
    println!(
        "test accuracy: {:.2}% ({}/{}), test loss {:.4}",
        100.0 * result.accuracy(),
        result.correct,
        result.examples,
        result.mean_loss()
    );

    // 6. Weights as safetensors (`0.weight` [256, 784], `1.weight` for the LayerNorm, …).
    let path = std::env::temp_dir().join("ane-trainer-custom-model.safetensors");
    save_weights(&params, &path)?;
    println!("weights written to {}", path.display());
    Ok(())
}
