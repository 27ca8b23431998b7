//! Simulator speed, measured against the `gemm` crate's own f16 GEMM in the same run:
//! (a) a 1024×1024×1024 fp16 `matmul` program (target ≥ 60% of `gemm`'s f16 throughput);
//! (b) a chain of 50 small elementwise ops on `[1, 64, 1, 16]` fp16 (target ≤ 5 µs per op);
//! (c) a 3×3 `conv`, 64→64 channels, 32×32, batch 32, fp16 (target ≥ 40% of the f16 GEMM rate).
//! Criterion reports each; a summary of the ratios (best of several timed batches) is printed
//! at the end.

use ane_mil::{parse, WeightFiles};
use ane_sim::{PreparedProgram, SimOptions, Simulator};
use criterion::{Criterion, Throughput};
use half::f16;
use std::hint::black_box;
use std::time::{Duration, Instant};

const N: usize = 1024;

fn data(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32
                / (1 << 24) as f32
                - 0.5
        })
        .collect()
}

/// `gemm`'s f16 kernel called directly on row-major N×N matrices, with every thread.
fn gemm_f16_direct(out: &mut [f16], a: &[f16], b: &[f16]) {
    assert!(out.len() == N * N && a.len() == N * N && b.len() == N * N);
    // SAFETY: all three slices hold N·N elements (checked above) laid out row-major N×N; `out`
    // is a unique borrow that aliases neither input.
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
            f16::ONE,
            f16::ONE,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(rayon::current_num_threads()),
        )
    }
}

fn prepare(text: &str) -> PreparedProgram {
    let program = parse(text).expect("benchmark program parses");
    Simulator::prepare(&program, &WeightFiles::new(), SimOptions::default()).expect("prepares")
}

fn matmul_program() -> PreparedProgram {
    let mut p = prepare(&format!(
        "program(1.3)\n{{\n    func main<ios18>(tensor<fp16, [{N}, {N}]> a, tensor<fp16, [{N}, {N}]> b) {{\n        \
         tensor<fp16, [{N}, {N}]> y = matmul(x = a, y = b)[name = string(\"y\")];\n    }} -> (y);\n}}\n"
    ));
    p.set_input_f32("a", &data(N * N, 1)).unwrap();
    p.set_input_f32("b", &data(N * N, 2)).unwrap();
    p
}

const CHAIN: usize = 50;

fn chain_program() -> PreparedProgram {
    let ty = "tensor<fp16, [1, 64, 1, 16]>";
    let mut body = String::new();
    let mut prev = "x".to_string();
    for i in 0..CHAIN {
        let call = match i % 4 {
            0 => format!("add(x = {prev}, y = b)"),
            1 => format!("mul(x = {prev}, y = b)"),
            2 => format!("relu(x = {prev})"),
            _ => format!("sigmoid(x = {prev})"),
        };
        body.push_str(&format!(
            "        {ty} v{i} = {call}[name = string(\"v{i}\")];\n"
        ));
        prev = format!("v{i}");
    }
    let mut p = prepare(&format!(
        "program(1.3)\n{{\n    func main<ios18>({ty} x, {ty} b) {{\n{body}    }} -> ({prev});\n}}\n"
    ));
    p.set_input_f32("x", &data(1024, 3)).unwrap();
    p.set_input_f32("b", &data(1024, 4)).unwrap();
    p
}

const CONV_FLOPS: f64 = 2.0 * 32.0 * 64.0 * 64.0 * 9.0 * 32.0 * 32.0;

fn conv_program() -> PreparedProgram {
    let mut p = prepare(
        "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [32, 64, 32, 32]> x, tensor<fp16, [64, 64, 3, 3]> w) {\n        \
         tensor<fp16, [32, 64, 32, 32]> y = conv(x = x, weight = w, pad_type = string(\"same\"))[name = string(\"y\")];\n    } -> (y);\n}\n",
    );
    p.set_input_f32("x", &data(32 * 64 * 32 * 32, 5)).unwrap();
    p.set_input_f32("w", &data(64 * 64 * 9, 6)).unwrap();
    p
}

fn halves(n: usize, seed: u32) -> Vec<f16> {
    data(n, seed).iter().map(|&v| f16::from_f32(v)).collect()
}

fn criterion_benches(c: &mut Criterion) {
    let (a, b) = (halves(N * N, 1), halves(N * N, 2));
    let mut group = c.benchmark_group("a_matmul_1024_fp16");
    group.throughput(Throughput::Elements((2 * N * N * N) as u64));
    group.sample_size(10);
    group.bench_function("gemm_crate_f16_direct", |bench| {
        let mut out = vec![f16::ZERO; N * N];
        bench.iter(|| gemm_f16_direct(black_box(&mut out), &a, &b))
    });
    group.bench_function("sim_matmul_program", |bench| {
        let mut p = matmul_program();
        bench.iter(|| p.run().unwrap())
    });
    group.finish();

    let mut group = c.benchmark_group("b_chain_50_elementwise_fp16");
    group.throughput(Throughput::Elements(CHAIN as u64));
    group.bench_function("sim_run", |bench| {
        let mut p = chain_program();
        bench.iter(|| p.run().unwrap())
    });
    group.finish();

    let mut group = c.benchmark_group("c_conv3x3_64_32x32_b32_fp16");
    group.throughput(Throughput::Elements(CONV_FLOPS as u64));
    group.sample_size(10);
    group.bench_function("sim_conv_program", |bench| {
        let mut p = conv_program();
        bench.iter(|| p.run().unwrap())
    });
    group.finish();
}

/// Best average time per call over `batches` batches of `per_batch` calls.
fn best(mut f: impl FnMut(), per_batch: usize, batches: usize) -> Duration {
    f();
    (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            start.elapsed() / per_batch as u32
        })
        .min()
        .unwrap_or_default()
}

fn report_ratios() {
    let (a, b) = (halves(N * N, 1), halves(N * N, 2));
    let mut out = vec![f16::ZERO; N * N];
    let gemm = best(|| gemm_f16_direct(&mut out, &a, &b), 3, 7);
    let mut mm = matmul_program();
    let sim_mm = best(|| mm.run().unwrap(), 3, 7);
    let mut chain = chain_program();
    let sim_chain = best(|| chain.run().unwrap(), 2000, 7);
    let mut conv = conv_program();
    let sim_conv = best(|| conv.run().unwrap(), 2, 5);
    let gflops = |flops: f64, t: Duration| flops / t.as_secs_f64() / 1e9;
    let mm_flops = 2.0 * (N * N * N) as f64;
    let gemm_rate = gflops(mm_flops, gemm);
    println!(
        "\n== ane-sim ratios (threads: {}) ==",
        rayon::current_num_threads()
    );
    println!(
        "gemm crate f16 1024³: {:>8.2?}  {:>6.1} GFLOP/s",
        gemm, gemm_rate
    );
    println!(
        "(a) sim matmul 1024³ fp16: {:>8.2?}  {:>6.1} GFLOP/s  = {:.0}% of gemm f16 (target ≥ 60%)",
        sim_mm,
        gflops(mm_flops, sim_mm),
        100.0 * gflops(mm_flops, sim_mm) / gemm_rate
    );
    println!(
        "(b) sim chain of {CHAIN} elementwise ops on [1,64,1,16] fp16: {:.2?} per run, {:.2} µs per op (target ≤ 5 µs)",
        sim_chain,
        sim_chain.as_secs_f64() * 1e6 / CHAIN as f64
    );
    println!(
        "(c) sim conv 3×3 64→64 32×32 b32 fp16: {:>8.2?}  {:>6.1} GFLOP/s  = {:.0}% of the gemm f16 rate (target ≥ 40%)",
        sim_conv,
        gflops(CONV_FLOPS, sim_conv),
        100.0 * gflops(CONV_FLOPS, sim_conv) / gemm_rate
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        report_ratios();
    }
}
