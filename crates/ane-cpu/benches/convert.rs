//! (c) f32 → f16 and f16 → f32 slice conversion of 16 Mi elements, and rounding f32 data to
//! fp16 precision in place, against a per-element `f16::from_f32` loop.

use ane_cpu::convert::{f16_to_f32, f32_to_f16, round_to_f16};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use half::f16;
use std::hint::black_box;

const LEN: usize = 1 << 24;

fn bench(c: &mut Criterion) {
    let src: Vec<f32> = (0..LEN).map(|i| (i as f32 * 0.37).sin() * 1000.0).collect();
    let halves: Vec<f16> = src.iter().map(|&x| f16::from_f32(x)).collect();
    let mut group = c.benchmark_group("convert_16Mi");
    group.sample_size(10);
    group.throughput(Throughput::Elements(LEN as u64));
    group.bench_function("f32_to_f16_slices", |bench| {
        let mut dst = vec![f16::ZERO; LEN];
        bench.iter(|| f32_to_f16(&src, black_box(&mut dst)).unwrap())
    });
    group.bench_function("f16_to_f32_slices", |bench| {
        let mut dst = vec![0f32; LEN];
        bench.iter(|| f16_to_f32(&halves, black_box(&mut dst)).unwrap())
    });
    group.bench_function("round_to_f16_in_place", |bench| {
        let mut data = src.clone();
        bench.iter(|| round_to_f16(black_box(&mut data)))
    });
    group.bench_function("per_element_from_f32", |bench| {
        let mut dst = vec![f16::ZERO; LEN];
        bench.iter(|| {
            for (d, &s) in dst.iter_mut().zip(&src) {
                *d = f16::from_f32(s);
            }
            black_box(&mut dst);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
