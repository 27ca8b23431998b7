//! Packing host tensors into a packed kernel input and unpacking outputs, for a Stories15M-sized
//! transformer layer kernel: activations `[256, 288]` plus four `[288, 288]` weights into one
//! fp16 `[1, C, 1, S]` buffer (f32 sources, and fp16 sources copied directly); the plain slice
//! conversion of the same element count is the reference rate (machine.md: ~3 Gelem/s per core).

use ane_compiler::abi::HostValue;
use ane_compiler::lower::{lower_kernel, KernelSpec, LowerOptions};
use ane_compiler::{DType, Graph};
use ane_mil::Dialect;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use half::f16;
use half::slice::HalfFloatSliceExt;
use std::hint::black_box;

const SEQ: usize = 256;
const DIM: usize = 288;

fn layer_kernel() -> (Graph, ane_compiler::lower::LoweredKernel) {
    let mut g = Graph::new();
    let x = g.input("x", &[SEQ, DIM], DType::F32).unwrap();
    let mut y = x;
    for name in ["wq", "wk", "wv", "wo"] {
        let w = g.param(name, &[DIM, DIM]).unwrap();
        y = g.linear(y, w, None).unwrap();
    }
    g.output("y", y).unwrap();
    let spec = KernelSpec {
        graph: &g,
        nodes: (0..g.nodes().len()).collect(),
        inputs: g.inputs().iter().map(|i| i.value).collect(),
        outputs: vec![y],
    };
    let kernel = lower_kernel(&spec, &LowerOptions::ane(Dialect::Ios18)).unwrap();
    (g, kernel)
}

fn bench_pack(c: &mut Criterion) {
    let (_g, kernel) = layer_kernel();
    let abi = &kernel.abi;
    let sizes: Vec<usize> = abi.inputs().iter().map(|s| s.elements()).collect();
    let total: usize = sizes.iter().sum();
    let f32_data: Vec<Vec<f32>> = sizes
        .iter()
        .map(|&n| (0..n).map(|i| (i % 1000) as f32 * 1e-3).collect())
        .collect();
    let f16_data: Vec<Vec<f16>> = f32_data
        .iter()
        .map(|v| v.iter().map(|&x| f16::from_f32(x)).collect())
        .collect();
    let mut buffer = vec![0u8; abi.input_buffer_bytes(0).unwrap()];
    let mut group = c.benchmark_group("pack_input");
    group.throughput(Throughput::Elements(total as u64));
    group.bench_function("f32 sources", |b| {
        b.iter(|| {
            abi.pack_input(0, &|p| HostValue::F32(&f32_data[p]), &mut buffer)
                .unwrap();
            black_box(&buffer);
        })
    });
    group.bench_function("f16 sources", |b| {
        b.iter(|| {
            abi.pack_input(0, &|p| HostValue::F16(&f16_data[p]), &mut buffer)
                .unwrap();
            black_box(&buffer);
        })
    });
    let flat: Vec<f32> = f32_data.concat();
    let mut halves = vec![f16::ZERO; total];
    group.bench_function("reference: one slice conversion", |b| {
        b.iter(|| {
            halves.convert_from_f32_slice(&flat);
            black_box(&halves);
        })
    });
    group.finish();

    let out_bytes = vec![0u8; abi.output_buffer_bytes(0).unwrap()];
    let mut out = vec![0f32; abi.outputs()[0].elements()];
    let mut group = c.benchmark_group("unpack_output");
    group.throughput(Throughput::Elements(out.len() as u64));
    group.bench_function("fp16 to f32", |b| {
        b.iter(|| {
            abi.unpack_output_into(0, &out_bytes, &mut out).unwrap();
            black_box(&out);
        })
    });
    group.finish();
}

fn bench_lower(c: &mut Criterion) {
    c.bench_function("lower_kernel: 4 linears", |b| {
        b.iter(|| black_box(layer_kernel()))
    });
}

criterion_group!(benches, bench_pack, bench_lower);
criterion_main!(benches);
