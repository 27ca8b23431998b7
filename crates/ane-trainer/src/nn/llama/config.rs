//! `LlamaConfig`: the hyper-parameters of llama2.c's `ModelArgs`, the named Stories shapes
//! (`stories260k`, `stories15m`, `stories42m`, `stories110m`), validation with clear messages, and
//! the closed-form parameter count.
//!
//! The shapes follow llama2.c's README and `doc/stories260K.md`. `hidden_dim` is what llama2.c's
//! `FeedForward` derives when it is not given: `4·dim·2/3` rounded up to `multiple_of`
//! ([`llama2c_hidden_dim`]). `seq_len` is the training context: 256 for stories110m (as maderix
//! trains it; llama2.c itself trained it at 1024), llama2.c's values elsewhere.

use crate::nn::error::NnError;

/// The named shapes [`LlamaConfig::named`] accepts.
pub const LLAMA_SHAPE_NAMES: [&str; 4] = ["stories260k", "stories15m", "stories42m", "stories110m"];

/// Hyper-parameters of a Llama-style decoder (llama2.c's `ModelArgs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LlamaConfig {
    /// Model width.
    pub dim: usize,
    /// Transformer blocks.
    pub n_layers: usize,
    /// Query heads (`dim / n_heads` must be even for RoPE).
    pub n_heads: usize,
    /// Key/value heads (divides `n_heads`; equal means no grouped-query attention).
    pub n_kv_heads: usize,
    /// Feed-forward width.
    pub hidden_dim: usize,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Tokens per training sequence.
    pub seq_len: usize,
    /// RMSNorm epsilon (llama2.c: 1e-5).
    pub norm_eps: f32,
    /// Dropout after the embedding, on attention probabilities and on each residual branch.
    pub dropout: f32,
    /// Whether the classifier reuses `tok_embeddings.weight` (llama2.c's weight tying) instead of
    /// its own `output.weight`.
    pub tied_classifier: bool,
}

/// llama2.c's default feed-forward width: `int(2·(4·dim)/3)` rounded up to a multiple of
/// `multiple_of` (a `multiple_of` of 0 is treated as 1).
pub fn llama2c_hidden_dim(dim: usize, multiple_of: usize) -> usize {
    let m = multiple_of.max(1);
    let hidden = 2 * (4 * dim) / 3;
    hidden.div_ceil(m) * m
}

impl LlamaConfig {
    /// stories260K: dim 64, 5 layers, 8 heads sharing 4 key/value heads, hidden 172
    /// (`multiple_of` 4), its own 512-token vocabulary, context 512.
    pub fn stories260k() -> Self {
        LlamaConfig {
            dim: 64,
            n_layers: 5,
            n_heads: 8,
            n_kv_heads: 4,
            hidden_dim: llama2c_hidden_dim(64, 4),
            vocab_size: 512,
            seq_len: 512,
            ..Self::base()
        }
    }

    /// stories15M: dim 288, 6 layers, 6 heads, hidden 768, vocab 32000, context 256 (llama2.c's
    /// `train.py` defaults).
    pub fn stories15m() -> Self {
        LlamaConfig {
            dim: 288,
            n_layers: 6,
            n_heads: 6,
            n_kv_heads: 6,
            hidden_dim: llama2c_hidden_dim(288, 32),
            vocab_size: 32000,
            seq_len: 256,
            ..Self::base()
        }
    }

    /// stories42M: dim 512, 8 layers, 8 heads, hidden 1376, vocab 32000, context 1024.
    pub fn stories42m() -> Self {
        LlamaConfig {
            dim: 512,
            n_layers: 8,
            n_heads: 8,
            n_kv_heads: 8,
            hidden_dim: llama2c_hidden_dim(512, 32),
            vocab_size: 32000,
            seq_len: 1024,
            ..Self::base()
        }
    }

    /// stories110M: dim 768, 12 layers, 12 heads, hidden 2048, vocab 32000, context 256 (as
    /// maderix/ANE trains it).
    pub fn stories110m() -> Self {
        LlamaConfig {
            dim: 768,
            n_layers: 12,
            n_heads: 12,
            n_kv_heads: 12,
            hidden_dim: llama2c_hidden_dim(768, 32),
            vocab_size: 32000,
            seq_len: 256,
            ..Self::base()
        }
    }

    /// The shape called `name` (case-insensitive, one of [`LLAMA_SHAPE_NAMES`]).
    pub fn named(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "stories260k" => Some(Self::stories260k()),
            "stories15m" => Some(Self::stories15m()),
            "stories42m" => Some(Self::stories42m()),
            "stories110m" => Some(Self::stories110m()),
            _ => None,
        }
    }

    /// The `multiple_of` llama2.c used for a named shape (4 for stories260k, 32 otherwise).
    pub fn multiple_of_for(name: &str) -> usize {
        if name.eq_ignore_ascii_case("stories260k") {
            4
        } else {
            32
        }
    }

    /// Fields shared by every named shape.
    fn base() -> Self {
        LlamaConfig {
            dim: 0,
            n_layers: 0,
            n_heads: 0,
            n_kv_heads: 0,
            hidden_dim: 0,
            vocab_size: 0,
            seq_len: 0,
            norm_eps: 1e-5,
            dropout: 0.0,
            tied_classifier: true,
        }
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.dim.checked_div(self.n_heads).unwrap_or(0)
    }

    /// Checks every constraint, naming the first one broken.
    pub fn validate(&self) -> Result<(), NnError> {
        let bad = |message: String| {
            Err(NnError::BadConfig {
                preset: "llama".into(),
                message,
            })
        };
        for (name, value) in [
            ("dim", self.dim),
            ("n_layers", self.n_layers),
            ("n_heads", self.n_heads),
            ("n_kv_heads", self.n_kv_heads),
            ("hidden_dim", self.hidden_dim),
            ("vocab_size", self.vocab_size),
            ("seq_len", self.seq_len),
        ] {
            if value == 0 {
                return bad(format!("{name} must be at least 1"));
            }
        }
        if self.dim % self.n_heads != 0 {
            return bad(format!(
                "dim {} is not divisible by n_heads {}",
                self.dim, self.n_heads
            ));
        }
        if self.head_dim() % 2 != 0 {
            return bad(format!(
                "head dim = dim / n_heads = {} / {} = {} must be even (RoPE rotates pairs)",
                self.dim,
                self.n_heads,
                self.head_dim()
            ));
        }
        if self.n_heads % self.n_kv_heads != 0 {
            return bad(format!(
                "n_kv_heads {} must divide n_heads {}",
                self.n_kv_heads, self.n_heads
            ));
        }
        if self.vocab_size > i32::MAX as usize {
            return bad(format!(
                "vocab_size {} does not fit the i32 token ids",
                self.vocab_size
            ));
        }
        if !(self.norm_eps.is_finite() && self.norm_eps > 0.0) {
            return bad(format!("norm_eps must be positive, got {}", self.norm_eps));
        }
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return bad(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        Ok(())
    }

    /// The number of scalar parameters, counted once each (a tied classifier adds nothing):
    /// `V·D + L·(D·(H+2·KV)·HD + D·H·HD + 3·D·F + 2·D) + D (+ V·D untied)`.
    pub fn num_parameters(&self) -> usize {
        let (d, f, v) = (self.dim, self.hidden_dim, self.vocab_size);
        let hd = self.head_dim();
        let attention = d * self.n_heads * hd * 2 + d * self.n_kv_heads * hd * 2;
        let per_layer = attention + 3 * d * f + 2 * d;
        let classifier = if self.tied_classifier { 0 } else { v * d };
        v * d + self.n_layers * per_layer + d + classifier
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_dims_match_llama2c() {
        assert_eq!(llama2c_hidden_dim(64, 4), 172);
        assert_eq!(llama2c_hidden_dim(288, 32), 768);
        assert_eq!(llama2c_hidden_dim(512, 32), 1376);
        assert_eq!(llama2c_hidden_dim(768, 32), 2048);
        assert_eq!(llama2c_hidden_dim(4096, 256), 11008, "Llama 2 7B");
    }

    #[test]
    fn validation_names_the_problem() {
        let mut c = LlamaConfig::stories15m();
        c.validate().unwrap();
        c.n_heads = 5;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("not divisible by n_heads 5"), "{e}");
        c.n_heads = 96; // head dim 3
        c.n_kv_heads = 96;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("must be even"), "{e}");
        let mut c = LlamaConfig::stories260k();
        c.n_kv_heads = 3;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("n_kv_heads 3"));
        assert!(LlamaConfig::named("Stories110M").is_some());
        assert!(LlamaConfig::named("stories7b").is_none());
    }
}
