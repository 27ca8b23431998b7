//! Results must be bit-identical whatever the number of threads (the simulator promises the same
//! losses bit for bit on any machine of this kind).

use ane_cpu::conv::{conv_f16, conv_f32, conv_transpose_f32, ConvParams, ConvTransposeParams};
use ane_cpu::convert::f32_to_f16_vec;
use ane_cpu::elementwise::{binary_f32, unary_f32, BinaryOp, GeluMode, UnaryOp};
use ane_cpu::gemm::{matmul_f16, matmul_f32, Transposes};
use ane_cpu::norm::layer_norm_f32;
use ane_cpu::pool::{avg_pool_f32, PoolParams};
use ane_cpu::reduce::{reduce_f32, softmax_f32, ReduceOp};
use ane_cpu::TensorRef;

fn data(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let h = (i as u32)
                .wrapping_mul(2_654_435_761)
                .wrapping_add(seed.wrapping_mul(97));
            (h >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        })
        .collect()
}

/// Every primitive's output bits, computed in the current thread pool.
fn fingerprint() -> Vec<Vec<u32>> {
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    let mut out = Vec::new();

    let (xs, ws) = ([6, 8, 20, 20], [16, 4, 3, 3]);
    let x = data(xs.iter().product(), 1);
    let w = data(ws.iter().product(), 2);
    let mut p = ConvParams::new(2);
    p.pads = vec![(1, 1); 2];
    p.groups = 2;
    let xt = TensorRef::new(&x, &xs).unwrap();
    let wt = TensorRef::new(&w, &ws).unwrap();
    out.push(bits(&conv_f32(xt, wt, None, &p).unwrap().data));
    let (x16, w16) = (f32_to_f16_vec(&x), f32_to_f16_vec(&w));
    let c16 = conv_f16(
        TensorRef::new(&x16, &xs).unwrap(),
        TensorRef::new(&w16, &ws).unwrap(),
        None,
        &p,
    )
    .unwrap();
    out.push(c16.data.iter().map(|h| u32::from(h.to_bits())).collect());
    let tp = ConvTransposeParams {
        strides: vec![2, 2],
        dilations: vec![1, 1],
        pads_before: vec![1, 1],
        output_size: vec![39, 39],
        groups: 1,
    };
    let wt2 = data(8 * 5 * 3 * 3, 3);
    out.push(bits(
        &conv_transpose_f32(xt, TensorRef::new(&wt2, &[8, 5, 3, 3]).unwrap(), None, &tp)
            .unwrap()
            .data,
    ));

    let a = data(3 * 300 * 200, 4);
    let b = data(200 * 250, 5);
    let at = TensorRef::new(&a, &[3, 300, 200]).unwrap();
    let bt = TensorRef::new(&b, &[200, 250]).unwrap();
    out.push(bits(
        &matmul_f32(at, bt, Transposes::default()).unwrap().data,
    ));
    let bb = data(3 * 250 * 200, 6);
    let bbt = TensorRef::new(&bb, &[3, 250, 200]).unwrap();
    out.push(bits(
        &matmul_f32(at, bbt, Transposes { a: false, b: true })
            .unwrap()
            .data,
    ));
    let (a16, b16) = (f32_to_f16_vec(&a), f32_to_f16_vec(&b));
    let m16 = matmul_f16(
        TensorRef::new(&a16, &[3, 300, 200]).unwrap(),
        TensorRef::new(&b16, &[200, 250]).unwrap(),
        Transposes::default(),
    )
    .unwrap();
    out.push(m16.data.iter().map(|h| u32::from(h.to_bits())).collect());

    let big = data(5 << 16, 7);
    let bigt = TensorRef::new(&big, &[5, 1 << 16]).unwrap();
    out.push(bits(
        &reduce_f32(ReduceOp::Sum, bigt, None, false).unwrap().data,
    ));
    out.push(bits(
        &reduce_f32(ReduceOp::L2Norm, bigt, Some(&[0]), false)
            .unwrap()
            .data,
    ));
    out.push(bits(&softmax_f32(bigt, -1).unwrap().data));
    out.push(bits(
        &layer_norm_f32(bigt, &[0], None, None, 1e-5).unwrap().data,
    ));
    out.push(bits(
        &binary_f32(
            BinaryOp::Mul,
            bigt,
            TensorRef::new(&big[..5], &[5, 1]).unwrap(),
        )
        .unwrap()
        .data,
    ));
    out.push(bits(&unary_f32(UnaryOp::Gelu(GeluMode::Exact), &big)));
    let pp = PoolParams {
        kernel: vec![3, 3],
        strides: vec![2, 2],
        pads: vec![(1, 1); 2],
        ceil_mode: false,
    };
    out.push(bits(&avg_pool_f32(xt, &pp, false).unwrap().data));
    out
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let reference = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(fingerprint);
    for threads in [2, 3, 4] {
        let got = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(fingerprint);
        for (i, (r, g)) in reference.iter().zip(&got).enumerate() {
            assert!(r == g, "result {i} differs with {threads} threads");
        }
    }
}
