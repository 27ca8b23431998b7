//! Every IR op of the catalog, lowered alone and run on the simulator through the kernel ABI,
//! against the f64 reference evaluator (`eval::evaluate`, the definition of each op).
//!
//! Tolerance per element: `|got − want| ≤ atol + rtol · scale`, `scale` = the largest |want| of
//! the output (outputs of different ops span different magnitudes; errors scale with the
//! largest terms that flow into each element):
//! - fp32 kernels: atol = rtol = 1e-5 (f32 arithmetic over at most a few hundred terms);
//! - fp16 kernels: atol = 2e-3, rtol = 5e-3 (inputs rounded to fp16, every op rounded to fp16:
//!   a few units of 2⁻¹¹ relative after the short op chains of one IR op).

mod common;
mod lowering;

use ane_compiler::eval::evaluate;
use ane_compiler::lower::{lower_kernel, Precision};
use lowering::run::{host_inputs, run_once};
use lowering::{case_feeds, cases, configs, supports, whole_spec};

fn tolerance(precision: Precision) -> (f64, f64) {
    match precision {
        Precision::Fp32 => (1e-5, 1e-5),
        Precision::Fp16 => (2e-3, 5e-3),
    }
}

#[test]
fn every_op_matches_the_reference_evaluator_in_every_configuration() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases::all() {
        let graph = case.graph();
        for seed in [1, 2] {
            let feeds = case_feeds(&case, &graph, seed);
            let want = evaluate(&graph, &feeds).unwrap()["y"].clone();
            let spec = whole_spec(&graph);
            let inputs = host_inputs(&graph, &feeds, &spec.inputs);
            for config in configs() {
                if !supports(&case, &config.opts) {
                    continue;
                }
                let kernel = lower_kernel(&spec, &config.opts).unwrap();
                let got = &run_once(&kernel, &inputs)[0];
                let (atol, rtol) = tolerance(config.opts.precision);
                let scale = want.data().iter().fold(0f64, |m, v| m.max(v.abs()));
                let bound = atol + rtol * scale;
                checked += 1;
                let worst = got
                    .iter()
                    .zip(want.data())
                    .enumerate()
                    .map(|(i, (&g, &w))| (i, (g as f64 - w).abs(), g, w))
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                if let Some((i, err, g, w)) = worst {
                    if err.is_nan() || err > bound {
                        failures.push(format!(
                            "{} ({}, seed {seed}): element {i} = {g}, want {w} (error {err:.3e} > {bound:.3e})",
                            case.name, config.name
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} kernels disagree with the reference:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 400, "only {checked} kernels checked");
}
