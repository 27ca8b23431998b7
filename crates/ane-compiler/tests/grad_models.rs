//! Whole-model gradient checks: a 2-layer MLP (with dropout), a small CNN and a 2-layer tiny
//! Llama-style transformer, each trained on a cross-entropy loss seeded at 1 (the real training
//! case). Every parameter element is compared with a central difference (tolerances in `common`).

mod common;

use ane_compiler::autodiff::{training_graph, GradOptions};
use ane_compiler::eval::Tensor;
use ane_compiler::{Conv2dParams, DType, Graph, Pool2dParams, ValueId};
use common::{assert_gradients, feeds, TestRng};

#[test]
fn two_layer_mlp_with_dropout_and_cross_entropy() {
    let batch = 4;
    let mut g = Graph::new();
    let x = g.input("images", &[batch, 6], DType::F32).unwrap();
    let labels = g.input_ids("labels", &[batch]).unwrap();
    let w0 = g.param("0.weight", &[8, 6]).unwrap();
    let b0 = g.param("0.bias", &[8]).unwrap();
    let w2 = g.param("2.weight", &[3, 8]).unwrap();
    let b2 = g.param("2.bias", &[3]).unwrap();
    let h = g.linear(x, w0, Some(b0)).unwrap();
    let h = g.relu(h).unwrap();
    let h = g.dropout(h, 0.25).unwrap();
    let logits = g.linear(h, w2, Some(b2)).unwrap();
    let loss = g.cross_entropy(logits, labels).unwrap();
    g.output("loss", loss).unwrap();
    g.output("logits", logits).unwrap();

    let given = [
        ("labels", Tensor::from_ids([batch], &[0, 2, 1, 2]).unwrap()),
        ("dropout_rng", Tensor::from_ids([2], &[42, 3]).unwrap()),
    ];
    let feeds = feeds(&g, &mut TestRng::new(1), &given);
    assert_gradients(&g, &feeds, &["images"], None);
}

#[test]
fn small_cnn_conv_relu_pool_linear() {
    let batch = 2;
    let mut g = Graph::new();
    let x = g.input("images", &[batch, 2, 6, 6], DType::F32).unwrap();
    let labels = g.input_ids("labels", &[batch]).unwrap();
    let cw = g.param("conv.weight", &[4, 2, 3, 3]).unwrap();
    let cb = g.param("conv.bias", &[4]).unwrap();
    let fw = g.param("fc.weight", &[3, 36]).unwrap();
    let fb = g.param("fc.bias", &[3]).unwrap();
    let conv = Conv2dParams {
        stride: [1, 1],
        padding: [1, 1],
        groups: 1,
    };
    let h = g.conv2d(x, cw, Some(cb), conv).unwrap();
    let h = g.relu(h).unwrap();
    let pool = Pool2dParams {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0, 0],
    };
    let h = g.max_pool2d(h, pool).unwrap();
    let flat = g.reshape(h, &[batch, 36]).unwrap();
    let logits = g.linear(flat, fw, Some(fb)).unwrap();
    let loss = g.cross_entropy(logits, labels).unwrap();
    g.output("loss", loss).unwrap();

    let given = [("labels", Tensor::from_ids([batch], &[1, 2]).unwrap())];
    let feeds = feeds(&g, &mut TestRng::new(2), &given);
    assert_gradients(&g, &feeds, &["images"], None);
}

/// Hyper-parameters of the tiny transformer.
struct Tiny {
    batch: usize,
    seq: usize,
    vocab: usize,
    dim: usize,
    heads: usize,
    hidden: usize,
    layers: usize,
}

/// `[B, S, D]` → `[B, H, S, HD]`.
fn split_heads(g: &mut Graph, x: ValueId, c: &Tiny) -> ValueId {
    let x = g
        .reshape(x, &[c.batch, c.seq, c.heads, c.dim / c.heads])
        .unwrap();
    g.permute(x, &[0, 2, 1, 3]).unwrap()
}

/// A Llama-style decoder: embedding, per layer RMSNorm → attention (RoPE on q, k; causal mask) →
/// residual, RMSNorm → SwiGLU FFN → residual; final RMSNorm, classifier, cross-entropy.
fn tiny_llama(c: &Tiny) -> Graph {
    let mut g = Graph::new();
    let tokens = g.input_ids("tokens", &[c.batch, c.seq]).unwrap();
    let targets = g.input_ids("targets", &[c.batch, c.seq]).unwrap();
    let emb = g.param("tok_embeddings.weight", &[c.vocab, c.dim]).unwrap();
    let mut x = g.embedding(tokens, emb).unwrap();
    for l in 0..c.layers {
        let p = |name: &str| format!("layers.{l}.{name}");
        let attn_norm = g.param(&p("attention_norm.weight"), &[c.dim]).unwrap();
        let wq = g.param(&p("attention.wq.weight"), &[c.dim, c.dim]).unwrap();
        let wk = g.param(&p("attention.wk.weight"), &[c.dim, c.dim]).unwrap();
        let wv = g.param(&p("attention.wv.weight"), &[c.dim, c.dim]).unwrap();
        let wo = g.param(&p("attention.wo.weight"), &[c.dim, c.dim]).unwrap();
        let ffn_norm = g.param(&p("ffn_norm.weight"), &[c.dim]).unwrap();
        let w1 = g
            .param(&p("feed_forward.w1.weight"), &[c.hidden, c.dim])
            .unwrap();
        let w2 = g
            .param(&p("feed_forward.w2.weight"), &[c.dim, c.hidden])
            .unwrap();
        let w3 = g
            .param(&p("feed_forward.w3.weight"), &[c.hidden, c.dim])
            .unwrap();

        let h = g.rms_norm(x, attn_norm, 1e-5).unwrap();
        let q = g.linear(h, wq, None).unwrap();
        let k = g.linear(h, wk, None).unwrap();
        let v = g.linear(h, wv, None).unwrap();
        let q = split_heads(&mut g, q, c);
        let k = split_heads(&mut g, k, c);
        let v = split_heads(&mut g, v, c);
        let q = g.rope(q).unwrap();
        let k = g.rope(k).unwrap();
        let att = g.causal_self_attention(q, k, v).unwrap();
        let att = g.permute(att, &[0, 2, 1, 3]).unwrap();
        let att = g.reshape(att, &[c.batch, c.seq, c.dim]).unwrap();
        let o = g.linear(att, wo, None).unwrap();
        x = g.add(x, o).unwrap();

        let h = g.rms_norm(x, ffn_norm, 1e-5).unwrap();
        let h1 = g.linear(h, w1, None).unwrap();
        let h3 = g.linear(h, w3, None).unwrap();
        let gate = g.silu(h1).unwrap();
        let gate = g.mul(gate, h3).unwrap();
        let ffn = g.linear(gate, w2, None).unwrap();
        x = g.add(x, ffn).unwrap();
    }
    let norm = g.param("norm.weight", &[c.dim]).unwrap();
    let out = g.param("output.weight", &[c.vocab, c.dim]).unwrap();
    let x = g.rms_norm(x, norm, 1e-5).unwrap();
    let logits = g.linear(x, out, None).unwrap();
    let loss = g.cross_entropy(logits, targets).unwrap();
    g.output("loss", loss).unwrap();
    g
}

const TINY: Tiny = Tiny {
    batch: 2,
    seq: 8,
    vocab: 11,
    dim: 16,
    heads: 2,
    hidden: 32,
    layers: 2,
};

fn tiny_feeds(g: &Graph, seed: u64) -> ane_compiler::eval::Feeds {
    let mut rng = TestRng::new(seed);
    let shape = [TINY.batch, TINY.seq];
    let given = [
        ("tokens", rng.ids(&shape, TINY.vocab)),
        ("targets", rng.ids(&shape, TINY.vocab)),
    ];
    let mut feeds = feeds(g, &mut rng, &given);
    // RMSNorm weights near 1, as initialised in practice.
    for (name, t) in feeds.iter_mut() {
        if name.ends_with("norm.weight") {
            for v in t.data_mut() {
                *v = 1.0 + 0.2 * *v;
            }
        }
    }
    feeds
}

#[test]
fn tiny_llama_transformer_every_parameter() {
    let g = tiny_llama(&TINY);
    let feeds = tiny_feeds(&g, 3);
    let params: usize = g.params().map(|p| g.shape(p.value).unwrap().numel()).sum();
    assert_eq!(params, 11 * 16 * 2 + 2 * (16 * 2 + 4 * 256 + 3 * 512) + 16);
    assert_gradients(&g, &feeds, &[], None);
}

#[test]
fn tiny_llama_training_graph_has_one_gradient_per_parameter() {
    let g = tiny_llama(&TINY);
    let train = training_graph(&g, "loss", &GradOptions::default()).unwrap();
    let names: Vec<&str> = train.outputs().iter().map(|o| o.name.as_str()).collect();
    let mut expected = vec!["loss".to_string()];
    expected.extend(g.params().map(|p| format!("grad.{}", p.name)));
    assert_eq!(names, expected);
    for p in g.params() {
        let grad = train.output_value(&format!("grad.{}", p.name)).unwrap();
        assert_eq!(train.shape(grad).unwrap(), g.shape(p.value).unwrap());
    }
}
