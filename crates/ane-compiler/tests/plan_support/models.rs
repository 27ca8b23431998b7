//! The test models of the plan tests, built directly with the IR builder: an MLP, a small CNN and
//! a Llama-style transformer, each with a cross-entropy loss and scoped layers, turned into
//! training-step graphs.

use ane_compiler::autodiff::{training_graph, GradOptions};
use ane_compiler::{Conv2dParams, DType, Graph, GraphError, Pool2dParams, ValueId};

/// The training-step graph of `forward` (loss output `loss`).
pub fn training(forward: &Graph) -> Graph {
    training_graph(forward, "loss", &GradOptions::default()).expect("autodiff")
}

/// MLP 784-256-10, batch 32: `linear → relu → linear → cross-entropy`.
pub fn mlp() -> Graph {
    let build = || -> Result<Graph, GraphError> {
        let mut g = Graph::new();
        let x = g.input("images", &[32, 784], DType::F32)?;
        let labels = g.input_ids("labels", &[32])?;
        let h = g.with_scope("0", |g| {
            let w = g.param("0.weight", &[256, 784])?;
            let b = g.param("0.bias", &[256])?;
            let h = g.linear(x, w, Some(b))?;
            g.relu(h)
        })?;
        let logits = g.with_scope("2", |g| {
            let w = g.param("2.weight", &[10, 256])?;
            let b = g.param("2.bias", &[10])?;
            g.linear(h, w, Some(b))
        })?;
        let loss = g.cross_entropy(logits, labels)?;
        g.output("loss", loss)?;
        Ok(g)
    };
    training(&build().expect("mlp builds"))
}

/// The MLP with dropout (p = 0.25) after the hidden activation.
pub fn mlp_with_dropout() -> Graph {
    let build = || -> Result<Graph, GraphError> {
        let mut g = Graph::new();
        let x = g.input("images", &[32, 784], DType::F32)?;
        let labels = g.input_ids("labels", &[32])?;
        let w0 = g.param("0.weight", &[256, 784])?;
        let b0 = g.param("0.bias", &[256])?;
        let h = g.linear(x, w0, Some(b0))?;
        let h = g.relu(h)?;
        let h = g.dropout(h, 0.25)?;
        let w1 = g.param("2.weight", &[10, 256])?;
        let b1 = g.param("2.bias", &[10])?;
        let logits = g.linear(h, w1, Some(b1))?;
        let loss = g.cross_entropy(logits, labels)?;
        g.output("loss", loss)?;
        Ok(g)
    };
    training(&build().expect("mlp with dropout builds"))
}

/// CNN on 1×28×28, batch 8: conv(1→8, 3×3, pad 1) → relu → maxpool 2 → conv(8→16, 3×3, pad 1)
/// → relu → maxpool 2 → flatten → linear(784 → 10) → cross-entropy.
pub fn cnn() -> Graph {
    let build = || -> Result<Graph, GraphError> {
        let batch = 8;
        let mut g = Graph::new();
        let x = g.input("images", &[batch, 1, 28, 28], DType::F32)?;
        let labels = g.input_ids("labels", &[batch])?;
        let conv = Conv2dParams {
            stride: [1, 1],
            padding: [1, 1],
            groups: 1,
        };
        let pool = Pool2dParams {
            kernel: [2, 2],
            stride: [2, 2],
            padding: [0, 0],
        };
        let h = g.with_scope("conv1", |g| {
            let w = g.param("conv1.weight", &[8, 1, 3, 3])?;
            let b = g.param("conv1.bias", &[8])?;
            let h = g.conv2d(x, w, Some(b), conv)?;
            let h = g.relu(h)?;
            g.max_pool2d(h, pool)
        })?;
        let h = g.with_scope("conv2", |g| {
            let w = g.param("conv2.weight", &[16, 8, 3, 3])?;
            let b = g.param("conv2.bias", &[16])?;
            let h = g.conv2d(h, w, Some(b), conv)?;
            let h = g.relu(h)?;
            g.max_pool2d(h, pool)
        })?;
        let logits = g.with_scope("fc", |g| {
            let flat = g.reshape(h, &[batch, 16 * 7 * 7])?;
            let w = g.param("fc.weight", &[10, 16 * 7 * 7])?;
            let b = g.param("fc.bias", &[10])?;
            g.linear(flat, w, Some(b))
        })?;
        let loss = g.cross_entropy(logits, labels)?;
        g.output("loss", loss)?;
        Ok(g)
    };
    training(&build().expect("cnn builds"))
}

/// Shape of a Llama-style transformer.
#[derive(Debug, Clone, Copy)]
pub struct LlamaShape {
    pub layers: usize,
    pub dim: usize,
    pub hidden: usize,
    pub heads: usize,
    pub seq: usize,
    pub vocab: usize,
    pub batch: usize,
}

impl LlamaShape {
    /// The small test transformer: dim 64, 4 heads, seq 32, SwiGLU hidden 128, vocab 100.
    pub fn tiny(layers: usize) -> Self {
        LlamaShape {
            layers,
            dim: 64,
            hidden: 128,
            heads: 4,
            seq: 32,
            vocab: 100,
            batch: 1,
        }
    }

    /// Stories110M (llama2.c): 12 layers, dim 768, hidden 2048, 12 heads, seq 256, vocab 32000.
    pub fn stories110m() -> Self {
        LlamaShape {
            layers: 12,
            dim: 768,
            hidden: 2048,
            heads: 12,
            seq: 256,
            vocab: 32000,
            batch: 1,
        }
    }
}

/// A Llama-style transformer (RMSNorm, RoPE, causal attention, SwiGLU, untied output head) as a
/// training-step graph; every layer is scoped `layers.<i>`.
pub fn llama(shape: LlamaShape) -> Graph {
    training(&llama_forward(shape, true).expect("llama builds"))
}

/// [`llama`] without scopes: the partitioner derives them from parameter names.
pub fn llama_unscoped(shape: LlamaShape) -> Graph {
    training(&llama_forward(shape, false).expect("llama builds"))
}

/// Runs `build` in scope `name` when `scoped`, else directly.
fn scoped<T>(
    g: &mut Graph,
    scoped: bool,
    name: &str,
    build: impl FnOnce(&mut Graph) -> Result<T, GraphError>,
) -> Result<T, GraphError> {
    if scoped {
        g.with_scope(name, build)
    } else {
        build(g)
    }
}

/// The forward graph of [`llama`] (`use_scopes`: wrap layers in `with_scope`).
pub fn llama_forward(s: LlamaShape, use_scopes: bool) -> Result<Graph, GraphError> {
    let mut g = Graph::new();
    let tokens = g.input_ids("tokens", &[s.batch, s.seq])?;
    let labels = g.input_ids("labels", &[s.batch, s.seq])?;
    let mut x = scoped(&mut g, use_scopes, "tok_embeddings", |g| {
        let table = g.param("tok_embeddings.weight", &[s.vocab, s.dim])?;
        g.embedding(tokens, table)
    })?;
    for layer in 0..s.layers {
        let name = format!("layers.{layer}");
        x = scoped(&mut g, use_scopes, &name, |g| block(g, x, &name, s))?;
    }
    let logits = scoped(&mut g, use_scopes, "output", |g| {
        let norm = g.param("norm.weight", &[s.dim])?;
        let h = g.rms_norm(x, norm, 1e-5)?;
        let w = g.param("output.weight", &[s.vocab, s.dim])?;
        g.linear(h, w, None)
    })?;
    let loss = g.cross_entropy(logits, labels)?;
    g.output("loss", loss)?;
    Ok(g)
}

fn block(g: &mut Graph, x: ValueId, name: &str, s: LlamaShape) -> Result<ValueId, GraphError> {
    let hd = s.dim / s.heads;
    let p = |g: &mut Graph, leaf: &str, shape: &[usize]| g.param(&format!("{name}.{leaf}"), shape);
    let attention_norm = p(g, "attention_norm.weight", &[s.dim])?;
    let wq = p(g, "attention.wq.weight", &[s.dim, s.dim])?;
    let wk = p(g, "attention.wk.weight", &[s.dim, s.dim])?;
    let wv = p(g, "attention.wv.weight", &[s.dim, s.dim])?;
    let wo = p(g, "attention.wo.weight", &[s.dim, s.dim])?;
    let ffn_norm = p(g, "ffn_norm.weight", &[s.dim])?;
    let w1 = p(g, "feed_forward.w1.weight", &[s.hidden, s.dim])?;
    let w2 = p(g, "feed_forward.w2.weight", &[s.dim, s.hidden])?;
    let w3 = p(g, "feed_forward.w3.weight", &[s.hidden, s.dim])?;

    let h = g.rms_norm(x, attention_norm, 1e-5)?;
    let heads = |g: &mut Graph, w: ValueId| -> Result<ValueId, GraphError> {
        let t = g.linear(h, w, None)?;
        let t = g.reshape(t, &[s.batch, s.seq, s.heads, hd])?;
        g.permute(t, &[0, 2, 1, 3])
    };
    let q = heads(g, wq)?;
    let k = heads(g, wk)?;
    let v = heads(g, wv)?;
    let q = g.rope(q)?;
    let k = g.rope(k)?;
    let a = g.causal_self_attention(q, k, v)?;
    let a = g.permute(a, &[0, 2, 1, 3])?;
    let a = g.reshape(a, &[s.batch, s.seq, s.dim])?;
    let o = g.linear(a, wo, None)?;
    let x = g.add(x, o)?;

    let h = g.rms_norm(x, ffn_norm, 1e-5)?;
    let gate = g.linear(h, w1, None)?;
    let gate = g.silu(gate)?;
    let up = g.linear(h, w3, None)?;
    let f = g.mul(gate, up)?;
    let f = g.linear(f, w2, None)?;
    g.add(x, f)
}
