//! Chunking contractions over the chip's per-axis cap or its kernel I/O budget, so they can still
//! run on the ANE: a `linear` or `matmul` whose output rows, output columns or contraction exceed
//! the cap (the 32,000-row vocabulary classifier on an M1, whose cap is 16,384), or whose operands
//! and result together exceed half the kernel I/O budget (the 49 MB LM head of Stories110M against
//! a 16 MiB budget), becomes several contractions over slices of its operands, joined by a
//! `concat` (rows or columns) or a sum (contraction). maderix chunks a 151,936-row LM head the same
//! way (ane-facts §6, PR #26). Half the budget leaves room for the chunk's neighbours in its kernel.
//!
//! The slices and the joining `concat` still touch the full-size tensors, so placement puts them
//! on the host, where they are copies; the contractions, where the FLOPs are, fit the ANE.

use crate::error::GraphError;
use crate::graph::{Graph, Node, ValueId};
use crate::op::Op;
use crate::passes::mapped_origin;

/// What makes a contraction too large for one ANE kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    /// The per-axis cap.
    pub max_axis: usize,
    /// The largest bytes of a contraction's operands plus result; `None` = no budget.
    pub max_bytes: Option<usize>,
    /// Bytes per element of the kernels (2 for fp16).
    pub element_bytes: usize,
}

impl ChunkLimits {
    /// Only a per-axis cap.
    pub fn axis(max_axis: usize) -> Self {
        ChunkLimits {
            max_axis,
            max_bytes: None,
            element_bytes: 2,
        }
    }
}

/// `graph` with every oversized contraction chunked, and how many nodes were chunked. Inputs,
/// outputs (names and order), mode and node origins are kept.
pub fn chunk_oversized(graph: &Graph, limits: ChunkLimits) -> Result<(Graph, usize), GraphError> {
    let mut out = Graph::with_mode(graph.mode());
    out.next_dropout_site = graph.next_dropout_site;
    let mut map: Vec<Option<ValueId>> = vec![None; graph.num_values()];
    for input in graph.inputs() {
        let ty = graph.value_type(input.value)?;
        map[input.value.index()] =
            Some(out.add_input(&input.name, input.kind, ty.shape.dims(), ty.dtype)?);
    }
    let mut chunked = 0;
    for (index, node) in graph.nodes().iter().enumerate() {
        out.set_current_origin(mapped_origin(graph, index, &map));
        let inputs = node
            .inputs
            .iter()
            .map(|v| map[v.index()].ok_or(GraphError::UnknownValue(v.index())))
            .collect::<Result<Vec<_>, _>>()?;
        let value = match chunk_node(&mut out, node, &inputs, &limits)? {
            Some(v) => {
                chunked += 1;
                v
            }
            None => out.add_node(node.op.clone(), &inputs)?,
        };
        map[node.output.index()] = Some(value);
    }
    for output in graph.outputs() {
        let v = map[output.value.index()].ok_or(GraphError::UnknownValue(output.value.index()))?;
        out.output(&output.name, v)?;
    }
    Ok((out, chunked))
}

/// Balanced ranges covering `0..size` in `count` chunks, each (when possible) a multiple of 32,
/// the ANE's matmul granule; equal chunks when a count up to twice `count` allows them, so every
/// chunk lowers to the same kernel.
fn ranges(size: usize, count: usize) -> Vec<(usize, usize)> {
    let count = count.clamp(1, size.max(1));
    let equal = (count..=(2 * count).min(size))
        .find(|&c| size % c == 0 && (size / c) % 32 == 0)
        .map(|c| size / c);
    let chunk = equal.unwrap_or_else(|| {
        let chunk = size.div_ceil(count);
        let rounded = chunk.div_ceil(32) * 32;
        if rounded * (count - 1) < size {
            rounded
        } else {
            chunk
        }
    });
    (0..size)
        .step_by(chunk.max(1))
        .map(|start| (start, (start + chunk).min(size)))
        .collect()
}

/// Which dimension of a contraction is chunked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Oversized {
    /// Output rows (`M`).
    Rows,
    /// The contraction (`K`).
    Inner,
    /// Output columns (`N`).
    Columns,
}

/// How to chunk a contraction `[batch_a…, M, K] · [batch_b…, K, N]`: the dimension and the number
/// of chunks, or `None` when it fits. A dimension over the axis cap is chunked (only one may be);
/// otherwise, over the byte budget, the dimension whose chunking shrinks the most bytes.
fn plan_chunks(
    m: usize,
    k: usize,
    n: usize,
    (batch_a, batch_b): (&[usize], &[usize]),
    limits: &ChunkLimits,
) -> Option<(Oversized, usize)> {
    let max = limits.max_axis;
    if batch_a.iter().chain(batch_b).any(|&d| d > max) {
        return None;
    }
    let by_axis = match (m > max, k > max, n > max) {
        (true, false, false) => Some(Oversized::Rows),
        (false, true, false) => Some(Oversized::Inner),
        (false, false, true) => Some(Oversized::Columns),
        (false, false, false) => None,
        _ => return None,
    };
    let (ba, bb) = (
        batch_a.iter().product::<usize>().max(1),
        batch_b.iter().product::<usize>().max(1),
    );
    let bo = ba.max(bb);
    let bytes = |m: usize, k: usize, n: usize| {
        ba.saturating_mul(m.saturating_mul(k))
            .saturating_add(bb.saturating_mul(k.saturating_mul(n)))
            .saturating_add(bo.saturating_mul(m.saturating_mul(n)))
            .saturating_mul(limits.element_bytes)
    };
    let size_of = |d: Oversized| match d {
        Oversized::Rows => m,
        Oversized::Inner => k,
        Oversized::Columns => n,
    };
    let chunked_bytes = |d: Oversized, c: usize| match d {
        Oversized::Rows => bytes(m.div_ceil(c), k, n),
        Oversized::Inner => bytes(m, k.div_ceil(c), n),
        Oversized::Columns => bytes(m, k, n.div_ceil(c)),
    };
    let budget = limits.max_bytes.map(|b| b / 2);
    let over_budget = budget.is_some_and(|budget| bytes(m, k, n) > budget);
    let dim = match by_axis {
        Some(d) => d,
        None if over_budget => {
            // The dimension whose halving saves the most bytes.
            [Oversized::Rows, Oversized::Inner, Oversized::Columns]
                .into_iter()
                .filter(|&d| size_of(d) >= 64)
                .min_by_key(|&d| chunked_bytes(d, 2))?
        }
        None => return None,
    };
    let size = size_of(dim);
    let mut count = size.div_ceil(max);
    if let Some(budget) = budget {
        while count < size && chunked_bytes(dim, count) > budget {
            count += 1;
        }
    }
    (count > 1).then_some((dim, count))
}

/// The chunked replacement of `node` (inputs already mapped into `g`), or `None` to copy it.
fn chunk_node(
    g: &mut Graph,
    node: &Node,
    inputs: &[ValueId],
    limits: &ChunkLimits,
) -> Result<Option<ValueId>, GraphError> {
    match node.op {
        Op::Linear => chunk_linear(g, inputs, limits),
        Op::MatMul {
            transpose_a,
            transpose_b,
        } => chunk_matmul(g, inputs, transpose_a, transpose_b, limits),
        _ => Ok(None),
    }
}

/// `x·wᵀ + b` with `w: [N, K]`: columns chunk `w`'s rows (and `b`); the contraction chunks both.
fn chunk_linear(
    g: &mut Graph,
    inputs: &[ValueId],
    limits: &ChunkLimits,
) -> Result<Option<ValueId>, GraphError> {
    let (x, w, b) = (inputs[0], inputs[1], inputs.get(2).copied());
    let x_dims = g.shape(x)?.dims().to_vec();
    let (n, k) = (g.shape(w)?.dims()[0], g.shape(w)?.dims()[1]);
    let lead = &x_dims[..x_dims.len() - 1];
    // Leading axes flatten into the rows of the contraction; rows are not chunked (the result
    // keeps the input's leading axes), so only the contraction or the columns may be.
    let rows: usize = lead.iter().product::<usize>().max(1);
    let plan = if lead.iter().any(|&d| d > limits.max_axis) {
        None
    } else {
        plan_chunks(rows.min(limits.max_axis), k, n, (&[], &[]), limits)
            .filter(|(d, _)| *d != Oversized::Rows)
    };
    match plan {
        Some((Oversized::Columns, count)) => {
            let mut parts = Vec::new();
            for (start, end) in ranges(n, count) {
                let w_part = g.slice(w, 0, start, end)?;
                let b_part = b.map(|b| g.slice(b, 0, start, end)).transpose()?;
                parts.push(g.linear(x, w_part, b_part)?);
            }
            Ok(Some(g.concat(&parts, -1)?))
        }
        Some((Oversized::Inner, count)) => {
            let mut sum = None;
            for (start, end) in ranges(k, count) {
                let x_part = g.slice(x, -1, start, end)?;
                let w_part = g.slice(w, 1, start, end)?;
                let part = g.linear(x_part, w_part, None)?;
                sum = Some(match sum {
                    None => part,
                    Some(s) => g.add(s, part)?,
                });
            }
            let sum = sum.expect("at least one chunk");
            Ok(Some(match b {
                Some(b) => g.add(sum, b)?,
                None => sum,
            }))
        }
        _ => Ok(None),
    }
}

/// `op(a)·op(b)`: rows chunk `a`, columns chunk `b`, the contraction chunks both.
fn chunk_matmul(
    g: &mut Graph,
    inputs: &[ValueId],
    ta: bool,
    tb: bool,
    limits: &ChunkLimits,
) -> Result<Option<ValueId>, GraphError> {
    let (a, b) = (inputs[0], inputs[1]);
    let a_dims = g.shape(a)?.dims().to_vec();
    let b_dims = g.shape(b)?.dims().to_vec();
    if a_dims.len() < 2 || b_dims.len() < 2 {
        return Ok(None);
    }
    // Axes (negative, from the end) of each operand's M, K and N.
    let (a_rows, a_inner): (isize, isize) = if ta { (-1, -2) } else { (-2, -1) };
    let (b_inner, b_cols): (isize, isize) = if tb { (-1, -2) } else { (-2, -1) };
    let at = |dims: &[usize], axis: isize| dims[(dims.len() as isize + axis) as usize];
    let (m, k, n) = (
        at(&a_dims, a_rows),
        at(&a_dims, a_inner),
        at(&b_dims, b_cols),
    );
    let batch = (&a_dims[..a_dims.len() - 2], &b_dims[..b_dims.len() - 2]);
    match plan_chunks(m, k, n, batch, limits) {
        Some((Oversized::Rows, count)) => {
            let mut parts = Vec::new();
            for (start, end) in ranges(m, count) {
                let a_part = g.slice(a, a_rows, start, end)?;
                parts.push(g.matmul_t(a_part, b, ta, tb)?);
            }
            Ok(Some(g.concat(&parts, -2)?))
        }
        Some((Oversized::Columns, count)) => {
            let mut parts = Vec::new();
            for (start, end) in ranges(n, count) {
                let b_part = g.slice(b, b_cols, start, end)?;
                parts.push(g.matmul_t(a, b_part, ta, tb)?);
            }
            Ok(Some(g.concat(&parts, -1)?))
        }
        Some((Oversized::Inner, count)) => {
            let mut sum = None;
            for (start, end) in ranges(k, count) {
                let a_part = g.slice(a, a_inner, start, end)?;
                let b_part = g.slice(b, b_inner, start, end)?;
                let part = g.matmul_t(a_part, b_part, ta, tb)?;
                sum = Some(match sum {
                    None => part,
                    Some(s) => g.add(s, part)?,
                });
            }
            Ok(sum)
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{evaluate, Feeds, Tensor};
    use crate::DType;

    #[test]
    fn ranges_are_balanced_and_aligned() {
        assert_eq!(ranges(32000, 2), vec![(0, 16000), (16000, 32000)]);
        assert_eq!(ranges(100, 3), vec![(0, 34), (34, 68), (68, 100)]);
        assert_eq!(ranges(64, 1), vec![(0, 64)]);
        // Nine chunks of 32,000 are not aligned; ten of 3,200 are, and equal.
        let ten = ranges(32000, 9);
        assert_eq!(ten.len(), 10);
        assert!(ten.iter().all(|(a, b)| b - a == 3200));
    }

    #[test]
    fn a_byte_budget_chunks_the_largest_dimension() {
        let limits = ChunkLimits {
            max_axis: 65_536,
            max_bytes: Some(16 << 20),
            element_bytes: 2,
        };
        // The Stories110M LM head forward: x [256, 768] · Wᵀ [768, 32000].
        let (dim, count) = plan_chunks(256, 768, 32000, (&[], &[]), &limits).unwrap();
        assert_eq!(dim, Oversized::Columns);
        let bytes =
            2 * (256 * 768 + 768 * 32000usize.div_ceil(count) + 256 * 32000usize.div_ceil(count));
        assert!(bytes <= 8 << 20, "{count} chunks: {bytes} bytes");
        // Its weight gradient: dlogitsᵀ [32000, 256] · x [256, 768].
        assert_eq!(
            plan_chunks(32000, 256, 768, (&[], &[]), &limits).unwrap().0,
            Oversized::Rows
        );
        // A layer's matmul fits.
        assert_eq!(plan_chunks(256, 768, 768, (&[], &[]), &limits), None);
        // Attention scores of 12 heads broadcast one batch, not the product of both operands'.
        assert_eq!(
            plan_chunks(256, 64, 256, (&[1, 12], &[1, 12]), &limits),
            None
        );
    }

    fn feeds(g: &Graph) -> Feeds {
        let mut feeds = Feeds::new();
        for (i, input) in g.inputs().iter().enumerate() {
            let shape = g.shape(input.value).unwrap().clone();
            let n = shape.numel();
            let data = (0..n)
                .map(|j| ((j * 7 + i * 13) % 17) as f64 / 17.0 - 0.5)
                .collect();
            feeds.insert(input.name.clone(), Tensor::new(shape, data).unwrap());
        }
        feeds
    }

    /// Every chunking case computes what the original node computes.
    #[test]
    fn chunked_contractions_compute_the_same_values() {
        let mut g = Graph::new();
        let x = g.input("x", &[3, 8], DType::F32).unwrap();
        let w = g.param("w", &[40, 8]).unwrap();
        let b = g.param("b", &[40]).unwrap();
        let x2 = g.input("x2", &[3, 40], DType::F32).unwrap();
        let w2 = g.param("w2", &[4, 40]).unwrap();
        let b2 = g.param("b2", &[4]).unwrap();
        let a = g.input("a", &[5, 40], DType::F32).unwrap();
        let at = g.input("at", &[40, 5], DType::F32).unwrap();
        let c = g.input("c", &[40, 6], DType::F32).unwrap();
        let e = g.input("e", &[5, 3], DType::F32).unwrap();
        let f = g.input("f", &[3, 5], DType::F32).unwrap();
        let h = g.input("h", &[3, 6], DType::F32).unwrap();
        let cases = [
            ("linear_columns", g.linear(x, w, Some(b)).unwrap()),
            ("linear_inner", g.linear(x2, w2, Some(b2)).unwrap()),
            ("inner", g.matmul(a, c).unwrap()),
            ("inner_transposed", g.matmul_t(at, c, true, false).unwrap()),
            ("rows", g.matmul_t(a, e, true, false).unwrap()),
            ("columns", g.matmul(f, a).unwrap()),
            ("columns_transposed", g.matmul_t(h, c, false, true).unwrap()),
        ];
        for (name, v) in cases {
            g.output(name, v).unwrap();
        }
        let (chunked, count) = chunk_oversized(&g, ChunkLimits::axis(16)).unwrap();
        assert_eq!(count, cases.len());
        let feeds = feeds(&g);
        let want = evaluate(&g, &feeds).unwrap();
        let got = evaluate(&chunked, &feeds).unwrap();
        for (name, _) in cases {
            let (w, c) = (want[name].data(), got[name].data());
            assert_eq!(w.len(), c.len());
            for (p, q) in w.iter().zip(c) {
                assert!((p - q).abs() < 1e-12, "{name}: {p} vs {q}");
            }
        }
        for n in chunked.nodes() {
            if matches!(n.op, Op::MatMul { .. } | Op::Linear) {
                for v in n.inputs.iter().chain([&n.output]) {
                    let dims = chunked.shape(*v).unwrap().dims().to_vec();
                    assert!(dims.iter().all(|&d| d <= 16), "{}: {dims:?}", n.op);
                }
            }
        }
    }

    #[test]
    fn contractions_within_the_cap_are_copied() {
        let mut g = Graph::new();
        let x = g.input("x", &[3, 8], DType::F32).unwrap();
        let w = g.param("w", &[4, 8]).unwrap();
        let y = g.linear(x, w, None).unwrap();
        g.output("y", y).unwrap();
        let (same, count) = chunk_oversized(&g, ChunkLimits::axis(16)).unwrap();
        assert_eq!(count, 0);
        assert_eq!(same, g);
    }
}
