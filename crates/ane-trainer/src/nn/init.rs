//! Parameter initializers, with the formulas of PyTorch's defaults.
//!
//! **Why Linear/Conv2d weights are U(−1/√fan_in, 1/√fan_in).** PyTorch's `reset_parameters` calls
//! `kaiming_uniform_(w, a=√5)`. Kaiming-uniform draws from U(−bound, bound) with
//! `bound = √3 · gain / √fan_in` (√3 turns a standard deviation into a uniform half-width), and the
//! leaky-ReLU gain for slope `a` is `√(2 / (1 + a²))`. With `a = √5` the gain is `√(2/6) = 1/√3`, so
//! `bound = √3 · (1/√3) / √fan_in = 1/√fan_in`. Biases use the same bound explicitly
//! (`1/√fan_in`, where `fan_in = in_features` for Linear and `in_channels/groups · kh · kw` for a
//! convolution).

use crate::rng::Rng;
use std::fmt;

/// How to fill a parameter tensor at initialization.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// Every element 0 (biases of norms, `nn.init.zeros_`).
    Zeros,
    /// Every element 1 (norm weights, `nn.init.ones_`).
    Ones,
    /// Uniform on `[−bound, bound)`.
    Uniform {
        /// Half-width of the interval; must be finite and ≥ 0.
        bound: f32,
    },
    /// Normal with the given mean and standard deviation (`nn.init.normal_`).
    Normal {
        /// Mean.
        mean: f32,
        /// Standard deviation; must be finite and ≥ 0.
        std: f32,
    },
}

impl Init {
    /// PyTorch's default for Linear and Conv weights and biases: U(−1/√fan_in, 1/√fan_in)
    /// (see the module docs for why `kaiming_uniform_(a=√5)` reduces to this). A zero `fan_in`
    /// gives bound 0, as PyTorch does for empty layers.
    pub fn pytorch_default(fan_in: usize) -> Init {
        let bound = if fan_in == 0 {
            0.0
        } else {
            (1.0 / (fan_in as f64).sqrt()) as f32
        };
        Init::Uniform { bound }
    }

    /// N(0, std²), the initializer llama2.c uses for its Linear and Embedding weights.
    pub fn normal(std: f32) -> Init {
        Init::Normal { mean: 0.0, std }
    }

    /// Whether the parameters are finite and non-negative where they must be.
    pub fn is_valid(&self) -> bool {
        match *self {
            Init::Zeros | Init::Ones => true,
            Init::Uniform { bound } => bound.is_finite() && bound >= 0.0,
            Init::Normal { mean, std } => mean.is_finite() && std.is_finite() && std >= 0.0,
        }
    }

    /// Fills `values` from `rng`, consuming draws in element order (constant initializers draw
    /// nothing, so they do not shift the stream of the parameters after them).
    pub fn fill(&self, rng: &mut Rng, values: &mut [f32]) {
        match *self {
            Init::Zeros => values.fill(0.0),
            Init::Ones => values.fill(1.0),
            Init::Uniform { bound } => values
                .iter_mut()
                .for_each(|v| *v = rng.uniform(-bound, bound)),
            Init::Normal { mean, std } => values
                .iter_mut()
                .for_each(|v| *v = mean + std * rng.normal()),
        }
    }
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Init::Zeros => f.write_str("zeros"),
            Init::Ones => f.write_str("ones"),
            Init::Uniform { bound } => write!(f, "U(-{bound}, {bound})"),
            Init::Normal { mean, std } => write!(f, "N({mean}, {std}²)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pytorch_default_bound_is_inverse_sqrt_fan_in() {
        assert_eq!(
            Init::pytorch_default(784),
            Init::Uniform { bound: 1.0 / 28.0 }
        );
        assert_eq!(Init::pytorch_default(0), Init::Uniform { bound: 0.0 });
        // The kaiming_uniform_(a=√5) formula, computed the long way.
        let fan_in = 300.0f64;
        let a = 5.0f64.sqrt();
        let gain = (2.0 / (1.0 + a * a)).sqrt();
        let bound = 3.0f64.sqrt() * gain / fan_in.sqrt();
        let Init::Uniform { bound: ours } = Init::pytorch_default(300) else {
            unreachable!()
        };
        assert!((ours as f64 - bound).abs() < 1e-7);
    }

    #[test]
    fn constants_draw_nothing_and_validity_is_checked() {
        let mut rng = Rng::new(1);
        let before = rng.clone();
        let mut v = [5.0f32; 3];
        Init::Ones.fill(&mut rng, &mut v);
        assert_eq!(v, [1.0; 3]);
        Init::Zeros.fill(&mut rng, &mut v);
        assert_eq!(v, [0.0; 3]);
        assert_eq!(rng, before);
        assert!(!Init::Uniform { bound: f32::NAN }.is_valid());
        assert!(!Init::normal(-1.0).is_valid());
        assert!(Init::normal(0.02).is_valid());
    }
}
