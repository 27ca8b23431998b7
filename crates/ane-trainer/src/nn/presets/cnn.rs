//! The `cnn` preset: per stage `Conv2d(3×3, padding 1) → ReLU → MaxPool2d(2)`, then `Flatten →
//! Linear` to the classes. Default: 1×28×28 input, stages of 16 and 32 channels, 10 classes:
//!
//! ```text
//! 0 Conv2d(1→16, 3×3, pad 1)  0.weight [16, 1, 3, 3]   0.bias [16]     28×28
//! 1 ReLU  2 MaxPool2d(2)                                               14×14
//! 3 Conv2d(16→32, 3×3, pad 1) 3.weight [32, 16, 3, 3]  3.bias [32]     14×14
//! 4 ReLU  5 MaxPool2d(2)                                                 7×7
//! 6 Flatten                                                           32·7·7 = 1568
//! 7 Linear(1568→10)           7.weight [10, 1568]      7.bias [10]
//! ```
//!
//! 20,490 parameters. **Why 16 and 32 channels** (rather than the textbook 8 and 16): the ANE
//! packs channels in fp16 vectors and ane-facts §6 reports that a matmul's inner dimension must be
//! a multiple of 32 (else silent zeros); 32·7·7 = 1568 = 32·49 keeps the classifier's inner
//! dimension aligned, and 16/32-channel convolutions fill the vector lanes. The cost is tiny
//! (≈2.1 MFLOP per image forward).

use crate::nn::activation::Relu;
use crate::nn::conv::Conv2d;
use crate::nn::error::NnError;
use crate::nn::flatten::Flatten;
use crate::nn::linear::Linear;
use crate::nn::model::{InputSpec, Model};
use crate::nn::pool::MaxPool2d;
use crate::nn::sequential::Sequential;

/// Geometry of the small convolutional classifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CnnConfig {
    /// One example `[channels, height, width]`.
    pub input: [usize; 3],
    /// Output channels of each conv stage (at least one stage).
    pub channels: Vec<usize>,
    /// Classes (width of the final Linear).
    pub num_classes: usize,
}

impl Default for CnnConfig {
    fn default() -> Self {
        CnnConfig {
            input: [1, 28, 28],
            channels: vec![16, 32],
            num_classes: 10,
        }
    }
}

impl CnnConfig {
    /// Height and width after all stages (3×3 convs with padding 1 keep the size; each pool
    /// halves it, rounding down), or an error when a stage would leave nothing.
    pub fn final_spatial(&self) -> Result<[usize; 2], NnError> {
        let [_, mut h, mut w] = self.input;
        for stage in 0..self.channels.len() {
            h /= 2;
            w /= 2;
            if h == 0 || w == 0 {
                return Err(NnError::BadConfig {
                    preset: "cnn".into(),
                    message: format!(
                        "a {}×{} input is too small for {} pooling stages (stage {} would be empty)",
                        self.input[1],
                        self.input[2],
                        self.channels.len(),
                        stage + 1
                    ),
                });
            }
        }
        Ok([h, w])
    }

    /// Width of the flattened features feeding the classifier.
    pub fn flat_features(&self) -> Result<usize, NnError> {
        let [h, w] = self.final_spatial()?;
        Ok(self.channels.last().copied().unwrap_or(0) * h * w)
    }

    /// Checks sizes.
    pub fn validate(&self) -> Result<(), NnError> {
        let bad = |message: String| {
            Err(NnError::BadConfig {
                preset: "cnn".into(),
                message,
            })
        };
        if self.input.contains(&0) {
            return bad(format!(
                "input shape must be non-zero, got {:?}",
                self.input
            ));
        }
        if self.channels.is_empty() || self.channels.contains(&0) {
            return bad(format!(
                "needs at least one stage with non-zero channels, got {:?}",
                self.channels
            ));
        }
        if self.num_classes == 0 {
            return bad("num_classes must be at least 1".into());
        }
        self.final_spatial().map(|_| ())
    }

    /// The model: reads `images: f32[B, C, H, W]`, outputs logits `[B, num_classes]`.
    pub fn model(&self) -> Result<Model, NnError> {
        self.validate()?;
        let mut seq = Sequential::new();
        let mut in_channels = self.input[0];
        for &out in &self.channels {
            seq.push(Conv2d::new(in_channels, out, 3).padding(1));
            seq.push(Relu);
            seq.push(MaxPool2d::new(2));
            in_channels = out;
        }
        seq.push(Flatten);
        seq.push(Linear::new(self.flat_features()?, self.num_classes));
        Model::new(seq, InputSpec::images(&self.input))
    }
}
