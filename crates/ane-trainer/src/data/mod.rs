//! Datasets for image classification: reading IDX files (MNIST's format), the MNIST sample
//! embedded in the binary, downloading full MNIST and Fashion-MNIST with pinned hashes,
//! locating data on disk, pixel normalization, and deterministic, resumable batching.
//!
//! The usual path: [`load_dataset`] → [`ImageDataset`] → [`PixelMap`] for the chosen
//! [`Normalize`] mode → [`ShuffledBatches`] (training) / [`EvalBatches`] (evaluation) filling a
//! reusable [`Batch`].

pub mod batch;
pub mod catalog;
pub mod dataset;
pub mod download;
pub mod embedded;
pub mod error;
pub mod idx;
pub mod locate;
pub mod normalize;

#[cfg(test)]
mod sample_build;
#[cfg(test)]
mod test_server;

pub use batch::{
    fill_rows, Batch, BatchCursor, BatchPosition, EvalBatches, Label, LastBatch, ShuffledBatches,
};
pub use catalog::{DatasetName, KnownDataset, IDX_FILE_NAMES};
pub use dataset::{DataSource, ImageDataset, ImageSplit};
pub use download::{default_cache_dir, DownloadOptions};
pub use embedded::mnist_sample;
pub use error::DataError;
pub use locate::{load_dataset, load_idx_dir, LoadOptions};
pub use normalize::{NormStats, Normalize, PixelMap, StatsOrigin};
