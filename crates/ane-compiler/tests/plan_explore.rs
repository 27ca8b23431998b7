mod plan_support;
use ane_compiler::plan::{plan_training_step, PlanOptions};
use ane_compiler::place::DwPlacement;
use ane_mil::chip::ChipFamily;

#[test]
fn explore() {
    for (name, g) in [("mlp", plan_support::models::mlp()), ("cnn", plan_support::models::cnn()), ("llama2", plan_support::models::llama(plan_support::models::LlamaShape::tiny(2)))] {
        for dw in [DwPlacement::Ane, DwPlacement::Host] {
            let t = std::time::Instant::now();
            let plan = plan_training_step(&g, &PlanOptions::new(ChipFamily::M4).with_dw(dw));
            match plan {
                Ok(p) => println!("== {name} {dw:?} ({:?})\n{}\n{}", t.elapsed(), p.table(), p.dispatch_table()),
                Err(e) => println!("== {name} {dw:?}: ERROR {e}"),
            }
        }
    }
}

#[test]
fn diff_layers() {
    let g = plan_support::models::llama(plan_support::models::LlamaShape::tiny(2));
    let p = plan_training_step(&g, &PlanOptions::new(ChipFamily::M4)).unwrap();
    let dir = std::path::Path::new("/tmp/plan_dump");
    let _ = std::fs::remove_dir_all(dir);
    p.dump(dir).unwrap();
}

#[test]
fn stories() {
    let t = std::time::Instant::now();
    let g = plan_support::models::llama(plan_support::models::LlamaShape::stories110m());
    println!("graph built in {:?}: {} nodes", t.elapsed(), g.nodes().len());
    for family in [ChipFamily::M4, ChipFamily::M1] {
        for dw in [DwPlacement::Ane, DwPlacement::Host] {
            let t = std::time::Instant::now();
            match plan_training_step(&g, &PlanOptions::new(family).with_dw(dw)) {
                Ok(p) => println!("== stories {family} {dw:?} ({:?})\n{}\n{}", t.elapsed(), p.table(), p.dispatch_table()),
                Err(e) => println!("== stories {family} {dw:?}: ERROR {e}"),
            }
        }
    }
}
