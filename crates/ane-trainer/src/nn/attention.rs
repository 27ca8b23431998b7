//! `CausalSelfAttention`: Llama-style multi-head causal self-attention with RoPE and optional
//! grouped-query attention, as llama2.c's `Attention`: projections `wq`, `wk`, `wv`, `wo`
//! (no biases), RoPE (interleaved pairs, base 10000) on queries and keys, each key/value head
//! shared by `n_heads / n_kv_heads` query heads, causal softmax attention, output projection.
//!
//! Shapes: `x: [B, S, dim]` → heads `[B, H, S, head_dim]` → back to `[B, S, dim]`. Key/value heads
//! are repeated with a broadcast of rank 4 (`[B, KV, 1, S·HD]` → `[B, KV, rep, S·HD]`) so query head
//! `h` reads key/value head `h / rep`, `repeat_interleave` order as llama2.c's `repeat_kv`.

use super::dropout::check_probability;
use super::error::NnError;
use super::init::Init;
use super::linear::Linear;
use super::module::{Ctx, InModule, Module, ParamSpec};
use ane_compiler::{Graph, ValueId};

/// Multi-head causal self-attention over `[B, S, dim]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CausalSelfAttention {
    /// Model width.
    pub dim: usize,
    /// Query heads; `dim / n_heads` is the head width and must be even for RoPE.
    pub n_heads: usize,
    /// Key/value heads; must divide `n_heads` (equal: plain multi-head attention).
    pub n_kv_heads: usize,
    /// Dropout on the attention probabilities and on the output (llama2.c's `attn_dropout` and
    /// `resid_dropout`); 0 disables both.
    pub dropout: f32,
    /// `[n_heads·HD, dim]` query projection.
    pub wq: Linear,
    /// `[n_kv_heads·HD, dim]` key projection.
    pub wk: Linear,
    /// `[n_kv_heads·HD, dim]` value projection.
    pub wv: Linear,
    /// `[dim, n_heads·HD]` output projection.
    pub wo: Linear,
}

impl CausalSelfAttention {
    /// Attention with bias-free projections in PyTorch's default init; see
    /// [`with_inits`](Self::with_inits) for llama2.c's.
    pub fn new(dim: usize, n_heads: usize, n_kv_heads: usize) -> Self {
        let head_dim = dim.checked_div(n_heads).unwrap_or(0);
        let kv = n_kv_heads * head_dim;
        CausalSelfAttention {
            dim,
            n_heads,
            n_kv_heads,
            dropout: 0.0,
            wq: Linear::new(dim, n_heads * head_dim).no_bias(),
            wk: Linear::new(dim, kv).no_bias(),
            wv: Linear::new(dim, kv).no_bias(),
            wo: Linear::new(n_heads * head_dim, dim).no_bias(),
        }
    }

    /// With `qkv` for `wq`, `wk`, `wv` and `out` for `wo`.
    pub fn with_inits(mut self, qkv: Init, out: Init) -> Self {
        self.wq.weight_init = qkv;
        self.wk.weight_init = qkv;
        self.wv.weight_init = qkv;
        self.wo.weight_init = out;
        self
    }

    /// With dropout probability `p`.
    pub fn with_dropout(mut self, p: f32) -> Self {
        self.dropout = p;
        self
    }

    /// Width of one head.
    pub fn head_dim(&self) -> usize {
        self.dim / self.n_heads
    }

    fn check(&self, ctx: &Ctx) -> Result<(), NnError> {
        check_probability(ctx, self.dropout)?;
        let problem = if self.dim == 0 || self.n_heads == 0 || self.n_kv_heads == 0 {
            Some("dim and head counts must be non-zero".to_string())
        } else if self.dim % self.n_heads != 0 {
            Some(format!(
                "dim {} is not divisible by n_heads {}",
                self.dim, self.n_heads
            ))
        } else if self.head_dim() % 2 != 0 {
            Some(format!(
                "head dim {} (= {} / {}) must be even for RoPE's rotated pairs",
                self.head_dim(),
                self.dim,
                self.n_heads
            ))
        } else if self.n_heads % self.n_kv_heads != 0 {
            Some(format!(
                "n_kv_heads {} must divide n_heads {}",
                self.n_kv_heads, self.n_heads
            ))
        } else {
            None
        };
        problem.map_or(Ok(()), |p| Err(ctx.bad_module(p)))
    }

    /// `[B, S, heads·HD]` → `[B, heads, S, HD]`.
    fn split_heads(
        &self,
        g: &mut Graph,
        x: ValueId,
        [batch, seq]: [usize; 2],
        heads: usize,
        ctx: &Ctx,
    ) -> Result<ValueId, NnError> {
        let x = g
            .reshape(x, &[batch, seq, heads, self.head_dim()])
            .in_module(ctx)?;
        g.permute(x, &[0, 2, 1, 3]).in_module(ctx)
    }

    /// `[B, KV, S, HD]` → `[B, H, S, HD]`, each key/value head repeated `H / KV` times in a row.
    fn repeat_kv(
        &self,
        g: &mut Graph,
        x: ValueId,
        [batch, seq]: [usize; 2],
        ctx: &Ctx,
    ) -> Result<ValueId, NnError> {
        let rep = self.n_heads / self.n_kv_heads;
        if rep == 1 {
            return Ok(x);
        }
        let plane = seq * self.head_dim();
        let x = g
            .reshape(x, &[batch, self.n_kv_heads, 1, plane])
            .in_module(ctx)?;
        let x = g
            .broadcast_to(x, &[batch, self.n_kv_heads, rep, plane])
            .in_module(ctx)?;
        g.reshape(x, &[batch, self.n_heads, seq, self.head_dim()])
            .in_module(ctx)
    }

    /// `softmax(q·kᵀ/√HD + causal mask)·v`, with dropout on the probabilities when active. Without
    /// dropout it is the compiler's `causal_self_attention` (which the partitioner can recognise);
    /// with it, the same ops spelled out so the dropout sits between softmax and `·v`.
    fn attend(
        &self,
        g: &mut Graph,
        q: ValueId,
        k: ValueId,
        v: ValueId,
        seq: usize,
        ctx: &Ctx,
    ) -> Result<ValueId, NnError> {
        if self.dropout == 0.0 || g.mode() == ane_compiler::GraphMode::Eval {
            return g.causal_self_attention(q, k, v).in_module(ctx);
        }
        let scores = g.matmul_t(q, k, false, true).in_module(ctx)?;
        let scaled = g
            .scalar_mul(scores, 1.0 / (self.head_dim() as f32).sqrt())
            .in_module(ctx)?;
        let mask = g.causal_mask(seq).in_module(ctx)?;
        let masked = g.add(scaled, mask).in_module(ctx)?;
        let probs = g.softmax(masked, -1).in_module(ctx)?;
        let probs = g.dropout(probs, self.dropout).in_module(ctx)?;
        g.matmul(probs, v).in_module(ctx)
    }
}

impl Module for CausalSelfAttention {
    fn declare_params(&self, ctx: &Ctx, params: &mut Vec<ParamSpec>) -> Result<(), NnError> {
        self.check(ctx)?;
        self.wq.declare_params(&ctx.child("wq"), params)?;
        self.wk.declare_params(&ctx.child("wk"), params)?;
        self.wv.declare_params(&ctx.child("wv"), params)?;
        self.wo.declare_params(&ctx.child("wo"), params)
    }

    fn forward(&self, g: &mut Graph, x: ValueId, ctx: &Ctx) -> Result<ValueId, NnError> {
        self.check(ctx)?;
        let dims = g.shape(x).in_module(ctx)?.dims().to_vec();
        let &[batch, seq, width] = dims.as_slice() else {
            return Err(ctx.bad_module(format!(
                "attention needs x of shape [B, S, {}], got {dims:?}",
                self.dim
            )));
        };
        if width != self.dim {
            return Err(ctx.bad_module(format!(
                "attention needs x of shape [B, S, {}], got {dims:?}",
                self.dim
            )));
        }
        let bs = [batch, seq];
        let q = self.wq.forward(g, x, &ctx.child("wq"))?;
        let k = self.wk.forward(g, x, &ctx.child("wk"))?;
        let v = self.wv.forward(g, x, &ctx.child("wv"))?;
        let q = self.split_heads(g, q, bs, self.n_heads, ctx)?;
        let k = self.split_heads(g, k, bs, self.n_kv_heads, ctx)?;
        let v = self.split_heads(g, v, bs, self.n_kv_heads, ctx)?;
        // RoPE acts per head, so rotating keys before repeating them is the same as after, and
        // cheaper.
        let q = g.rope(q).in_module(ctx)?;
        let k = g.rope(k).in_module(ctx)?;
        let k = self.repeat_kv(g, k, bs, ctx)?;
        let v = self.repeat_kv(g, v, bs, ctx)?;
        let att = self.attend(g, q, k, v, seq, ctx)?;
        let att = g.permute(att, &[0, 2, 1, 3]).in_module(ctx)?;
        let att = g.reshape(att, &[batch, seq, self.dim]).in_module(ctx)?;
        let out = self.wo.forward(g, att, &ctx.child("wo"))?;
        g.dropout(out, self.dropout).in_module(ctx)
    }
}
