//! Prints the plan tables of the test models and Stories110M for both chip classes and both
//! weight-gradient placements (the figures of the planning report):
//! `cargo test -p ane-compiler --release --test plan_report -- --ignored --nocapture`.

mod plan_support;

use ane_compiler::place::DwPlacement;
use ane_compiler::plan::{plan_training_step, PlanOptions};
use ane_mil::chip::ChipFamily;
use plan_support::models::{self, LlamaShape};

#[test]
#[ignore = "prints tables; run with --ignored --nocapture"]
fn print_plans() {
    let graphs = [
        ("mlp 784-256-10 b32", models::mlp()),
        ("cnn 1x28x28 b8", models::cnn()),
        ("llama 2 layers", models::llama(LlamaShape::tiny(2))),
        ("stories110m", models::llama(LlamaShape::stories110m())),
    ];
    for (name, graph) in &graphs {
        for family in [ChipFamily::M4, ChipFamily::M1] {
            for dw in [DwPlacement::Ane, DwPlacement::Host] {
                let start = std::time::Instant::now();
                let plan = plan_training_step(graph, &PlanOptions::new(family).with_dw(dw))
                    .expect("plans");
                println!(
                    "=== {name} on {family}, dW on {dw:?}: planned in {:.0} ms\n{plan}",
                    start.elapsed().as_secs_f64() * 1e3
                );
            }
        }
    }
}
