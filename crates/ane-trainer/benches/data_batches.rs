//! Throughput of the data pipeline's hot paths: filling a training batch (shuffled gather +
//! fused normalization) and decoding the embedded MNIST sample.

use std::hint::black_box;

use ane_trainer::data::{mnist_sample, Batch, LastBatch, Normalize, PixelMap, ShuffledBatches};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn batch_fill(c: &mut Criterion) {
    let dataset = mnist_sample().expect("embedded sample");
    let split = dataset.train();
    let map = PixelMap::new(Normalize::Standard, dataset.stats());
    let mut group = c.benchmark_group("batch_fill");
    for batch_size in [32usize, 256] {
        let mut stream =
            ShuffledBatches::new(split, batch_size, LastBatch::Drop, 1, map.clone()).unwrap();
        let mut batch = Batch::<i32>::for_split(batch_size, split);
        group.throughput(Throughput::Bytes(
            (batch_size * split.pixels_per_image() * 4) as u64,
        ));
        group.bench_function(format!("mnist_standard_b{batch_size}"), |b| {
            b.iter(|| {
                stream.next_into(&mut batch).unwrap();
                black_box(batch.images()[0]);
            })
        });
    }
    group.finish();
}

fn decode_sample(c: &mut Criterion) {
    c.bench_function("decode_embedded_mnist_sample", |b| {
        b.iter(|| black_box(mnist_sample().unwrap().train().len()))
    });
}

criterion_group!(benches, batch_fill, decode_sample);
criterion_main!(benches);
