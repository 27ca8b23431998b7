//! (b) 3×3 convolution, 64 → 64 channels, 32×32, batch 32, `same` padding, f16 storage.
//! FLOPs = 2·N·C_out·H·W·C_in·9. The same run measures the `gemm` crate's f16 GEMM at
//! 1024³ (the reference rate) and, as an experiment, a conv that does im2col in f16 and runs
//! `gemm`'s f16 kernel, to check which f16 strategy `conv_f16` should use.

use ane_cpu::conv::{conv_f16, conv_f32, ConvParams};
use ane_cpu::gemm::{gemm_f16, MatMut, MatRef};
use ane_cpu::TensorRef;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use half::f16;
use rayon::prelude::*;
use std::hint::black_box;

const BATCH: usize = 32;
const C: usize = 64;
const HW: usize = 32;
const K: usize = 3;
const GEMM_N: usize = 1024;

fn data(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32
                / (1 << 24) as f32
                - 0.5
        })
        .collect()
}

/// Experiment: im2col in f16 for a 3×3 stride-1 pad-1 conv, then `gemm`'s f16 kernel, one image
/// per task.
fn conv_via_f16_gemm(x: &[f16], w: &[f16], out: &mut [f16]) {
    let rows = C * K * K;
    let plane = HW * HW;
    out.par_chunks_mut(C * plane)
        .zip(x.par_chunks(C * plane))
        .for_each_init(
            || vec![f16::ZERO; rows * plane],
            |col, (out_img, x_img)| {
                for c in 0..C {
                    for kh in 0..K {
                        for kw in 0..K {
                            let row = &mut col[((c * K + kh) * K + kw) * plane..][..plane];
                            for oh in 0..HW {
                                let ih = oh as isize + kh as isize - 1;
                                let seg = &mut row[oh * HW..(oh + 1) * HW];
                                if ih < 0 || ih >= HW as isize {
                                    seg.fill(f16::ZERO);
                                    continue;
                                }
                                let src = &x_img[c * plane + ih as usize * HW..][..HW];
                                for (ow, dst) in seg.iter_mut().enumerate() {
                                    let iw = ow as isize + kw as isize - 1;
                                    *dst = if iw < 0 || iw >= HW as isize {
                                        f16::ZERO
                                    } else {
                                        src[iw as usize]
                                    };
                                }
                            }
                        }
                    }
                }
                gemm_f16(
                    MatMut::row_major(out_img, C, plane).unwrap(),
                    MatRef::row_major(w, C, rows).unwrap(),
                    MatRef::row_major(col, rows, plane).unwrap(),
                    false,
                    false,
                )
                .unwrap();
            },
        );
}

fn bench(c: &mut Criterion) {
    let x32 = data(BATCH * C * HW * HW, 1);
    let w32 = data(C * C * K * K, 2);
    let x16: Vec<f16> = x32.iter().map(|&v| f16::from_f32(v)).collect();
    let w16: Vec<f16> = w32.iter().map(|&v| f16::from_f32(v)).collect();
    let xs = [BATCH, C, HW, HW];
    let ws = [C, C, K, K];
    let mut params = ConvParams::new(2);
    params.pads = vec![(1, 1), (1, 1)];

    let mut group = c.benchmark_group("conv3x3_64c_32x32_b32");
    group.sample_size(10);
    group.throughput(Throughput::Elements(
        (2 * BATCH * C * HW * HW * C * K * K) as u64,
    ));
    group.bench_function("ane_cpu_conv_f16", |bench| {
        let x = TensorRef::new(&x16, &xs).unwrap();
        let w = TensorRef::new(&w16, &ws).unwrap();
        bench.iter(|| black_box(conv_f16(x, w, None, &params).unwrap()))
    });
    group.bench_function("ane_cpu_conv_f32", |bench| {
        let x = TensorRef::new(&x32, &xs).unwrap();
        let w = TensorRef::new(&w32, &ws).unwrap();
        bench.iter(|| black_box(conv_f32(x, w, None, &params).unwrap()))
    });
    group.bench_function("experiment_im2col_f16_gemm_f16", |bench| {
        let mut out = vec![f16::ZERO; BATCH * C * HW * HW];
        bench.iter(|| conv_via_f16_gemm(&x16, &w16, black_box(&mut out)))
    });
    group.finish();

    let a = data(GEMM_N * GEMM_N, 3);
    let a16: Vec<f16> = a.iter().map(|&v| f16::from_f32(v)).collect();
    let mut group = c.benchmark_group("reference_gemm_f16_1024");
    group.sample_size(10);
    group.throughput(Throughput::Elements((2 * GEMM_N * GEMM_N * GEMM_N) as u64));
    group.bench_function("gemm_crate_f16_direct", |bench| {
        let mut out = vec![f16::ZERO; GEMM_N * GEMM_N];
        bench.iter(|| {
            gemm_f16(
                MatMut::row_major(black_box(&mut out), GEMM_N, GEMM_N).unwrap(),
                MatRef::row_major(&a16, GEMM_N, GEMM_N).unwrap(),
                MatRef::row_major(&a16, GEMM_N, GEMM_N).unwrap(),
                false,
                true,
            )
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
