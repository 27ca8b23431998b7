//! The library's training entry point for any model: a [`Trainer`] takes a [`Model`](crate::nn::Model),
//! a loss and a [`TrainerConfig`], and fits it on in-memory [`Arrays`], evaluates, predicts and
//! saves — the devices, plans, compiles, fp16 loss scaling, optimizer and schedule wired once.
//! It never prints: progress goes to an [`Observer`], results come back as a [`History`].
//!
//! ```no_run
//! use ane_trainer::fit::{Arrays, FitOptions, Silent, Trainer, TrainerConfig};
//! use ane_trainer::nn::{InputSpec, Linear, Loss, Model, Relu, Sequential};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let net = Sequential::new().then(Linear::new(784, 256)).then(Relu).then(Linear::new(256, 10));
//! let model = Model::new(net, InputSpec::images(&[784]))?;
//! let mut trainer = Trainer::new(model, Loss::CrossEntropy, TrainerConfig::default())?;
//! # let (x, y) = (vec![0.0f32; 64 * 784], vec![0i32; 64]);
//! let data = Arrays::new(x, &[784], y)?;
//! let options = FitOptions { epochs: 5, ..FitOptions::default() };
//! let history = trainer.fit(&data, &options, &mut Silent)?;
//! let result = trainer.evaluate(&data)?;
//! # Ok(()) }
//! ```

mod arrays;
mod config;
mod observer;
mod trainer;

pub use arrays::{load_arrays, Arrays};
pub use config::TrainerConfig;
pub use observer::{EpochEvent, Event, History, Observer, Silent, StepEvent};
pub use trainer::{FitOptions, Trainer, WEIGHTS_FILE};
