//! Host-side update throughput: the fused optimizer passes, the gradient norm, the finiteness
//! check and fp16 gradient accumulation, on a 4M-element model (two tensors).

use ane_trainer::optim::{all_finite, global_grad_norm, AdamConfig, OptimizerConfig, SgdConfig};
use ane_trainer::params::ParamStore;
use ane_trainer::rng::Rng;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use half::f16;
use std::hint::black_box;

const ROWS: usize = 2048;
const COLS: usize = 2048;

fn model() -> ParamStore {
    let mut rng = Rng::new(1);
    let n = ROWS * COLS;
    let mut store = ParamStore::from_tensors([
        (
            "0.weight",
            vec![ROWS, COLS - 1],
            (0..ROWS * (COLS - 1))
                .map(|_| rng.normal() * 0.02)
                .collect(),
        ),
        (
            "0.bias",
            vec![ROWS],
            (0..ROWS).map(|_| rng.normal() * 0.02).collect(),
        ),
    ])
    .unwrap();
    assert_eq!(store.num_elements(), n);
    for p in store.params_mut() {
        for g in p.grad_mut() {
            *g = rng.normal() * 1e3;
        }
    }
    store
}

fn optimizers(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimizer_step");
    group.throughput(Throughput::Elements((ROWS * COLS) as u64));
    group.sample_size(20);
    let configs = [
        ("sgd", OptimizerConfig::Sgd(SgdConfig::default())),
        (
            "sgd_momentum",
            OptimizerConfig::Sgd(SgdConfig {
                momentum: 0.9,
                weight_decay: 1e-4,
                ..Default::default()
            }),
        ),
        ("adamw", OptimizerConfig::AdamW(AdamConfig::adamw_default())),
    ];
    for (name, config) in configs {
        let mut store = model();
        let mut opt = config.build().unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                opt.step(black_box(&mut store), 1e-4, 1.0 / 65536.0)
                    .unwrap()
            })
        });
    }
    group.finish();
}

fn gradient_sweeps(c: &mut Criterion) {
    let mut group = c.benchmark_group("gradient_sweeps");
    group.throughput(Throughput::Elements((ROWS * COLS) as u64));
    group.sample_size(20);
    let mut store = model();
    group.bench_function("global_grad_norm", |b| {
        b.iter(|| global_grad_norm(black_box(&store), 1.0))
    });
    let grads: Vec<f32> = store
        .params()
        .iter()
        .flat_map(|p| p.grad().to_vec())
        .collect();
    group.bench_function("all_finite", |b| b.iter(|| all_finite(black_box(&grads))));
    let half_grads: Vec<f16> = store.params()[0]
        .grad()
        .iter()
        .map(|&g| f16::from_f32(g))
        .collect();
    group.throughput(Throughput::Elements(half_grads.len() as u64));
    group.bench_function("accumulate_grad_f16", |b| {
        b.iter(|| {
            store.params_mut()[0]
                .accumulate_grad_f16(black_box(&half_grads))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, optimizers, gradient_sweeps);
criterion_main!(benches);
