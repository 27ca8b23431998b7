//! Pixel normalization: how a stored `u8` pixel becomes the `f32` a model sees.
//!
//! The mapping is resolved once into a 256-entry table ([`PixelMap`]) so the batch fill is a
//! single lookup per pixel, whatever the mode.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How pixels (`p` in 0..=255) are turned into model inputs.
///
/// - [`Normalize::None`]: `x = p` as `f32` (0.0 ..= 255.0).
/// - [`Normalize::Unit`]: `x = p / 255` (0.0 ..= 1.0).
/// - [`Normalize::Standard`] (the default): `x = (p / 255 − mean) / std`, with the dataset's
///   [`NormStats`] — the published statistics for MNIST and Fashion-MNIST, statistics computed
///   from the training split for user data.
///
/// Each value is computed in `f64` and rounded once to `f32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Normalize {
    /// Raw pixel values 0–255 as `f32`.
    None,
    /// Pixel / 255, in [0, 1].
    Unit,
    /// Pixel / 255, then minus the dataset mean, divided by the dataset standard deviation.
    #[default]
    Standard,
}

impl Normalize {
    /// The lowercase name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            Normalize::None => "none",
            Normalize::Unit => "unit",
            Normalize::Standard => "standard",
        }
    }
}

impl fmt::Display for Normalize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Normalize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Normalize::None),
            "unit" => Ok(Normalize::Unit),
            "standard" => Ok(Normalize::Standard),
            other => Err(format!(
                "unknown normalization {other:?}; expected none, unit or standard"
            )),
        }
    }
}

/// Where a dataset's [`NormStats`] come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatsOrigin {
    /// The widely published values for a known dataset (named here, with their source).
    Published(String),
    /// Computed by [`NormStats::from_pixels`] over every pixel of the training split.
    ComputedFromTrain,
}

/// The mean and standard deviation of a dataset's pixels on the unit scale (pixel / 255).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormStats {
    /// Mean of pixel / 255 over the training images.
    pub mean: f32,
    /// Population standard deviation of pixel / 255 over the training images.
    pub std: f32,
    /// Where these numbers come from.
    pub origin: StatsOrigin,
}

impl NormStats {
    /// MNIST: mean 0.1307, std 0.3081 — the mean and population standard deviation of
    /// pixel / 255 over all 47,040,000 pixels of the 60,000 training images, rounded to four
    /// digits, as used by PyTorch's MNIST example and most MNIST code since (this module's tests
    /// recompute them from the full training set when it is available). Also used for the
    /// embedded sample, which is a subset of MNIST's training set, so models trained on either
    /// see the same input scale.
    pub fn mnist() -> Self {
        NormStats {
            mean: 0.1307,
            std: 0.3081,
            origin: StatsOrigin::Published(
                "MNIST training-set pixel mean/std (0.1307, 0.3081), as in PyTorch's MNIST example"
                    .into(),
            ),
        }
    }

    /// Fashion-MNIST: mean 0.2860, std 0.3530 — the mean and population standard deviation of
    /// pixel / 255 over the 60,000 training images, rounded to four digits (this module's tests
    /// recompute them from Debian's copy of the dataset when it is installed).
    pub fn fashion_mnist() -> Self {
        NormStats {
            mean: 0.2860,
            std: 0.3530,
            origin: StatsOrigin::Published(
                "Fashion-MNIST training-set pixel mean/std (0.2860, 0.3530)".into(),
            ),
        }
    }

    /// Computes the mean and population standard deviation of pixel / 255 over `pixels`
    /// (exactly, from a histogram). An empty slice or a constant image set gets std 1 so that
    /// standardizing never divides by zero.
    pub fn from_pixels(pixels: &[u8]) -> Self {
        let mut histogram = [0u64; 256];
        for &p in pixels {
            histogram[p as usize] += 1;
        }
        let n = pixels.len() as f64;
        let (mut sum, mut sum_sq) = (0.0f64, 0.0f64);
        for (value, &count) in histogram.iter().enumerate() {
            let x = value as f64 / 255.0;
            sum += x * count as f64;
            sum_sq += x * x * count as f64;
        }
        let (mean, std) = if n > 0.0 {
            let mean = sum / n;
            let var = (sum_sq / n - mean * mean).max(0.0);
            (mean, var.sqrt())
        } else {
            (0.0, 1.0)
        };
        NormStats {
            mean: mean as f32,
            std: if std > 0.0 { std as f32 } else { 1.0 },
            origin: StatsOrigin::ComputedFromTrain,
        }
    }
}

/// A resolved pixel → `f32` mapping: one table lookup per pixel.
#[derive(Clone, PartialEq)]
pub struct PixelMap {
    table: [f32; 256],
}

impl fmt::Debug for PixelMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PixelMap")
            .field("0", &self.table[0])
            .field("255", &self.table[255])
            .finish()
    }
}

impl PixelMap {
    /// The mapping for `mode` with a dataset's statistics (used only by `Standard`).
    pub fn new(mode: Normalize, stats: &NormStats) -> Self {
        let (mean, std) = (stats.mean as f64, stats.std as f64);
        let mut table = [0f32; 256];
        for (p, slot) in table.iter_mut().enumerate() {
            let p = p as f64;
            *slot = match mode {
                Normalize::None => p,
                Normalize::Unit => p / 255.0,
                Normalize::Standard => (p / 255.0 - mean) / std,
            } as f32;
        }
        PixelMap { table }
    }

    /// The model input for one pixel.
    #[inline]
    pub fn map(&self, pixel: u8) -> f32 {
        self.table[pixel as usize]
    }

    /// Maps a row of pixels into `out` (same length).
    #[inline]
    pub fn map_into(&self, pixels: &[u8], out: &mut [f32]) {
        debug_assert_eq!(pixels.len(), out.len());
        for (o, &p) in out.iter_mut().zip(pixels) {
            *o = self.table[p as usize];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_map_as_documented() {
        let stats = NormStats::mnist();
        let none = PixelMap::new(Normalize::None, &stats);
        let unit = PixelMap::new(Normalize::Unit, &stats);
        let std = PixelMap::new(Normalize::Standard, &stats);
        assert_eq!((none.map(0), none.map(255)), (0.0, 255.0));
        assert_eq!((unit.map(0), unit.map(255), unit.map(51)), (0.0, 1.0, 0.2));
        let expect = |p: f64| ((p / 255.0 - 0.1307f32 as f64) / 0.3081f32 as f64) as f32;
        for p in [0u8, 1, 128, 255] {
            assert_eq!(std.map(p), expect(p as f64));
        }
        assert!((std.map(0) + 0.424_212_9).abs() < 1e-6, "{}", std.map(0));
        assert!(
            (std.map(255) - 2.821_486_6).abs() < 1e-6,
            "{}",
            std.map(255)
        );
    }

    #[test]
    fn standardized_training_pixels_have_zero_mean_unit_std() {
        let pixels: Vec<u8> = (0..10_000u32).map(|i| (i * 37 % 256) as u8).collect();
        let stats = NormStats::from_pixels(&pixels);
        assert_eq!(stats.origin, StatsOrigin::ComputedFromTrain);
        let map = PixelMap::new(Normalize::Standard, &stats);
        let xs: Vec<f64> = pixels.iter().map(|&p| map.map(p) as f64).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5,
            "{mean} {var}"
        );
    }

    #[test]
    fn constant_or_empty_images_do_not_divide_by_zero() {
        assert_eq!(NormStats::from_pixels(&[7; 100]).std, 1.0);
        let empty = NormStats::from_pixels(&[]);
        assert_eq!((empty.mean, empty.std), (0.0, 1.0));
    }

    #[test]
    fn parses_and_prints_names() {
        for mode in [Normalize::None, Normalize::Unit, Normalize::Standard] {
            assert_eq!(mode.name().parse::<Normalize>().unwrap(), mode);
        }
        assert_eq!(Normalize::default(), Normalize::Standard);
        assert!("zscore"
            .parse::<Normalize>()
            .unwrap_err()
            .contains("zscore"));
    }
}
