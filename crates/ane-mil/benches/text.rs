//! Speed of the MIL text printer and parser: a typical small kernel (ane-facts.md §1.7) and a
//! kernel carrying a 256×256 fp16 inline constant (the size of a causal attention mask).

use ane_mil::{parse, print, DType, TensorData, TensorType, TensorValue};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use half::f16;
use std::hint::black_box;

fn kernel_text() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ane_facts_example.mil"
    ))
    .expect("example kernel")
}

fn mask_text() -> String {
    let n = 256;
    let data: Vec<f16> = (0..n * n)
        .map(|i| {
            if i % n > i / n {
                f16::from_f32(-65504.0)
            } else {
                f16::ZERO
            }
        })
        .collect();
    let mask = TensorValue {
        ty: TensorType::new(DType::Fp16, [1, 1, n, n]),
        data: TensorData::Fp16(data),
    };
    let mut p = parse(&kernel_text()).expect("example parses");
    let main = &mut p.functions[0];
    let mut op = main.body[0].clone();
    op.outputs[0].name = "mask".into();
    op.outputs[0].ty = mask.ty.clone().into();
    op.attributes
        .insert("name".into(), TensorValue::string("mask").into());
    op.attributes.insert("val".into(), mask.into());
    main.body.insert(0, op);
    print(&p)
}

fn bench_text(c: &mut Criterion) {
    for (label, text) in [("kernel", kernel_text()), ("mask_256x256", mask_text())] {
        let program = parse(&text).expect("bench input parses");
        let mut group = c.benchmark_group(format!("text/{label}"));
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function("parse", |b| b.iter(|| parse(black_box(&text)).unwrap()));
        group.bench_function("print", |b| b.iter(|| print(black_box(&program))));
        group.finish();
    }
}

criterion_group!(benches, bench_text);
criterion_main!(benches);
