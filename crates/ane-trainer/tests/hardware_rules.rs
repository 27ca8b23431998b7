//! Every ANE kernel the compiler plans for the presets obeys the Neural Engine's hardware rules
//! (`ane_mil::chip`): I/O tensors `[1, C, H, W]` with `W × bytes` a multiple of 64 and
//! `64 ≤ W ≤ 16384`, at most 16 MiB of inputs plus outputs, and no rejecting lint finding — for
//! both chip classes and both weight-gradient placements. Stories110M keeps its FLOPs on the ANE
//! with few dispatches per layer and few compiles.

use ane_compiler::place::{DwPlacement, Placement};
use ane_compiler::plan::{plan_training_step, Plan, PlanOptions};
use ane_mil::chip::{lint, ChipFamily};
use ane_trainer::executor::training_step_graph;
use ane_trainer::nn::{Preset, PresetFlags};

fn plan(preset: &str, family: ChipFamily, dw: DwPlacement) -> Plan {
    let preset = Preset::from_name_and_flags(preset, &PresetFlags::default()).unwrap();
    let model = preset.model().unwrap();
    let batch = match preset {
        Preset::Llama { .. } => 1,
        _ => 64,
    };
    let graph = training_step_graph(&model, batch, preset.default_loss()).unwrap();
    let options = PlanOptions::new(family).with_dw(dw);
    plan_training_step(&graph.graph, &options).unwrap()
}

fn check_rules(plan: &Plan, what: &str) {
    let caps = &plan.options.chip;
    for kernel in plan
        .kernels
        .iter()
        .filter(|k| k.placement == Placement::Ane)
    {
        let name = format!("{what} {}", kernel.name);
        let mut io_bytes = 0;
        for (_, t) in kernel
            .abi
            .input_buffers()
            .iter()
            .chain(kernel.abi.output_buffers())
        {
            let dims: Vec<usize> = t.shape.iter().map(|d| d.known().unwrap()).collect();
            assert_eq!(dims.len(), 4, "{name}: {t}");
            assert_eq!(dims[0], 1, "{name}: {t}");
            let bytes = t.dtype.size_in_bytes().unwrap();
            assert_eq!(dims[3] * bytes % 64, 0, "{name}: {t}");
            assert!((64..=16_384).contains(&dims[3]), "{name}: {t}");
            io_bytes += dims.iter().product::<usize>() * bytes;
        }
        assert!(io_bytes <= 16 << 20, "{name}: {io_bytes} bytes of I/O");
        assert_eq!(io_bytes, kernel.bytes_in + kernel.bytes_out, "{name}");
        let broken = lint(&kernel.program, caps);
        assert!(broken.is_empty(), "{name}: {broken:?}");
    }
}

#[test]
fn every_ane_kernel_of_every_preset_obeys_the_hardware_rules() {
    for preset in ["mlp", "cnn", "stories260k", "stories15m", "stories110m"] {
        for family in [ChipFamily::M1, ChipFamily::M4] {
            for dw in [DwPlacement::Ane, DwPlacement::Host] {
                let plan = plan(preset, family, dw);
                check_rules(&plan, &format!("{preset} {family} dw={dw:?}"));
            }
        }
    }
}

#[test]
fn stories110m_stays_on_the_ane_with_few_dispatches_and_compiles() {
    for family in [ChipFamily::M1, ChipFamily::M4] {
        let plan = plan("stories110m", family, DwPlacement::Ane);
        assert!(plan.ane_flop_share() >= 0.95, "{plan}");
        assert!(plan.compiles.ane + plan.compiles.host <= 16, "{plan}");
        // The kernels of the 12 identical layers are each dispatched 12 times.
        let per_layer: usize = plan
            .kernels
            .iter()
            .filter(|k| k.placement == Placement::Ane && k.dispatches_per_step == 12)
            .count();
        assert!(
            (1..=8).contains(&per_layer),
            "{per_layer} per layer\n{plan}"
        );
    }
}
