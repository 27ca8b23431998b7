//! The `mlp` preset: `Linear → ReLU → … → Linear` over flattened images, default widths
//! 784-256-10. Parameters are named like `torch.nn.Sequential` (`0.weight [256, 784]`, `0.bias`,
//! `2.weight [10, 256]`, `2.bias`; the ReLUs take the odd indices).

use crate::nn::activation::Relu;
use crate::nn::error::NnError;
use crate::nn::linear::Linear;
use crate::nn::model::{InputSpec, Model};
use crate::nn::sequential::Sequential;

/// Layer widths, input first and classes last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlpConfig {
    /// `[in, hidden…, out]`: at least two widths, all non-zero.
    pub widths: Vec<usize>,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig {
            widths: vec![784, 256, 10],
        }
    }
}

impl MlpConfig {
    /// Checks the widths.
    pub fn validate(&self) -> Result<(), NnError> {
        let bad = |message: String| {
            Err(NnError::BadConfig {
                preset: "mlp".into(),
                message,
            })
        };
        if self.widths.len() < 2 {
            return bad(format!(
                "needs at least an input and an output width, got {:?}",
                self.widths
            ));
        }
        if self.widths.contains(&0) {
            return bad(format!("widths must be non-zero, got {:?}", self.widths));
        }
        Ok(())
    }

    /// The model: reads `images: f32[B, widths[0]]`, outputs logits `[B, widths.last()]`.
    pub fn model(&self) -> Result<Model, NnError> {
        self.validate()?;
        let mut seq = Sequential::new();
        let layers = self.widths.len() - 1;
        for (i, pair) in self.widths.windows(2).enumerate() {
            seq.push(Linear::new(pair[0], pair[1]));
            if i + 1 < layers {
                seq.push(Relu);
            }
        }
        Model::new(seq, InputSpec::images(&[self.widths[0]]))
    }
}
