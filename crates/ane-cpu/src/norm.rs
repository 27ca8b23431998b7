//! Normalizations: `layer_norm` over arbitrary axes (incl. the channel axis of the ANE's
//! `[1, C, 1, S]` layout, handled without a permute), `batch_norm` in inference form, and
//! `instance_norm`.
//!
//! Statistics are computed in f64 with two passes (mean, then the **biased** variance
//! `Σ (x − mean)² / n`); `epsilon` goes inside the square root; `(x − mean) · inv_std` is formed
//! in f64 and rounded to f32, then scaled by `gamma` and shifted by `beta` in f32.
//! `batch_norm` computes `(x − mean_c) · scale_c + beta_c` with
//! `scale_c = gamma_c / sqrt(variance_c + epsilon)` folded in f64.
//!
//! The kernels ([`normalize_blocks_f32`], [`BatchNormPlan`]) write into caller-owned buffers
//! without allocating (the simulator's entry points); the tensor functions wrap them.

use crate::error::CpuError;
use crate::layout::{inverse_permutation, permute};
use crate::reduce::Blocks;
use crate::shape::{normalize_axes, reduction_view};
use crate::tensor::{Tensor, TensorRef};
use crate::threads::ELEMENTWISE_CHUNK;
use rayon::prelude::*;

/// How normalized values are scaled and shifted (absent parameters mean 1 and 0).
#[derive(Debug, Clone, Copy)]
pub enum NormAffine<'a> {
    /// `gamma`/`beta` indexed by the position along the normalized dim `r` (`layer_norm`).
    PerPosition {
        /// Scale per position (`r` elements).
        gamma: Option<&'a [f32]>,
        /// Shift per position (`r` elements).
        beta: Option<&'a [f32]>,
    },
    /// `gamma`/`beta` indexed by channel `outer_index % channels` (`instance_norm`).
    PerChannel {
        /// Scale per channel.
        gamma: Option<&'a [f32]>,
        /// Shift per channel.
        beta: Option<&'a [f32]>,
        /// Number of channels.
        channels: usize,
    },
}

impl NormAffine<'_> {
    fn check(&self, op: &'static str, r: usize) -> Result<(), CpuError> {
        let (gamma, beta, len, what) = match *self {
            NormAffine::PerPosition { gamma, beta } => (gamma, beta, r, "normalized positions"),
            NormAffine::PerChannel {
                gamma,
                beta,
                channels,
            } => (gamma, beta, channels, "channels"),
        };
        for (name, param) in [("gamma", gamma), ("beta", beta)] {
            if let Some(p) = param.filter(|p| p.len() != len) {
                return Err(CpuError::invalid(
                    op,
                    format!("{name} has {} elements, expected {len} ({what})", p.len()),
                ));
            }
        }
        Ok(())
    }
}

/// Normalizes every column of each `[r, inner]` block of `x [outer, r, inner]` over its `r`
/// entries into `out`; `cols` is scratch of at least `2 · inner` f64s.
pub fn normalize_blocks_f32(
    b: Blocks,
    x: &[f32],
    out: &mut [f32],
    cols: &mut [f64],
    epsilon: f32,
    affine: &NormAffine<'_>,
) -> Result<(), CpuError> {
    normalize_from(0, b, x, out, cols, epsilon, affine)
}

/// [`normalize_blocks_f32`] for blocks starting at outer index `first` (per-channel affine
/// parameters are indexed by the global outer index).
fn normalize_from(
    first: usize,
    b: Blocks,
    x: &[f32],
    out: &mut [f32],
    cols: &mut [f64],
    epsilon: f32,
    affine: &NormAffine<'_>,
) -> Result<(), CpuError> {
    const OP: &str = "normalize";
    if x.len() != b.len() || out.len() != b.len() || cols.len() < 2 * b.inner {
        return Err(CpuError::invalid(
            OP,
            format!(
                "{b:?} needs {} input and output elements and {} scratch, got {}, {} and {}",
                b.len(),
                2 * b.inner,
                x.len(),
                out.len(),
                cols.len()
            ),
        ));
    }
    affine.check(OP, b.r)?;
    let (mean, inv_std) = cols.split_at_mut(b.inner);
    let inv_std = &mut inv_std[..b.inner];
    for o in 0..b.outer {
        let block = o * b.r * b.inner;
        mean.fill(0.0);
        for i in 0..b.r {
            for (j, m) in mean.iter_mut().enumerate() {
                *m += f64::from(x[block + i * b.inner + j]);
            }
        }
        mean.iter_mut().for_each(|m| *m /= b.r as f64);
        inv_std.fill(0.0);
        for i in 0..b.r {
            for j in 0..b.inner {
                let d = f64::from(x[block + i * b.inner + j]) - mean[j];
                inv_std[j] += d * d;
            }
        }
        for v in inv_std.iter_mut() {
            *v = 1.0 / (*v / b.r as f64 + f64::from(epsilon)).sqrt();
        }
        let (g_outer, b_outer) = match *affine {
            NormAffine::PerChannel {
                gamma,
                beta,
                channels,
            } => {
                let c = (first + o) % channels.max(1);
                (gamma.map(|g| g[c]), beta.map(|b| b[c]))
            }
            NormAffine::PerPosition { .. } => (None, None),
        };
        for i in 0..b.r {
            let (g, sh) = match *affine {
                NormAffine::PerPosition { gamma, beta } => {
                    (gamma.map_or(1.0, |g| g[i]), beta.map_or(0.0, |b| b[i]))
                }
                NormAffine::PerChannel { .. } => (g_outer.unwrap_or(1.0), b_outer.unwrap_or(0.0)),
            };
            for j in 0..b.inner {
                let at = block + i * b.inner + j;
                let normalized = ((f64::from(x[at]) - mean[j]) * inv_std[j]) as f32;
                out[at] = normalized * g + sh;
            }
        }
    }
    Ok(())
}

/// Runs the normalization over groups of outer indices, in parallel when there is enough work
/// (groups are whole multiples of `align` outer indices, so per-channel parameters line up).
fn normalize_tensor(
    b: Blocks,
    x: &[f32],
    epsilon: f32,
    affine: &NormAffine<'_>,
    align: usize,
) -> Result<Vec<f32>, CpuError> {
    let mut out = vec![0f32; b.len()];
    let block = b.r * b.inner;
    if block == 0 {
        return Ok(out);
    }
    let align = align.max(1);
    let per_task = (ELEMENTWISE_CHUNK / block).max(1).div_ceil(align) * align;
    let run = |first: usize, chunk: &mut [f32]| {
        let part = Blocks {
            outer: chunk.len() / block,
            ..b
        };
        let mut cols = vec![0f64; 2 * b.inner];
        let xs = &x[first * block..][..chunk.len()];
        normalize_from(first, part, xs, chunk, &mut cols, epsilon, affine)
    };
    if b.outer > per_task {
        out.par_chunks_mut(per_task * block)
            .enumerate()
            .try_for_each(|(c, chunk)| run(c * per_task, chunk))?;
    } else {
        run(0, &mut out)?;
    }
    Ok(out)
}

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
    let affine = NormAffine::PerPosition { gamma, beta };
    affine.check(OP, norm_len)?;
    if let Some((outer, r, inner)) = reduction_view(x.shape(), &axes) {
        // The normalized positions flatten to the `r` dim in increasing axis order (size-1
        // dims change nothing), which is exactly gamma's layout.
        let b = Blocks { outer, r, inner };
        return Ok(Tensor {
            data: normalize_tensor(b, x.data(), epsilon, &affine, 1)?,
            shape: x.shape().to_vec(),
        });
    }
    // Non-contiguous axes: move them last (increasing order, matching gamma), normalize, move
    // back.
    let kept: Vec<usize> = (0..x.rank()).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<usize> = kept.iter().chain(&axes).copied().collect();
    let moved = permute(x, &perm)?;
    let b = Blocks {
        outer: x.len() / norm_len.max(1),
        r: norm_len,
        inner: 1,
    };
    let normalized = normalize_tensor(b, &moved.data, epsilon, &affine, 1)?;
    permute(
        TensorRef::new(&normalized, &moved.shape)?,
        &inverse_permutation(&perm),
    )
}

/// Per-channel statistics and affine parameters of `batch_norm` (each of length `C`).
#[derive(Debug, Clone, Copy)]
pub struct BatchNormParams<'a> {
    /// Running mean per channel.
    pub mean: &'a [f32],
    /// Running variance per channel.
    pub variance: &'a [f32],
    /// Scale per channel (1 when absent).
    pub gamma: Option<&'a [f32]>,
    /// Shift per channel (0 when absent).
    pub beta: Option<&'a [f32]>,
    /// Added to the variance inside the square root.
    pub epsilon: f32,
}

/// `batch_norm` with its per-channel factors folded once: `y = (x − mean_c) · scale_c + shift_c`.
#[derive(Debug, Clone)]
pub struct BatchNormPlan {
    mean: Vec<f32>,
    scale: Vec<f32>,
    shift: Vec<f32>,
}

impl BatchNormPlan {
    /// Folds `gamma_c / sqrt(variance_c + epsilon)` in f64 for `channels` channels.
    pub fn new(channels: usize, p: &BatchNormParams<'_>) -> Result<Self, CpuError> {
        for (name, len) in [
            ("mean", Some(p.mean.len())),
            ("variance", Some(p.variance.len())),
            ("gamma", p.gamma.map(<[f32]>::len)),
            ("beta", p.beta.map(<[f32]>::len)),
        ] {
            if let Some(len) = len.filter(|&l| l != channels) {
                return Err(CpuError::invalid(
                    "batch_norm",
                    format!("{name} has {len} elements, expected C = {channels}"),
                ));
            }
        }
        let scale = (0..channels)
            .map(|c| {
                let g = p.gamma.map_or(1.0, |g| f64::from(g[c]));
                (g / (f64::from(p.variance[c]) + f64::from(p.epsilon)).sqrt()) as f32
            })
            .collect();
        let shift = (0..channels)
            .map(|c| p.beta.map_or(0.0, |b| b[c]))
            .collect();
        Ok(BatchNormPlan {
            mean: p.mean.to_vec(),
            scale,
            shift,
        })
    }

    /// Applies it to `x [N, C, *D]` (flattened; `plane` = ΠD) into `out`, in parallel when
    /// `parallel` and the tensor is large.
    pub fn run_f32(
        &self,
        x: &[f32],
        plane: usize,
        out: &mut [f32],
        parallel: bool,
    ) -> Result<(), CpuError> {
        let channels = self.mean.len();
        if x.len() != out.len() || (plane > 0 && x.len() % plane != 0) {
            return Err(CpuError::invalid(
                "batch_norm",
                format!(
                    "input has {} and output {} elements, planes of {plane}",
                    x.len(),
                    out.len()
                ),
            ));
        }
        if plane == 0 || channels == 0 {
            return Ok(());
        }
        let apply = |(p, (dst, src)): (usize, (&mut [f32], &[f32]))| {
            let c = p % channels;
            let (m, s, b) = (self.mean[c], self.scale[c], self.shift[c]);
            for (d, &v) in dst.iter_mut().zip(src) {
                *d = (v - m) * s + b;
            }
        };
        if parallel && out.len() >= crate::threads::PARALLEL_MIN_ELEMENTS {
            out.par_chunks_mut(plane)
                .zip(x.par_chunks(plane))
                .enumerate()
                .for_each(apply);
        } else {
            out.chunks_mut(plane)
                .zip(x.chunks(plane))
                .enumerate()
                .for_each(apply);
        }
        Ok(())
    }
}

/// MIL `batch_norm` (inference form) on `x [N, C, *D]`:
/// `gamma_c · (x − mean_c) / sqrt(variance_c + epsilon) + beta_c`.
pub fn batch_norm_f32(
    x: TensorRef<'_, f32>,
    p: &BatchNormParams<'_>,
) -> Result<Tensor<f32>, CpuError> {
    let channels = channel_count("batch_norm", x.shape())?;
    let plan = BatchNormPlan::new(channels, p)?;
    let plane: usize = x.shape()[2..].iter().product();
    let mut out = vec![0f32; x.len()];
    plan.run_f32(x.data(), plane, &mut out, true)?;
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
    let affine = NormAffine::PerChannel {
        gamma,
        beta,
        channels,
    };
    affine.check(OP, 0)?;
    let b = Blocks {
        outer: x.shape()[..2].iter().product(),
        r: x.shape()[2..].iter().product(),
        inner: 1,
    };
    Ok(Tensor {
        data: normalize_tensor(b, x.data(), epsilon, &affine, channels)?,
        shape: x.shape().to_vec(),
    })
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

    #[test]
    fn parallel_tensor_paths_match_the_sequential_kernel() {
        // Enough planes for several parallel tasks; 3 channels do not divide the task size.
        let shape = [700, 3, 4, 8];
        let x = random_vec(shape.iter().product(), 9);
        let (gamma, beta) = ([1.5f32, -1.0, 0.5], [0.0f32, 1.0, -2.0]);
        let got = instance_norm_f32(
            TensorRef::new(&x, &shape).unwrap(),
            Some(&gamma),
            Some(&beta),
            1e-5,
        )
        .unwrap();
        let b = Blocks {
            outer: 2100,
            r: 32,
            inner: 1,
        };
        let affine = NormAffine::PerChannel {
            gamma: Some(&gamma),
            beta: Some(&beta),
            channels: 3,
        };
        let mut expected = vec![0f32; x.len()];
        let mut cols = [0f64; 2];
        normalize_blocks_f32(b, &x, &mut expected, &mut cols, 1e-5, &affine).unwrap();
        assert_eq!(got.data, expected);
        assert!(normalize_blocks_f32(b, &x, &mut expected, &mut cols[..1], 1e-5, &affine).is_err());
        let short = NormAffine::PerChannel {
            gamma: Some(&gamma[..2]),
            beta: None,
            channels: 3,
        };
        assert!(normalize_blocks_f32(b, &x, &mut expected, &mut cols, 1e-5, &short).is_err());
    }
}
