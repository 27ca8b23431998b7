//! The kernel ABI: packed kernels compute exactly what multi-input kernels compute (fp32, bit for
//! bit), packing round-trips through identity kernels on the simulator for many shape
//! combinations (sizes not divisible by the channel count included), the documented layout holds
//! byte for byte without a simulator, and malformed calls are errors.

mod common;
mod lowering;

use ane_compiler::abi::{check_packing, AbiError, HostValue, InputPlacement};
use ane_compiler::lower::{lower_kernel, Abi, KernelSpec, LowerOptions, LoweringLimits, Precision};
use ane_compiler::{DType, Graph};
use ane_mil::Dialect;
use common::TestRng;
use half::f16;
use lowering::run::{host_inputs, run_once, Host};
use lowering::{case_feeds, cases, whole_spec};
use proptest::prelude::*;

#[test]
fn packed_and_multi_input_kernels_agree_exactly_in_fp32() {
    let mut compared = 0;
    for case in cases::all().into_iter().filter(|c| !c.host_only) {
        let graph = case.graph();
        let feeds = case_feeds(&case, &graph, 11);
        let spec = whole_spec(&graph);
        let inputs = host_inputs(&graph, &feeds, &spec.inputs);
        let run = |abi| {
            let opts = LowerOptions {
                abi,
                ..LowerOptions::host()
            };
            run_once(&lower_kernel(&spec, &opts).unwrap(), &inputs)
        };
        let (packed, multi) = (run(Abi::Packed), run(Abi::MultiInput));
        assert_eq!(packed, multi, "{}", case.name);
        compared += 1;
    }
    assert!(compared > 60);
}

/// A kernel with no nodes whose outputs are its inputs (in `order`).
fn identity_graph(shapes: &[Vec<usize>]) -> Graph {
    let mut g = Graph::new();
    for (i, s) in shapes.iter().enumerate() {
        let v = g.input(&format!("t{i}"), s, DType::F32).unwrap();
        g.output(&format!("o{i}"), v).unwrap();
    }
    g
}

/// The ANE's limits with the per-axis cap `cap`; below 1,024 the row-width rules (64 to 16,384
/// values) cannot hold together with the cap, so small caps test the axis-cap padding alone.
fn limits_for_cap(cap: usize) -> LoweringLimits {
    let mut limits = LoweringLimits::ane();
    limits.max_axis_size = Some(cap);
    if cap < 1024 {
        limits.io_row_alignment_bytes = 1;
        limits.min_io_width = 1;
        limits.max_io_width = None;
    }
    limits
}

fn round_trip(shapes: &[Vec<usize>], order: &[usize], precision: Precision, cap: usize, seed: u64) {
    let g = identity_graph(shapes);
    let values: Vec<_> = g.inputs().iter().map(|i| i.value).collect();
    let spec = KernelSpec {
        graph: &g,
        nodes: vec![],
        inputs: values.clone(),
        outputs: order.iter().map(|&i| values[i]).collect(),
    };
    let mut opts = LowerOptions {
        precision,
        ..LowerOptions::ane(Dialect::Ios18)
    };
    opts.limits = limits_for_cap(cap);
    let kernel = lower_kernel(&spec, &opts).unwrap();
    let mut rng = TestRng::new(seed);
    let inputs: Vec<Host> = shapes
        .iter()
        .map(|s| {
            let n: usize = s.iter().product();
            Host::F32((0..n).map(|_| rng.uniform(-100.0, 100.0) as f32).collect())
        })
        .collect();
    let outputs = run_once(&kernel, &inputs);
    for (out, &i) in outputs.iter().zip(order) {
        let Host::F32(want) = &inputs[i] else {
            unreachable!()
        };
        let want: Vec<f32> = match precision {
            Precision::Fp32 => want.clone(),
            Precision::Fp16 => want.iter().map(|&v| f16::from_f32(v).to_f32()).collect(),
        };
        assert_eq!(out, &want, "shapes {shapes:?}, output of input {i}");
    }
}

#[test]
fn packing_round_trips_through_identity_kernels() {
    let combos: Vec<Vec<Vec<usize>>> = vec![
        vec![vec![784, 256], vec![256], vec![32, 784]],
        vec![vec![10], vec![7], vec![3, 5]],
        vec![vec![1], vec![]],
        vec![vec![13, 17], vec![64, 64]],
        vec![vec![2, 3, 4, 5]],
        vec![vec![1000], vec![999], vec![97]],
    ];
    for (k, shapes) in combos.iter().enumerate() {
        let order: Vec<usize> = (0..shapes.len()).rev().collect();
        for precision in [Precision::Fp16, Precision::Fp32] {
            round_trip(shapes, &order, precision, 16384, k as u64);
        }
    }
    // A small cap forces padded slabs and the row detour for nearly every tensor.
    round_trip(
        &[vec![40, 25], vec![37, 27], vec![7, 13]],
        &[0, 1, 2],
        Precision::Fp32,
        64,
        9,
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn packing_round_trips_for_random_shapes(
        shapes in prop::collection::vec(prop::collection::vec(1usize..40, 0..4), 1..5),
        cap in prop::sample::select(vec![64usize, 256, 16384]),
        seed in 0u64..1000,
    ) {
        let order: Vec<usize> = (0..shapes.len()).collect();
        let sizes: Vec<usize> = shapes.iter().map(|s| s.iter().product()).collect();
        let limits = limits_for_cap(cap).packing(Precision::Fp16);
        prop_assume!(check_packing(&sizes, &sizes, &limits).is_ok());
        round_trip(&shapes, &order, Precision::Fp16, cap, seed);
    }
}

/// The packed input layout as documented: element `e` of input `j` at channel `e / w_j`,
/// column `offset_j + e % w_j`; everything else in its slab zero.
#[test]
fn packed_layout_is_as_documented() {
    let shapes = [vec![5, 7], vec![3], vec![64, 33]];
    let g = identity_graph(&shapes);
    let kernel = lower_kernel(&whole_spec(&g), &LowerOptions::ane(Dialect::Ios18)).unwrap();
    let abi = &kernel.abi;
    let data: Vec<Vec<f32>> = shapes
        .iter()
        .enumerate()
        .map(|(j, s)| {
            let n: usize = s.iter().product();
            (0..n).map(|e| (j * 1000 + e) as f32 * 0.5 + 1.0).collect()
        })
        .collect();
    let mut bytes = vec![0xAAu8; abi.input_buffer_bytes(0).unwrap()];
    abi.pack_input(0, &|p| HostValue::F32(&data[p]), &mut bytes)
        .unwrap();
    let read = |i: usize| f16::from_le_bytes([bytes[2 * i], bytes[2 * i + 1]]).to_f32();
    let mut covered = vec![false; bytes.len() / 2];
    for (j, slot) in abi.inputs().iter().enumerate() {
        let InputPlacement::Columns {
            first_column,
            columns,
            channels,
            row_stride,
        } = slot.placement
        else {
            panic!("packed inputs are column slabs");
        };
        for c in 0..channels {
            for s in 0..columns {
                let at = c * row_stride + first_column + s;
                covered[at] = true;
                let e = c * columns + s;
                let want = data[j].get(e).copied().unwrap_or(0.0);
                assert_eq!(
                    read(at),
                    f16::from_f32(want).to_f32(),
                    "input {j}, element {e}"
                );
            }
        }
    }
    // Slabs start on 64-byte boundaries; the columns between them are never read.
    let layout = abi.packed_layout().expect("a packed kernel has a layout");
    assert!(layout.input.width % 32 == 0 && layout.input.width >= 64);
    assert!(layout.output.width % 32 == 0 && layout.output.width >= 64);
    for slab in &layout.input.slabs {
        assert_eq!(slab.offset % 32, 0, "{slab:?}");
    }
    let used: usize = layout.input.slabs.iter().map(|s| s.extent).sum();
    assert_eq!(
        covered.iter().filter(|&&c| c).count(),
        used * layout.input.channels
    );

    // Outputs: contiguous ranges; unpacking reads exactly them.
    let out_bytes_len = abi.output_buffer_bytes(0).unwrap();
    let mut out = vec![0u8; out_bytes_len];
    for (j, slot) in abi.outputs().iter().enumerate() {
        for (e, v) in data[j].iter().enumerate() {
            let at = 2 * (slot.offset + e);
            out[at..at + 2].copy_from_slice(&f16::from_f32(*v).to_le_bytes());
        }
    }
    for (j, slot) in abi.outputs().iter().enumerate() {
        let mut got = vec![0f32; slot.elements()];
        abi.unpack_output_into(j, &out, &mut got).unwrap();
        let want: Vec<f32> = data[j].iter().map(|&v| f16::from_f32(v).to_f32()).collect();
        assert_eq!(got, want);
        assert_eq!(
            abi.output_bytes(j, &out).unwrap().len(),
            2 * slot.elements()
        );
    }
    let mut seen = Vec::new();
    abi.unpack_output(0, &out, &mut |p, v| seen.push((p, v.len())))
        .unwrap();
    assert_eq!(seen, vec![(0, 35), (1, 3), (2, 64 * 33)]);
}

#[test]
fn fp16_host_values_are_copied_and_fp32_buffers_widen_them() {
    let g = identity_graph(&[vec![3, 3]]);
    let values: Vec<f16> = (0..9).map(|i| f16::from_f32(i as f32 * 0.1)).collect();
    for precision in [Precision::Fp16, Precision::Fp32] {
        for abi_kind in [Abi::Packed, Abi::MultiInput] {
            let opts = LowerOptions {
                precision,
                dialect: Dialect::Ios18,
                abi: abi_kind,
                limits: LoweringLimits::ane(),
            };
            let kernel = lower_kernel(&whole_spec(&g), &opts).unwrap();
            let abi = &kernel.abi;
            let mut bytes = vec![0u8; abi.input_buffer_bytes(0).unwrap()];
            abi.pack_input(0, &|_| HostValue::F16(&values), &mut bytes)
                .unwrap();
            let mut from_f32 = vec![0u8; bytes.len()];
            let widened: Vec<f32> = values.iter().map(|v| v.to_f32()).collect();
            abi.pack_input(0, &|_| HostValue::F32(&widened), &mut from_f32)
                .unwrap();
            assert_eq!(bytes, from_f32, "{precision:?} {abi_kind:?}");
        }
    }
}

#[test]
fn malformed_pack_and_unpack_calls_are_errors() {
    let mut g = Graph::new();
    let x = g.input("x", &[4], DType::F32).unwrap();
    let ids = g.input_ids("ids", &[2]).unwrap();
    g.output("x", x).unwrap();
    let host = lower_kernel(&whole_spec(&g), &LowerOptions::host()).unwrap();
    let abi = &host.abi;
    let four = [1.0f32; 4];
    let two = [1i32; 2];
    let mut buf = vec![0u8; 16];
    assert!(matches!(
        abi.pack_input(0, &|_| HostValue::F32(&four), &mut buf[..8]),
        Err(AbiError::BufferSize { .. })
    ));
    assert!(matches!(
        abi.pack_input(0, &|_| HostValue::F32(&four[..3]), &mut buf),
        Err(AbiError::Length { .. })
    ));
    assert!(matches!(
        abi.pack_input(0, &|_| HostValue::I32(&[0; 4]), &mut buf),
        Err(AbiError::DType { .. })
    ));
    let mut ids_buf = vec![0u8; 8];
    abi.pack_input(1, &|_| HostValue::I32(&two), &mut ids_buf)
        .unwrap();
    assert!(matches!(
        abi.pack_input(2, &|_| HostValue::I32(&two), &mut ids_buf),
        Err(AbiError::NoSuchBuffer { .. })
    ));
    let mut out = [0f32; 3];
    assert!(matches!(
        abi.unpack_output_into(0, &buf, &mut out),
        Err(AbiError::Length { .. })
    ));
    assert!(matches!(
        abi.unpack_output_into(1, &buf, &mut out),
        Err(AbiError::NoSuchPosition { .. })
    ));
    let msg = abi
        .unpack_output_into(0, &buf[..4], &mut [0f32; 4])
        .unwrap_err();
    assert!(msg.to_string().contains("16 bytes"), "{msg}");
    let _ = ids;
}
