//! `run` allocates nothing in steady state: every buffer and scratch area is planned when the
//! program is prepared. The one exception lives inside the `gemm` crate, which allocates a
//! packing buffer on each call (`matmul`, `linear`, `conv`, `conv_transpose` and attention go
//! through it); this program exercises every other kind of kernel.

mod common;

use ane_sim::SimOptions;
use common::*;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn steady_state_runs_do_not_allocate() {
    let prog = program(
        "ios18",
        "tensor<fp16, [2, 4, 6, 6]> x, tensor<int32, [3]> idx, tensor<fp16, [16, 12]> a, tensor<fp16, [256, 300]> big",
        r#"tensor<fp16, [2, 4, 6, 6]> r = relu(x = x)
        tensor<fp16, [2, 4, 3, 3]> p = max_pool(x = r, kernel_sizes = tensor<int32, [2]>([2, 2]), strides = tensor<int32, [2]>([2, 2]), pad_type = string("valid"))
        tensor<fp16, [2, 4, 3, 3]> s = softmax(x = p, axis = int32(1))
        tensor<fp16, [2, 4, 3, 3]> n = layer_norm(x = s, axes = tensor<int32, [2]>([1, 3]))
        tensor<fp16, [2, 3, 3, 4]> t = transpose(x = n, perm = tensor<int32, [4]>([0, 2, 3, 1]))
        tensor<fp16, [2, 3, 1, 4]> sl = slice_by_index(x = t, begin = tensor<int32, [4]>([0, 0, 1, 0]), end = tensor<int32, [4]>([2, 3, 2, 4]))
        tensor<fp16, [2, 3, 2, 4]> cc = concat(values = (sl, sl), axis = int32(2))
        tensor<fp16, [2, 3]> rs = reduce_sum(x = cc, axes = tensor<int32, [2]>([2, 3]))
        tensor<fp16, [3, 12]> g = gather(x = a, indices = idx)
        tensor<fp16, [3, 24]> m = tile(x = g, reps = tensor<int32, [2]>([1, 2]))
        tensor<fp16, [3, 24]> cs = cumsum(x = m, axis = int32(1))
        tensor<bool, [3, 24]> pos = greater(x = cs, y = fp16(0.0))
        tensor<fp16, [3, 24]> sel = select(cond = pos, a = cs, b = m)
        tensor<fp16, [3, 26]> pd = pad(x = sel, pad = tensor<int32, [2]>([1, 1]), mode = string("reflect"))
        tensor<int32, [3]> am = reduce_argmax(x = pd, axis = int32(1))
        tensor<fp16, [3, 26]> oh = one_hot(indices = am, one_hot_vector_size = int32(26), on_value = fp16(1.0), off_value = fp16(0.0))
        tensor<int32, [3, 1]> am2 = expand_dims(x = am, axes = tensor<int32, [1]>([1]))
        tensor<fp16, [3, 1]> one = slice_by_size(x = pd, begin = tensor<int32, [2]>([0, 0]), size = tensor<int32, [2]>([3, 1]))
        tensor<fp16, [3, 26]> sc = scatter_along_axis(data = oh, indices = am2, updates = one, axis = int32(1), mode = string("add"))
        string f32 = const()[name = string("f32"), val = string("fp32")]
        tensor<fp32, [3, 26]> out = cast(x = sc, dtype = f32)
        tensor<fp16, [256, 300]> bs = sigmoid(x = big)
        tensor<fp16, [256, 300]> bm = mul(x = bs, y = big)
        tensor<fp16, [256, 1]> br = reduce_max(x = bm, axes = tensor<int32, [1]>([1]), keep_dims = bool(true))
        tensor<fp16, [256, 300]> bd = sub(x = bm, y = br)"#,
        "rs, out, bd",
    );
    for threads in [Some(1), Some(2)] {
        let options = SimOptions {
            threads,
            ..SimOptions::default()
        };
        let mut p = prepare_with(&prog, options).unwrap();
        p.set_input_f32("x", &random(2 * 4 * 36, 1, 1.0)).unwrap();
        p.set_input_i32("idx", &[3, 0, 15]).unwrap();
        p.set_input_f32("a", &random(16 * 12, 3, 1.0)).unwrap();
        // Large enough for the elementwise kernels to split across threads.
        p.set_input_f32("big", &random(256 * 300, 4, 3.0)).unwrap();
        // Warm-up runs start the thread pool and let every worker initialize its lazily created
        // thread-locals (one-time costs, not steady state).
        for _ in 0..20 {
            run(&mut p);
        }
        let region = Region::new(GLOBAL);
        for _ in 0..3 {
            p.run().unwrap();
        }
        let stats = region.change();
        assert_eq!(
            stats.allocations + stats.reallocations,
            0,
            "threads {threads:?}: {stats:?}"
        );
    }
}
