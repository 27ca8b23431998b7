//! Normalizations: `layer_norm` over arbitrary axes (incl. the channel axis of the ANE's
//! `[1, C, 1, S]` layout, handled without a permute), `batch_norm` in inference form, and
//! `instance_norm`.
//!
//! Statistics are computed in f64 with two passes (mean, then the **biased** variance
//! `Σ (x − mean)² / n`); `epsilon` goes inside the square root; the normalized value is
//! produced in f32: `(x − mean) · inv_std · gamma + beta`.

use crate::error::CpuError;
use crate::layout::{inverse_permutation, permute};
use crate::shape::{normalize_axes, reduction_view};
use crate::tensor::{Tensor, TensorRef};
use crate::threads::ELEMENTWISE_CHUNK;
use rayon::prelude::*;

/// MIL `layer_norm`: normalize over `axes` (negative allowed, any order, no repeats), then scale
/// by `gamma` and shift by `beta`, both shaped like `x` restricted to `axes` in increasing axis
/// order (so `gamma.len()` is the product of those dims).
pub fn layer_norm_f32(
    x: TensorRef<'_, f32>,
    axes: &[isize],
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
    epsilon: f32,
) -> Result<Tensor<f32>, CpuError> {
    const OP: &str = "layer_norm";
    let axes = normalize_axes(OP, axes, x.rank())?;
    let norm_len: usize = axes.iter().map(|&a| x.shape()[a]).product();
    for (name, param) in [("gamma", gamma), ("beta", beta)] {
        if let Some(p) = param {
            if p.len() != norm_len {
                return Err(CpuError::invalid(
                    OP,
                    format!("{name} has {} elements, expected {norm_len}", p.len()),
                ));
            }
        }
    }
    let affine = Affine { gamma, beta };
    if let Some((outer, r, inner)) = reduction_view(x.shape(), &axes) {
        // The normalized positions flatten to the `r` dim in increasing axis order (size-1
        // dims change nothing), which is exactly gamma's layout.
        let mut out = vec![0f32; x.len()];
        normalize_blocks(x.data(), &mut out, outer, r, inner, epsilon, &affine);
        return Ok(Tensor {
            data: out,
            shape: x.shape().to_vec(),
        });
    }
    // Non-contiguous axes: move them last (increasing order, matching gamma), normalize, move
    // back.
    let kept: Vec<usize> = (0..x.rank()).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<usize> = kept.iter().chain(&axes).copied().collect();
    let moved = permute(x, &perm)?;
    let mut normalized = vec![0f32; x.len()];
    let outer = x.len() / norm_len.max(1);
    normalize_blocks(
        &moved.data,
        &mut normalized,
        outer,
        norm_len,
        1,
        epsilon,
        &affine,
    );
    permute(
        TensorRef::new(&normalized, &moved.shape)?,
        &inverse_permutation(&perm),
    )
}

/// Per-element scale and shift over the normalized positions.
struct Affine<'a> {
    gamma: Option<&'a [f32]>,
    beta: Option<&'a [f32]>,
}

/// Normalizes every column of each `[r, inner]` block over its `r` entries; the affine
/// parameters are indexed by the position along `r`.
fn normalize_blocks(
    data: &[f32],
    out: &mut [f32],
    outer: usize,
    r: usize,
    inner: usize,
    epsilon: f32,
    affine: &Affine<'_>,
) {
    let block = r * inner;
    if block == 0 || outer == 0 {
        return;
    }
    let per_task = (ELEMENTWISE_CHUNK / block).max(1);
    let run = |first: usize, chunk: &mut [f32]| {
        for (i, out_block) in chunk.chunks_mut(block).enumerate() {
            let o = first + i;
            normalize_block(
                &data[o * block..(o + 1) * block],
                out_block,
                r,
                inner,
                epsilon,
                affine,
            );
        }
    };
    if outer > per_task {
        out.par_chunks_mut(per_task * block)
            .enumerate()
            .for_each(|(c, chunk)| run(c * per_task, chunk));
    } else {
        run(0, out);
    }
}

fn normalize_block(
    block: &[f32],
    out: &mut [f32],
    r: usize,
    inner: usize,
    epsilon: f32,
    affine: &Affine<'_>,
) {
    let mut mean = vec![0f64; inner];
    for row in block.chunks(inner) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= r as f64);
    let mut var = vec![0f64; inner];
    for row in block.chunks(inner) {
        for ((s, &v), &m) in var.iter_mut().zip(row).zip(&mean) {
            let d = v as f64 - m;
            *s += d * d;
        }
    }
    let inv_std: Vec<f32> = var
        .iter()
        .map(|&s| (1.0 / (s / r as f64 + epsilon as f64).sqrt()) as f32)
        .collect();
    let mean: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
    for (i, (out_row, row)) in out.chunks_mut(inner).zip(block.chunks(inner)).enumerate() {
        let g = affine.gamma.map_or(1.0, |g| g[i]);
        let b = affine.beta.map_or(0.0, |b| b[i]);
        for (((o, &v), &m), &s) in out_row.iter_mut().zip(row).zip(&mean).zip(&inv_std) {
            *o = (v - m) * s * g + b;
        }
    }
}

/// Per-channel statistics and affine parameters of `batch_norm` (each of length `C`).
#[derive(Debug, Clone, Copy)]
pub struct BatchNormParams<'a> {
    pub mean: &'a [f32],
    pub variance: &'a [f32],
    pub gamma: Option<&'a [f32]>,
    pub beta: Option<&'a [f32]>,
    pub epsilon: f32,
}

/// MIL `batch_norm` (inference form) on `x [N, C, *D]`:
/// `gamma_c · (x − mean_c) / sqrt(variance_c + epsilon) + beta_c`.
pub fn batch_norm_f32(
    x: TensorRef<'_, f32>,
    p: &BatchNormParams<'_>,
) -> Result<Tensor<f32>, CpuError> {
    const OP: &str = "batch_norm";
    let channels = channel_count(OP, x.shape())?;
    for (name, len) in [
        ("mean", Some(p.mean.len())),
        ("variance", Some(p.variance.len())),
        ("gamma", p.gamma.map(<[f32]>::len)),
        ("beta", p.beta.map(<[f32]>::len)),
    ] {
        if let Some(len) = len.filter(|&l| l != channels) {
            return Err(CpuError::invalid(
                OP,
                format!("{name} has {len} elements, expected C = {channels}"),
            ));
        }
    }
    // y = x·scale_c + shift_c with scale and shift folded in f64.
    let (scale, shift): (Vec<f32>, Vec<f32>) = (0..channels)
        .map(|c| {
            let inv = 1.0 / (p.variance[c] as f64 + p.epsilon as f64).sqrt();
            let g = p.gamma.map_or(1.0, |g| g[c] as f64);
            let b = p.beta.map_or(0.0, |b| b[c] as f64);
            let scale = g * inv;
            (scale as f32, (b - p.mean[c] as f64 * scale) as f32)
        })
        .unzip();
    let plane: usize = x.shape()[2..].iter().product();
    let mut out = x.data().to_vec();
    if plane > 0 {
        let apply = |(i, chunk): (usize, &mut [f32])| {
            let c = i % channels;
            chunk.iter_mut().for_each(|v| *v = *v * scale[c] + shift[c]);
        };
        if out.len() >= crate::threads::PARALLEL_MIN_ELEMENTS {
            out.par_chunks_mut(plane).enumerate().for_each(apply);
        } else {
            out.chunks_mut(plane).enumerate().for_each(apply);
        }
    }
    Ok(Tensor {
        data: out,
        shape: x.shape().to_vec(),
    })
}

/// MIL `instance_norm` on `x [N, C, *D]`: each (n, c) plane normalized over its spatial
/// positions, then `gamma_c · … + beta_c`.
pub fn instance_norm_f32(
    x: TensorRef<'_, f32>,
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
    epsilon: f32,
) -> Result<Tensor<f32>, CpuError> {
    const OP: &str = "instance_norm";
    let channels = channel_count(OP, x.shape())?;
    for (name, param) in [("gamma", gamma), ("beta", beta)] {
        if let Some(p) = param.filter(|p| p.len() != channels) {
            return Err(CpuError::invalid(
                OP,
                format!("{name} has {} elements, expected C = {channels}", p.len()),
            ));
        }
    }
    let spatial: Vec<isize> = (2..x.rank() as isize).collect();
    let mut out = layer_norm_f32(x, &spatial, None, None, epsilon)?;
    let plane: usize = x.shape()[2..].iter().product();
    if plane > 0 && (gamma.is_some() || beta.is_some()) {
        for (i, chunk) in out.data.chunks_mut(plane).enumerate() {
            let c = i % channels;
            let g = gamma.map_or(1.0, |g| g[c]);
            let b = beta.map_or(0.0, |b| b[c]);
            chunk.iter_mut().for_each(|v| *v = *v * g + b);
        }
    }
    Ok(out)
}

fn channel_count(op: &'static str, shape: &[usize]) -> Result<usize, CpuError> {
    if shape.len() < 3 {
        return Err(CpuError::invalid(
            op,
            format!("input {shape:?} must be [N, C, *spatial] with at least one spatial dim"),
        ));
    }
    Ok(shape[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests_support::{assert_close, random_vec};

    /// Naive layer norm over sorted `axes` with gamma/beta in increasing-axis order.
    fn reference(
        x: &[f32],
        shape: &[usize],
        axes: &[usize],
        gamma: Option<&[f32]>,
        beta: Option<&[f32]>,
        eps: f64,
    ) -> Vec<f64> {
        let unravel = |mut flat: usize| {
            let mut idx = vec![0; shape.len()];
            for d in (0..shape.len()).rev() {
                idx[d] = flat % shape[d];
                flat /= shape[d];
            }
            idx
        };
        let key = |idx: &[usize]| -> (Vec<usize>, usize) {
            let kept: Vec<usize> = (0..shape.len())
                .filter(|d| !axes.contains(d))
                .map(|d| idx[d])
                .collect();
            let pos = axes.iter().fold(0, |acc, &a| acc * shape[a] + idx[a]);
            (kept, pos)
        };
        let mut groups: std::collections::HashMap<Vec<usize>, Vec<f64>> = Default::default();
        for (flat, &v) in x.iter().enumerate() {
            groups
                .entry(key(&unravel(flat)).0)
                .or_default()
                .push(v as f64);
        }
        (0..x.len())
            .map(|flat| {
                let (k, pos) = key(&unravel(flat));
                let g = &groups[&k];
                let mean = g.iter().sum::<f64>() / g.len() as f64;
                let var = g.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / g.len() as f64;
                let gm = gamma.map_or(1.0, |gm| gm[pos] as f64);
                let bt = beta.map_or(0.0, |bt| bt[pos] as f64);
                (x[flat] as f64 - mean) / (var + eps).sqrt() * gm + bt
            })
            .collect()
    }

    #[test]
    fn layer_norm_matches_reference() {
        let cases: &[(&[usize], &[isize])] = &[
            (&[4, 10], &[-1]),
            (&[2, 3, 4], &[1, 2]),
            (&[1, 16, 1, 9], &[1]),
            (&[2, 3, 4], &[0, 2]),
            (&[2, 5, 3], &[1]),
            (&[7], &[0]),
            (&[2, 1, 3, 1, 2], &[1, 2, 4]),
            (&[3, 2, 2, 2, 3], &[0, 3]),
        ];
        for (shape, axes) in cases {
            let x: Vec<f32> = random_vec(shape.iter().product(), 4)
                .iter()
                .map(|v| v * 3.0 + 0.5)
                .collect();
            let axes_n = normalize_axes("t", axes, shape.len()).unwrap();
            let n: usize = axes_n.iter().map(|&a| shape[a]).product();
            let gamma = random_vec(n, 5);
            let beta = random_vec(n, 6);
            for (g, b) in [
                (None, None),
                (Some(&gamma[..]), Some(&beta[..])),
                (Some(&gamma[..]), None),
            ] {
                let got =
                    layer_norm_f32(TensorRef::new(&x, shape).unwrap(), axes, g, b, 1e-5).unwrap();
                assert_eq!(got.shape, shape.to_vec());
                assert_close(&got.data, &reference(&x, shape, &axes_n, g, b, 1e-5), 2e-5);
            }
        }
        let x = [1f32; 6];
        let t = TensorRef::new(&x, &[2, 3]).unwrap();
        assert!(layer_norm_f32(t, &[1], Some(&[1.0; 2]), None, 1e-5).is_err());
        assert!(layer_norm_f32(t, &[2], None, None, 1e-5).is_err());
        // A constant row normalizes to 0 (epsilon keeps it finite).
        assert_eq!(
            layer_norm_f32(t, &[1], None, None, 1e-5).unwrap().data,
            vec![0.0; 6]
        );
    }

    #[test]
    fn batch_and_instance_norm_match_formulas() {
        let shape = [2, 3, 4, 5];
        let x = random_vec(120, 8);
        let mean = [0.1f32, -0.2, 0.3];
        let variance = [0.5f32, 1.5, 2.0];
        let gamma = [1.5f32, -1.0, 0.5];
        let beta = [0.0f32, 1.0, -2.0];
        let p = BatchNormParams {
            mean: &mean,
            variance: &variance,
            gamma: Some(&gamma),
            beta: Some(&beta),
            epsilon: 1e-3,
        };
        let got = batch_norm_f32(TensorRef::new(&x, &shape).unwrap(), &p).unwrap();
        let expected: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let c = (i / 20) % 3;
                gamma[c] as f64 * (v as f64 - mean[c] as f64) / (variance[c] as f64 + 1e-3).sqrt()
                    + beta[c] as f64
            })
            .collect();
        assert_close(&got.data, &expected, 1e-5);

        let got = instance_norm_f32(
            TensorRef::new(&x, &shape).unwrap(),
            Some(&gamma),
            Some(&beta),
            1e-5,
        )
        .unwrap();
        let plain = reference(&x, &shape, &[2, 3], None, None, 1e-5);
        let expected: Vec<f64> = plain
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let c = (i / 20) % 3;
                v * gamma[c] as f64 + beta[c] as f64
            })
            .collect();
        assert_close(&got.data, &expected, 2e-5);

        let bad = BatchNormParams {
            mean: &mean[..2],
            ..p
        };
        assert!(batch_norm_f32(TensorRef::new(&x, &shape).unwrap(), &bad).is_err());
        assert!(instance_norm_f32(TensorRef::new(&x, &[120]).unwrap(), None, None, 1e-5).is_err());
    }
}
