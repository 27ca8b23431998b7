//! In-memory arrays a [`Trainer`](super::Trainer) fits on: `rows` examples of f32 features
//! (any shape per example) with one i32 class label each — what a user holds after loading a
//! dataset with numpy or from their own files.

use crate::rng::Rng;
use crate::trainer::TrainError;

/// Examples and labels held in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrays {
    x: Vec<f32>,
    y: Vec<i32>,
    example_shape: Vec<usize>,
}

impl Arrays {
    /// `x` holds `y.len()` examples of `example_shape` each, row-major. Errors name what does not
    /// fit: a length that is not `rows × features`, an empty set, a non-finite feature.
    pub fn new(x: Vec<f32>, example_shape: &[usize], y: Vec<i32>) -> Result<Arrays, TrainError> {
        let bad = |reason: String| TrainError::Setting {
            key: "data".into(),
            value: format!("{} values, {} labels", x.len(), y.len()),
            reason,
        };
        if y.is_empty() {
            return Err(bad("there are no examples".into()));
        }
        let features = example_shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .filter(|&f| f > 0)
            .ok_or_else(|| bad(format!("the example shape {example_shape:?} is empty")))?;
        if Some(x.len()) != features.checked_mul(y.len()) {
            return Err(bad(format!(
                "x must hold {} examples of {example_shape:?} ({features} values each)",
                y.len()
            )));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(bad(format!(
                "x[{}] (example {}) is {}: inputs must be finite",
                i,
                i / features,
                x[i]
            )));
        }
        Ok(Arrays {
            x,
            y,
            example_shape: example_shape.to_vec(),
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no examples (never, for a constructed value).
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The shape of one example.
    pub fn example_shape(&self) -> &[usize] {
        &self.example_shape
    }

    /// Values per example.
    pub fn features(&self) -> usize {
        self.example_shape.iter().product()
    }

    /// All features, row-major.
    pub fn x(&self) -> &[f32] {
        &self.x
    }

    /// All labels.
    pub fn y(&self) -> &[i32] {
        &self.y
    }

    /// The largest label plus one (the classes the labels need).
    pub fn classes_needed(&self) -> usize {
        self.y
            .iter()
            .map(|&l| l.max(0) as usize + 1)
            .max()
            .unwrap_or(0)
    }

    /// A permutation of the example indices for `epoch`, a pure function of `(seed, epoch)` so
    /// runs are reproducible.
    pub fn epoch_order(&self, seed: u64, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        let mut rng = Rng::derive(seed, &format!("fit-order-{epoch}"));
        for i in (1..order.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        order
    }

    /// Copies the examples `indices` into `x` and `y` (which hold a whole compiled batch; rows
    /// past `indices` are zero padding with label 0).
    pub fn gather(&self, indices: &[usize], x: &mut [f32], y: &mut [i32]) {
        let f = self.features();
        x.fill(0.0);
        y.fill(0);
        for (row, &i) in indices.iter().enumerate() {
            x[row * f..(row + 1) * f].copy_from_slice(&self.x[i * f..(i + 1) * f]);
            y[row] = self.y[i];
        }
    }
}

/// The train and test splits of the dataset `name` (`mnist-sample`, embedded; `mnist`,
/// `fashion-mnist`: found locally or downloaded when `download`) as flattened f32 images mapped
/// by `normalize` (with the dataset's statistics), and their labels.
pub fn load_arrays(
    name: &str,
    normalize: crate::data::Normalize,
    download: bool,
) -> Result<(Arrays, Arrays), TrainError> {
    use crate::data::{load_dataset, DatasetName, LoadOptions, PixelMap};
    let dataset_name: DatasetName = name.parse()?;
    let options = LoadOptions {
        download,
        ..LoadOptions::default()
    };
    let dataset = load_dataset(dataset_name, &options)?;
    let map = PixelMap::new(normalize, dataset.stats());
    let convert = |split: &crate::data::ImageSplit| {
        let mut x = vec![0.0f32; split.images().len()];
        map.map_into(split.images(), &mut x);
        let y = split.labels().iter().map(|&l| i32::from(l)).collect();
        Arrays::new(x, &[split.pixels_per_image()], y)
    };
    Ok((convert(dataset.train())?, convert(dataset.test())?))
}
