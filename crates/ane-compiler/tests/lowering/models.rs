//! Small models built from the graph builder: the layers the lowering must handle end to end.

use ane_compiler::{Conv2dParams, DType, Graph, Pool2dParams, ValueId};

/// One Llama-style layer on `x: [S, D]`: RMSNorm, attention with RoPE and the causal mask,
/// SwiGLU MLP; parameters `layers.<l>.*`.
pub fn transformer_layer(g: &mut Graph, x: ValueId, l: usize, heads: usize) -> ValueId {
    let d = g.shape(x).unwrap().dims()[1];
    let s = g.shape(x).unwrap().dims()[0];
    let hd = d / heads;
    let p = |g: &mut Graph, name: &str, shape: &[usize]| {
        g.param(&format!("layers.{l}.{name}"), shape).unwrap()
    };
    let norm_w = p(g, "attn_norm", &[d]);
    let wq = p(g, "wq", &[d, d]);
    let wk = p(g, "wk", &[d, d]);
    let wv = p(g, "wv", &[d, d]);
    let wo = p(g, "wo", &[d, d]);
    let ffn_norm = p(g, "ffn_norm", &[d]);
    let w1 = p(g, "w1", &[2 * d, d]);
    let w3 = p(g, "w3", &[2 * d, d]);
    let w2 = p(g, "w2", &[d, 2 * d]);
    let h = g.rms_norm(x, norm_w, 1e-5).unwrap();
    let split = |g: &mut Graph, v: ValueId| {
        let r = g.reshape(v, &[s, heads, hd]).unwrap();
        g.permute(r, &[1, 0, 2]).unwrap()
    };
    let q = g.linear(h, wq, None).unwrap();
    let k = g.linear(h, wk, None).unwrap();
    let v = g.linear(h, wv, None).unwrap();
    let (q, k, v) = (split(g, q), split(g, k), split(g, v));
    let (q, k) = (g.rope(q).unwrap(), g.rope(k).unwrap());
    let a = g.causal_self_attention(q, k, v).unwrap();
    let a = g.permute(a, &[1, 0, 2]).unwrap();
    let a = g.reshape(a, &[s, d]).unwrap();
    let o = g.linear(a, wo, None).unwrap();
    let x2 = g.add(x, o).unwrap();
    let h2 = g.rms_norm(x2, ffn_norm, 1e-5).unwrap();
    let gate = g.linear(h2, w1, None).unwrap();
    let gate = g.silu(gate).unwrap();
    let up = g.linear(h2, w3, None).unwrap();
    let m = g.mul(gate, up).unwrap();
    let down = g.linear(m, w2, None).unwrap();
    g.add(x2, down).unwrap()
}

/// A tiny Llama-style language model: embedding, `layers` transformer layers, final RMSNorm,
/// tied classifier, cross-entropy against `targets`. Output `loss`.
pub fn tiny_lm(seq: usize, dim: usize, vocab: usize, layers: usize) -> Graph {
    let mut g = Graph::new();
    let tokens = g.input_ids("tokens", &[seq]).unwrap();
    let targets = g.input_ids("targets", &[seq]).unwrap();
    let table = g.param("embedding", &[vocab, dim]).unwrap();
    let mut x = g.embedding(tokens, table).unwrap();
    for l in 0..layers {
        x = transformer_layer(&mut g, x, l, 2);
    }
    let norm = g.param("norm", &[dim]).unwrap();
    let h = g.rms_norm(x, norm, 1e-5).unwrap();
    let logits = g.linear(h, table, None).unwrap();
    let loss = g.cross_entropy(logits, targets).unwrap();
    g.output("loss", loss).unwrap();
    g
}

/// An MLP classifier: `images: [B, 20]` → 16 → GELU → LayerNorm → 5 classes, cross-entropy.
pub fn mlp(batch: usize) -> Graph {
    let mut g = Graph::new();
    let x = g.input("images", &[batch, 20], DType::F32).unwrap();
    let labels = g.input_ids("labels", &[batch]).unwrap();
    let w0 = g.param("0.weight", &[16, 20]).unwrap();
    let b0 = g.param("0.bias", &[16]).unwrap();
    let gamma = g.param("1.weight", &[16]).unwrap();
    let beta = g.param("1.bias", &[16]).unwrap();
    let w1 = g.param("2.weight", &[5, 16]).unwrap();
    let b1 = g.param("2.bias", &[5]).unwrap();
    let h = g.linear(x, w0, Some(b0)).unwrap();
    let h = g.gelu(h).unwrap();
    let h = g.layer_norm(h, gamma, beta, 1e-5).unwrap();
    let logits = g.linear(h, w1, Some(b1)).unwrap();
    let loss = g.cross_entropy(logits, labels).unwrap();
    g.output("loss", loss).unwrap();
    g
}

/// A small CNN: conv 3×3 → ReLU → max-pool 2 → conv 3×3 stride 2 → tanh → avg-pool → linear → MSE.
pub fn cnn(batch: usize) -> Graph {
    let mut g = Graph::new();
    let x = g.input("images", &[batch, 2, 8, 8], DType::F32).unwrap();
    let target = g.input("target", &[batch, 3], DType::F32).unwrap();
    let w0 = g.param("conv0.weight", &[4, 2, 3, 3]).unwrap();
    let b0 = g.param("conv0.bias", &[4]).unwrap();
    let w1 = g.param("conv1.weight", &[4, 2, 3, 3]).unwrap();
    let fc = g.param("fc.weight", &[3, 4]).unwrap();
    let same = Conv2dParams {
        stride: [1, 1],
        padding: [1, 1],
        groups: 1,
    };
    let h = g.conv2d(x, w0, Some(b0), same).unwrap();
    let h = g.relu(h).unwrap();
    let pool = Pool2dParams {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0, 0],
    };
    let h = g.max_pool2d(h, pool).unwrap();
    let strided = Conv2dParams {
        stride: [2, 2],
        padding: [1, 1],
        groups: 2,
    };
    let h = g.conv2d(h, w1, None, strided).unwrap();
    let h = g.tanh(h).unwrap();
    let avg = Pool2dParams {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0, 0],
    };
    let h = g.avg_pool2d(h, avg, true).unwrap();
    let h = g.reshape(h, &[batch, 4]).unwrap();
    let y = g.linear(h, fc, None).unwrap();
    let loss = g.mse_loss(y, target).unwrap();
    g.output("loss", loss).unwrap();
    g
}
