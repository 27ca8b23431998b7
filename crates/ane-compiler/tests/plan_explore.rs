mod plan_support;
use ane_compiler::place::DwPlacement;
use ane_compiler::plan::{plan_training_step, PlanOptions};
use ane_mil::chip::ChipFamily;

#[test]
fn explore() {
    for (name, g) in [
        ("mlp", plan_support::models::mlp()),
        ("cnn", plan_support::models::cnn()),
        (
            "llama2",
            plan_support::models::llama(plan_support::models::LlamaShape::tiny(2)),
        ),
    ] {
        for dw in [DwPlacement::Ane, DwPlacement::Host] {
            let t = std::time::Instant::now();
            let plan = plan_training_step(&g, &PlanOptions::new(ChipFamily::M4).with_dw(dw));
            match plan {
                Ok(p) => println!(
                    "== {name} {dw:?} ({:?})\n{}\n{}",
                    t.elapsed(),
                    p.table(),
                    p.dispatch_table()
                ),
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
    println!(
        "graph built in {:?}: {} nodes",
        t.elapsed(),
        g.nodes().len()
    );
    for family in [ChipFamily::M4, ChipFamily::M1] {
        for dw in [DwPlacement::Ane, DwPlacement::Host] {
            let t = std::time::Instant::now();
            match plan_training_step(&g, &PlanOptions::new(family).with_dw(dw)) {
                Ok(p) => println!(
                    "== stories {family} {dw:?} ({:?})\n{}\n{}",
                    t.elapsed(),
                    p.table(),
                    p.dispatch_table()
                ),
                Err(e) => println!("== stories {family} {dw:?}: ERROR {e}"),
            }
        }
    }
}

#[test]
fn run_mlp() {
    use plan_support::runner::*;
    let g = plan_support::models::mlp();
    let feeds = model_feeds(&g, 1, 0.1, 10);
    let host = host_feeds(&g, &feeds);
    let p = plan_training_step(
        &g,
        &PlanOptions::new(ChipFamily::M4).with_precision(ane_compiler::lower::Precision::Fp32),
    )
    .unwrap();
    let out = run_plan(&p, &host);
    let whole = run_unpartitioned(&g, &host);
    let r = reference(&g, &feeds);
    for (name, v) in &out {
        let w = &whole[name];
        let maxdiff = v
            .iter()
            .zip(w)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        let maxref = v
            .iter()
            .zip(&r[name])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        println!(
            "{name}: {} elems, max |plan-whole| {maxdiff:e}, max |plan-f64| {maxref:e}",
            v.len()
        );
    }
}

#[test]
fn fp16_llama_similarity() {
    use plan_support::runner::*;
    let g = plan_support::models::llama(plan_support::models::LlamaShape::tiny(2));
    for scale in [0.1, 0.2, 0.3] {
        let feeds = model_feeds(&g, 11, scale, 100);
        let host = host_feeds(&g, &feeds);
        let want = reference(&g, &feeds);
        let p = plan_training_step(&g, &PlanOptions::new(ChipFamily::M1)).unwrap();
        let got = run_plan(&p, &host);
        for (name, v) in &got {
            let w = &want[name];
            let dot: f64 = v.iter().zip(w).map(|(&x, &y)| x as f64 * y as f64).sum();
            let na: f64 = v.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
            let nb: f64 = w.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
            let maxw = w.iter().fold(0f32, |m, x| m.max(x.abs()));
            println!(
                "scale {scale} {name}: cos {:.5} max|ref| {maxw:e}",
                dot / (na * nb)
            );
        }
    }
}
