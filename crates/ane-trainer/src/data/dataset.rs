//! The in-memory image-classification dataset: grayscale `u8` images with `u8` class labels,
//! split into train and test, plus where it came from and its normalization statistics.
//!
//! Constructors validate every invariant (sizes, label range, matching image dimensions), so
//! batching code can index without further checks and never panics on user data.

use std::path::PathBuf;

use super::error::{DataError, Result};
use super::idx::IdxArray;
use super::normalize::NormStats;

/// One split (train or test) of an image-classification dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSplit {
    images: Vec<u8>,
    labels: Vec<u8>,
    height: usize,
    width: usize,
}

impl ImageSplit {
    /// A split of `labels.len()` images of `height × width` pixels stored row-major, image after
    /// image, in `images`. Every label must be below `num_classes`.
    pub fn new(
        images: Vec<u8>,
        labels: Vec<u8>,
        height: usize,
        width: usize,
        num_classes: usize,
    ) -> Result<Self> {
        if height == 0 || width == 0 {
            return Err(DataError::InvalidDataset(format!(
                "image size {height}×{width} has no pixels"
            )));
        }
        let expected = labels.len().checked_mul(height * width);
        if expected != Some(images.len()) {
            return Err(DataError::InvalidDataset(format!(
                "{} labels of {height}×{width} images need {} pixel bytes, got {}",
                labels.len(),
                labels.len().saturating_mul(height * width),
                images.len()
            )));
        }
        if let Some((index, &label)) = first_bad_label(&labels, num_classes) {
            return Err(DataError::InvalidDataset(format!(
                "label {label} at index {index} is out of range for {num_classes} classes"
            )));
        }
        Ok(ImageSplit {
            images,
            labels,
            height,
            width,
        })
    }

    /// A split from an IDX image array (N × H × W) and an IDX label array (N), checking that
    /// they agree and that every label is below `num_classes`. The file names go into errors.
    pub fn from_idx(
        images: IdxArray,
        images_file: &str,
        labels: IdxArray,
        labels_file: &str,
        num_classes: usize,
    ) -> Result<Self> {
        let &[count, height, width] = images.dims.as_slice() else {
            return Err(DataError::WrongDimensions {
                file: images_file.to_string(),
                found: images.dims,
                expected: "3 dimensions: images × height × width".into(),
            });
        };
        if height == 0 || width == 0 {
            return Err(DataError::WrongDimensions {
                file: images_file.to_string(),
                found: images.dims,
                expected: "a non-zero height and width".into(),
            });
        }
        let &[label_count] = labels.dims.as_slice() else {
            return Err(DataError::WrongDimensions {
                file: labels_file.to_string(),
                found: labels.dims,
                expected: "1 dimension: one label per image".into(),
            });
        };
        if count != label_count {
            return Err(DataError::CountMismatch {
                images_file: images_file.to_string(),
                images: count,
                labels_file: labels_file.to_string(),
                labels: label_count,
            });
        }
        if let Some((index, &label)) = first_bad_label(&labels.data, num_classes) {
            return Err(DataError::LabelOutOfRange {
                file: labels_file.to_string(),
                index,
                label,
                num_classes,
            });
        }
        ImageSplit::new(images.data, labels.data, height, width, num_classes)
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the split holds no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Image width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Pixels per image (`height × width`).
    pub fn pixels_per_image(&self) -> usize {
        self.height * self.width
    }

    /// All images, row-major, image after image.
    pub fn images(&self) -> &[u8] {
        &self.images
    }

    /// All labels, one per image.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The pixels of image `index` (`index < len()`, else panics like slice indexing).
    pub fn image(&self, index: usize) -> &[u8] {
        let n = self.pixels_per_image();
        &self.images[index * n..(index + 1) * n]
    }

    /// How many examples each class has (`counts[c]` for class `c < num_classes`).
    pub fn class_counts(&self, num_classes: usize) -> Vec<usize> {
        let mut counts = vec![0; num_classes];
        for &l in &self.labels {
            if let Some(c) = counts.get_mut(l as usize) {
                *c += 1;
            }
        }
        counts
    }
}

/// The first label that is not a valid class index, if any.
fn first_bad_label(labels: &[u8], num_classes: usize) -> Option<(usize, &u8)> {
    labels
        .iter()
        .enumerate()
        .find(|(_, &l)| l as usize >= num_classes)
}

/// Where a dataset's bytes came from (for logs and run records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// The MNIST sample compiled into the binary.
    Embedded,
    /// A directory the user named; its content is not hash-checked.
    UserDir(PathBuf),
    /// A system-wide installation (Debian's `dataset-fashion-mnist`), hash-checked.
    System(PathBuf),
    /// Our download cache, hash-checked.
    Cache(PathBuf),
}

impl std::fmt::Display for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataSource::Embedded => f.write_str("embedded in the binary"),
            DataSource::UserDir(p) => write!(f, "{} (user data, not hash-checked)", p.display()),
            DataSource::System(p) => {
                write!(f, "{} (system package, SHA-256 verified)", p.display())
            }
            DataSource::Cache(p) => write!(f, "{} (download cache, SHA-256 verified)", p.display()),
        }
    }
}

/// An image-classification dataset: train and test splits of same-sized grayscale images.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageDataset {
    name: String,
    num_classes: usize,
    train: ImageSplit,
    test: ImageSplit,
    stats: NormStats,
    source: DataSource,
}

impl ImageDataset {
    /// A dataset from its splits; both must have the same image size.
    pub fn new(
        name: impl Into<String>,
        num_classes: usize,
        train: ImageSplit,
        test: ImageSplit,
        stats: NormStats,
        source: DataSource,
    ) -> Result<Self> {
        let name = name.into();
        if num_classes == 0 || num_classes > 256 {
            return Err(DataError::InvalidDataset(format!(
                "{name}: {num_classes} classes; u8 labels allow 1..=256"
            )));
        }
        if (train.height, train.width) != (test.height, test.width) {
            return Err(DataError::InvalidDataset(format!(
                "{name}: train images are {}×{} but test images are {}×{}",
                train.height, train.width, test.height, test.width
            )));
        }
        for split in [&train, &test] {
            if let Some((index, &label)) = first_bad_label(&split.labels, num_classes) {
                return Err(DataError::InvalidDataset(format!(
                    "{name}: label {label} at index {index} is out of range for {num_classes} classes"
                )));
            }
        }
        Ok(ImageDataset {
            name,
            num_classes,
            train,
            test,
            stats,
            source,
        })
    }

    /// The dataset's name (`mnist-sample`, `mnist`, `fashion-mnist`, or the user's).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of classes; every label is below it.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Image height in pixels.
    pub fn height(&self) -> usize {
        self.train.height
    }

    /// Image width in pixels.
    pub fn width(&self) -> usize {
        self.train.width
    }

    /// The training split.
    pub fn train(&self) -> &ImageSplit {
        &self.train
    }

    /// The test split.
    pub fn test(&self) -> &ImageSplit {
        &self.test
    }

    /// Pixel statistics used by [`super::Normalize::Standard`].
    pub fn stats(&self) -> &NormStats {
        &self.stats
    }

    /// Where the data came from.
    pub fn source(&self) -> &DataSource {
        &self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[usize], data: Vec<u8>) -> IdxArray {
        IdxArray {
            dims: dims.to_vec(),
            data,
        }
    }

    #[test]
    fn builds_from_matching_idx_arrays() {
        let split = ImageSplit::from_idx(
            idx(&[3, 2, 2], (0..12).collect()),
            "imgs",
            idx(&[3], vec![0, 9, 4]),
            "lbls",
            10,
        )
        .unwrap();
        assert_eq!((split.len(), split.height(), split.width()), (3, 2, 2));
        assert_eq!(split.image(1), &[4, 5, 6, 7]);
        assert_eq!(split.class_counts(10)[9], 1);
    }

    #[test]
    fn count_mismatch_names_both_files() {
        let err = ImageSplit::from_idx(
            idx(&[3, 1, 1], vec![0; 3]),
            "a-images",
            idx(&[2], vec![0; 2]),
            "a-labels",
            10,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            DataError::CountMismatch {
                images: 3,
                labels: 2,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "a-images holds 3 images but a-labels holds 2 labels"
        );
    }

    #[test]
    fn label_out_of_range_names_file_and_index() {
        let err = ImageSplit::from_idx(
            idx(&[3, 1, 1], vec![0; 3]),
            "i",
            idx(&[3], vec![1, 10, 2]),
            "labels-file",
            10,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            DataError::LabelOutOfRange {
                index: 1,
                label: 10,
                num_classes: 10,
                ..
            }
        ));
        assert!(err.to_string().contains("labels-file"), "{err}");
        assert!(err.to_string().contains("0..=9"), "{err}");
    }

    #[test]
    fn wrong_dimensions_are_rejected() {
        let cases = [
            (idx(&[4, 4], vec![0; 16]), idx(&[4], vec![0; 4])),
            (idx(&[1, 0, 4], vec![]), idx(&[1], vec![0])),
            (idx(&[2, 1, 1], vec![0; 2]), idx(&[2, 1], vec![0; 2])),
        ];
        for (images, labels) in cases {
            let err = ImageSplit::from_idx(images, "i", labels, "l", 10).unwrap_err();
            assert!(matches!(err, DataError::WrongDimensions { .. }), "{err}");
        }
    }

    #[test]
    fn dataset_rejects_mismatched_image_sizes_and_bad_labels() {
        let a = ImageSplit::new(vec![0; 8], vec![0, 1], 2, 2, 10).unwrap();
        let b = ImageSplit::new(vec![0; 6], vec![0, 1], 3, 1, 10).unwrap();
        let err = ImageDataset::new(
            "x",
            10,
            a.clone(),
            b,
            NormStats::mnist(),
            DataSource::Embedded,
        )
        .unwrap_err();
        assert!(err.to_string().contains("2×2"), "{err}");
        // Labels valid for 10 classes but not for 2.
        let err = ImageDataset::new(
            "x",
            1,
            a.clone(),
            a,
            NormStats::mnist(),
            DataSource::Embedded,
        )
        .unwrap_err();
        assert!(err.to_string().contains("label 1"), "{err}");
        assert!(ImageSplit::new(vec![0; 7], vec![0, 1], 2, 2, 10).is_err());
    }
}
