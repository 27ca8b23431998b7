//! Define a model that is none of the presets, then train, evaluate and save it through the
//! library's `Trainer` (on the Neural Engine on a Mac, on the simulator elsewhere):
//! `cargo run --release -p ane-trainer --example custom_model`
use ane_trainer::data::Normalize;
use ane_trainer::fit::{load_arrays, FitOptions, Silent, Trainer, TrainerConfig};
use ane_trainer::nn::{Dropout, Gelu, InputSpec, LayerNorm, Linear, Loss, Model, Sequential};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Children are named `0`, `1`, … as in torch.nn.Sequential, so the weights load in PyTorch.
    let net = Sequential::new()
        .then(Linear::new(784, 256))
        .then(LayerNorm::new(256))
        .then(Gelu::default())
        .then(Dropout::new(0.1))
        .then(Linear::new(256, 10));
    let model = Model::new(net, InputSpec::images(&[784]))?;
    let config = TrainerConfig::default().lr(2e-3).clip(Some(1.0)).seed(7);
    let mut trainer = Trainer::new(model, Loss::CrossEntropy, config)?;
    let (train, test) = load_arrays("mnist-sample", Normalize::Standard, false)?;
    let options = FitOptions {
        epochs: 5,
        validation: Some(&test),
        ..Default::default()
    };
    let history = trainer.fit(&train, &options, &mut Silent)?;
    let last = history.epochs.last().expect("five epochs ran");
    println!(
        "5 epochs on {}: last loss {:.4}",
        trainer.device_name(),
        last.loss
    );
    let result = trainer.evaluate(&test)?;
    println!("test accuracy: {:.2}%", 100.0 * result.accuracy());
    let path = trainer.save(&std::env::temp_dir().join("ane-trainer-custom-model"))?;
    println!("weights written to {}", path.display());
    Ok(())
}
