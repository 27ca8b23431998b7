//! (a) 1024×1024×1024 matmul: ane-cpu's f16 and f32 matmuls against the `gemm` crate's own f16
//! and f32 calls on the same data. Throughput is reported in FLOP/s (criterion's "elem/s";
//! FLOPs = 2·m·n·k).

use ane_cpu::gemm::{matmul_f16, matmul_f32, Transposes};
use ane_cpu::TensorRef;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use half::f16;
use std::hint::black_box;

const N: usize = 1024;

fn data(seed: u32) -> Vec<f32> {
    (0..N * N)
        .map(|i| {
            ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32
                / (1 << 24) as f32
                - 0.5
        })
        .collect()
}

/// `gemm`'s f16 kernel called directly on row-major square matrices, using every thread.
fn gemm_direct<T: 'static + Copy>(out: &mut [T], a: &[T], b: &[T], one: T) {
    // SAFETY: all three slices hold N·N elements and are row-major N×N; `out` is a unique borrow
    // that aliases neither input.
    unsafe {
        gemm::gemm(
            N,
            N,
            N,
            out.as_mut_ptr(),
            1,
            N as isize,
            false,
            a.as_ptr(),
            1,
            N as isize,
            b.as_ptr(),
            1,
            N as isize,
            one,
            one,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(rayon::current_num_threads()),
        )
    }
}

fn bench(c: &mut Criterion) {
    let a32 = data(1);
    let b32 = data(2);
    let a16: Vec<f16> = a32.iter().map(|&x| f16::from_f32(x)).collect();
    let b16: Vec<f16> = b32.iter().map(|&x| f16::from_f32(x)).collect();
    let shape = [N, N];
    let mut group = c.benchmark_group("matmul_1024");
    group.throughput(Throughput::Elements((2 * N * N * N) as u64));
    group.sample_size(10);

    group.bench_function("gemm_crate_f16_direct", |bench| {
        let mut out = vec![f16::ZERO; N * N];
        bench.iter(|| gemm_direct(black_box(&mut out), &a16, &b16, f16::ONE))
    });
    group.bench_function("ane_cpu_matmul_f16", |bench| {
        let a = TensorRef::new(&a16, &shape).unwrap();
        let b = TensorRef::new(&b16, &shape).unwrap();
        bench.iter(|| black_box(matmul_f16(a, b, Transposes::default()).unwrap()))
    });
    group.bench_function("ane_cpu_matmul_f16_transposed_b", |bench| {
        let a = TensorRef::new(&a16, &shape).unwrap();
        let b = TensorRef::new(&b16, &shape).unwrap();
        let t = Transposes { a: false, b: true };
        bench.iter(|| black_box(matmul_f16(a, b, t).unwrap()))
    });
    group.bench_function("gemm_crate_f32_direct", |bench| {
        let mut out = vec![0f32; N * N];
        bench.iter(|| gemm_direct(black_box(&mut out), &a32, &b32, 1.0f32))
    });
    group.bench_function("ane_cpu_matmul_f32", |bench| {
        let a = TensorRef::new(&a32, &shape).unwrap();
        let b = TensorRef::new(&b32, &shape).unwrap();
        bench.iter(|| black_box(matmul_f32(a, b, Transposes::default()).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
