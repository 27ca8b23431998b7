//! `ane-trainer`: what users touch — layers (`nn`), optimizers (`optim`), datasets (`data`),
//! the executor that runs a Plan on a Device, the training loop, checkpoints and metrics,
//! NumPy `.npy` files (`npy`), and the op conformance suite `ane-trainer doctor` runs
//! (`conformance`).
pub mod checkpoint;
pub mod conformance;
pub mod data;
pub mod executor;
pub mod fit;
pub mod metrics;
pub mod nn;
pub mod npy;
pub mod optim;
pub mod params;
pub mod rng;
pub mod trainer;

// Core ML `.mlpackage` export (kept apart from the list above so merges stay clean).
pub mod export;
