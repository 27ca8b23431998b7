//! The Llama module tree with llama2.c's names and initialization:
//!
//! ```text
//! tok_embeddings.weight                      [vocab, dim]       N(0, 0.02²)
//! layers.{i}.attention.{wq,wk,wv}.weight     [heads·hd, dim]    N(0, 0.02²)
//! layers.{i}.attention.wo.weight             [dim, heads·hd]    N(0, (0.02/√(2·n_layers))²)
//! layers.{i}.feed_forward.{w1}.weight        [hidden, dim]      N(0, 0.02²)
//! layers.{i}.feed_forward.w2.weight          [dim, hidden]      N(0, 0.02²)
//! layers.{i}.feed_forward.w3.weight          [hidden, dim]      N(0, (0.02/√(2·n_layers))²)
//! layers.{i}.{attention_norm,ffn_norm}.weight [dim]             ones
//! norm.weight                                [dim]              ones
//! output.weight                              [vocab, dim]       N(0, 0.02²), only when untied
//! ```
//!
//! llama2.c's `Transformer.__init__` applies `normal_(0, 0.02)` to every Linear and Embedding and
//! then re-initializes the parameters whose names end in `wo.weight` or `w3.weight` with the GPT-2
//! residual scaling `0.02/√(2·n_layers)`. (GPT-2 scales its *down* projection; llama2.c's string
//! match picks `w3`, the up projection, and we follow llama2.c.) The order above is PyTorch's
//! `named_parameters()` order, which is also the order the init stream is consumed in.

use super::config::LlamaConfig;
use crate::nn::attention::CausalSelfAttention;
use crate::nn::embedding::Embedding;
use crate::nn::error::NnError;
use crate::nn::feed_forward::SwiGlu;
use crate::nn::init::Init;
use crate::nn::linear::Linear;
use crate::nn::model::{InputSpec, Model};
use crate::nn::module::{Ctx, InModule, Module, ParamSpec};
use crate::nn::norm::RmsNorm;
use ane_compiler::{Graph, ValueId};

/// llama2.c's standard deviation for Linear and Embedding weights.
const INIT_STD: f32 = 0.02;

/// One decoder block: `h = x + attention(attention_norm(x))`, `out = h + ffn(ffn_norm(h))`.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaBlock {
    /// Self-attention (`attention.*`).
    pub attention: CausalSelfAttention,
    /// SwiGLU feed-forward (`feed_forward.*`).
    pub feed_forward: SwiGlu,
    /// RMSNorm before attention.
    pub attention_norm: RmsNorm,
    /// RMSNorm before the feed-forward block.
    pub ffn_norm: RmsNorm,
}

impl LlamaBlock {
    /// A block with llama2.c's initialization for `config`.
    pub fn new(config: &LlamaConfig) -> Self {
        let scaled = Init::normal(INIT_STD / ((2 * config.n_layers) as f32).sqrt());
        let normal = Init::normal(INIT_STD);
        LlamaBlock {
            attention: CausalSelfAttention::new(config.dim, config.n_heads, config.n_kv_heads)
                .with_inits(normal, scaled)
                .with_dropout(config.dropout),
            feed_forward: SwiGlu::new(config.dim, config.hidden_dim)
                .with_inits(normal, normal, scaled)
                .with_dropout(config.dropout),
            attention_norm: RmsNorm::new(config.dim).eps(config.norm_eps),
            ffn_norm: RmsNorm::new(config.dim).eps(config.norm_eps),
        }
    }
}

impl Module for LlamaBlock {
    fn declare_params(&self, ctx: &Ctx, params: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        // PyTorch registration order of llama2.c's TransformerBlock.
        self.attention
            .declare_params(&ctx.child("attention"), params)?;
        self.feed_forward
            .declare_params(&ctx.child("feed_forward"), params)?;
        self.attention_norm
            .declare_params(&ctx.child("attention_norm"), params)?;
        self.ffn_norm.declare_params(&ctx.child("ffn_norm"), params)
    }

    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        let h = self
            .attention_norm
            .forward(g, x, &ctx.child("attention_norm"))?;
        let h = self.attention.forward(g, h, &ctx.child("attention"))?;
        let x = g.add(x, h).in_module(ctx)?;
        let h = self.ffn_norm.forward(g, x, &ctx.child("ffn_norm"))?;
        let h = self
            .feed_forward
            .forward(g, h, &ctx.child("feed_forward"))?;
        g.add(x, h).in_module(ctx)
    }
}

/// The decoder: token ids `[B, S]` → logits `[B, S, vocab]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Llama {
    /// The configuration it was built from.
    pub config: LlamaConfig,
    /// Token embedding (`tok_embeddings.weight`).
    pub tok_embeddings: Embedding,
    /// Decoder blocks (`layers.{i}.*`).
    pub layers: Vec<LlamaBlock>,
    /// Final RMSNorm (`norm.weight`).
    pub norm: RmsNorm,
    /// Untied classifier (`output.weight`); `None` when tied to the embedding.
    pub output: Option<Linear>,
}

impl Llama {
    /// The module tree for a validated `config`.
    pub fn new(config: LlamaConfig) -> Result<Self, NnError> {
        config.validate()?;
        let normal = Init::normal(INIT_STD);
        Ok(Llama {
            tok_embeddings: Embedding::new(config.vocab_size, config.dim).with_init(normal),
            layers: (0..config.n_layers)
                .map(|_| LlamaBlock::new(&config))
                .collect(),
            norm: RmsNorm::new(config.dim).eps(config.norm_eps),
            output: (!config.tied_classifier).then(|| {
                Linear::new(config.dim, config.vocab_size)
                    .no_bias()
                    .with_weight_init(normal)
            }),
            config,
        })
    }

    /// The model: this tree reading `tokens: i32[B, seq_len]`.
    pub fn model(config: LlamaConfig) -> Result<Model, NnError> {
        let llama = Llama::new(config)?;
        Model::new(llama, InputSpec::tokens(config.seq_len, config.vocab_size))
    }
}

impl Module for Llama {
    fn declare_params(&self, ctx: &Ctx, params: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        self.tok_embeddings
            .declare_params(&ctx.child("tok_embeddings"), params)?;
        let layers = ctx.child("layers");
        for (i, block) in self.layers.iter().enumerate() {
            block.declare_params(&layers.child(&i.to_string()), params)?;
        }
        self.norm.declare_params(&ctx.child("norm"), params)?;
        if let Some(output) = &self.output {
            output.declare_params(&ctx.child("output"), params)?;
        }
        Ok(())
    }

    fn forward(&self, g: &mut Graph, tokens: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        let emb_ctx = ctx.child("tok_embeddings");
        let mut x = self.tok_embeddings.forward(g, tokens, &emb_ctx)?;
        x = g.dropout(x, self.config.dropout).in_module(ctx)?;
        let layers = ctx.child("layers");
        for (i, block) in self.layers.iter().enumerate() {
            x = block.forward(g, x, &layers.child(&i.to_string()))?;
        }
        x = self.norm.forward(g, x, &ctx.child("norm"))?;
        match &self.output {
            Some(output) => output.forward(g, x, &ctx.child("output")),
            None => {
                // Weight tying: the classifier is the embedding table, `[vocab, dim]` is already
                // the Linear layout `[out, in]`.
                let table = emb_ctx.param(g, "weight", &self.tok_embeddings.weight_shape())?;
                g.linear(x, table, None).in_module(ctx)
            }
        }
    }
}
