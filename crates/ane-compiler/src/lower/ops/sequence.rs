//! Embedding lookup and its backward (host kernels only: they read integer ids), and RoPE.
//!
//! - Embedding: MIL `gather` along axis 0 of the table.
//! - Embedding backward: `scatter_along_axis` (mode `add`) of the `dy` rows into a zero table, the
//!   ids tiled across the feature axis — O(ids·D) rather than a one-hot matmul's O(ids·V·D).
//! - RoPE (ane-facts §2, llama2.c's interleaved pairs): `x` viewed as `[lead, S, HD/2, 2]`, the
//!   pairs rotated by slicing even/odd lanes and concatenating `(−odd, even)`, then
//!   `y = x·cos + rot(x)·sin` with `[S, HD]` cos/sin tables (each angle duplicated over its pair;
//!   sin negated for the inverse rotation) stored as weight files.

use super::movement::broadcast;
use super::NodeArgs;
use crate::lower::context::{to_i32, LowerCx};
use crate::lower::error::LowerError;
use crate::op::Op;
use ane_mil::builder::{ScatterMode, Var};

pub(super) fn lower(cx: &mut LowerCx, n: &NodeArgs) -> Result<Var, LowerError> {
    match n.op {
        Op::Embedding => {
            let r = cx.f.gather(n.arg(1), n.arg(0), 0);
            let rows = cx.ok(r)?;
            cx.fit(&rows, n.out)
        }
        Op::EmbeddingBackward { vocab } => {
            let d = n.dims(1)[n.dims(1).len() - 1];
            let count = n.shapes[0].numel();
            let ids = cx.reshape(n.arg(0), &[count, 1])?;
            let r = cx.f.tile(&ids, &to_i32(&[1, d])?);
            let indices = cx.ok(r)?;
            let updates = cx.reshape(n.arg(1), &[count, d])?;
            let zero = cx.table("fill", &[1, 1], &[0.0])?;
            let table = broadcast(cx, &zero, &[*vocab, d])?;
            let r =
                cx.f.scatter_along_axis(&table, &indices, &updates, 0, ScatterMode::Add);
            cx.ok(r)
        }
        Op::Rope { base, inverse } => rope(cx, n, *base, *inverse),
        _ => unreachable!("sequence::lower called for {}", n.op.name()),
    }
}

fn rope(cx: &mut LowerCx, n: &NodeArgs, base: f32, inverse: bool) -> Result<Var, LowerError> {
    let d = n.dims(0);
    let (seq, head_dim) = (d[d.len() - 2], d[d.len() - 1]);
    let lead = n.shapes[0].numel() / (seq * head_dim);
    let pairs = cx.reshape(n.arg(0), &[lead, seq, head_dim / 2, 2])?;
    let even = cx.slice_axis(&pairs, 3, 0, 1)?;
    let odd = cx.slice_axis(&pairs, 3, 1, 1)?;
    let minus_odd = cx.mul_const(&odd, -1.0)?;
    let rotated = cx.concat(&[minus_odd, even], 3)?;
    let rotated = cx.reshape(&rotated, &[lead, seq, head_dim])?;
    let x = cx.reshape(n.arg(0), &[lead, seq, head_dim])?;
    let (cos, sin) = tables(seq, head_dim, base, inverse);
    let tag = format!("s{seq}_d{head_dim}_b{}", base.to_string().replace('.', "p"));
    let cos = cx.table(&format!("rope_cos_{tag}"), &[seq, head_dim], &cos)?;
    let sin_name = if inverse {
        "rope_sin_inverse"
    } else {
        "rope_sin"
    };
    let sin = cx.table(&format!("{sin_name}_{tag}"), &[seq, head_dim], &sin)?;
    let a = cx.mul(&x, &cos)?;
    let b = cx.mul(&rotated, &sin)?;
    let y = cx.add(&a, &b)?;
    cx.fit(&y, n.out)
}

/// `[S, HD]` cos and (signed) sin of `θ(s, i) = s · base^(−2i/HD)`, each duplicated over its pair.
fn tables(seq: usize, head_dim: usize, base: f32, inverse: bool) -> (Vec<f64>, Vec<f64>) {
    let sign = if inverse { -1.0 } else { 1.0 };
    let mut cos = Vec::with_capacity(seq * head_dim);
    let mut sin = Vec::with_capacity(seq * head_dim);
    for s in 0..seq {
        for lane in 0..head_dim {
            let pair = lane / 2;
            let freq = (base as f64).powf(-((2 * pair) as f64) / head_dim as f64);
            let (sn, cs) = (sign * s as f64 * freq).sin_cos();
            cos.push(cs);
            sin.push(sn);
        }
    }
    (cos, sin)
}
