//! `ane-trainer inspect` prints the plan table and dumps MIL that `ane-trainer mil check`
//! accepts, for the MLP, the CNN and a small transformer; the Stories110M shape plans quickly
//! without compiling or running anything.

mod cli_common;
use cli_common::*;
use std::path::PathBuf;

fn mil_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path().join("model.mil");
            p.is_file().then_some(p)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn dumped_kernels_pass_mil_check() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: [&[&str]; 4] = [
        &["--model", "mlp"],
        &["--model", "cnn", "--dw", "host", "--chip", "m1"],
        &[
            "--model",
            "llama",
            "--model-flag",
            "dim=64",
            "--model-flag",
            "n_layers=2",
            "--model-flag",
            "n_heads=4",
            "--model-flag",
            "seq_len=32",
            "--model-flag",
            "vocab_size=128",
            "--batch-size",
            "2",
        ],
        &["--model", "mlp", "--eval", "--batch-size", "100"],
    ];
    for (i, case) in cases.iter().enumerate() {
        let dump = d.join(format!("dump{i}"));
        let dump_arg = dump.to_str().unwrap();
        let out = run_in(
            d,
            &[&["inspect"], *case, &["--dump", dump_arg, "--verbose"]].concat(),
        );
        expect_success(&out, &format!("inspect {case:?}"));
        let text = stdout(&out);
        for needle in [
            "plan: chip",
            "kernel",
            "compiles:",
            "per step:",
            "dispatches:",
        ] {
            assert!(text.contains(needle), "{case:?}: no {needle:?} in\n{text}");
        }
        assert!(dump.join("plan.txt").is_file());
        let files = mil_files(&dump);
        assert!(!files.is_empty(), "{case:?}: no kernels dumped");
        let args: Vec<&str> = std::iter::once("mil")
            .chain(std::iter::once("check"))
            .chain(files.iter().map(|f| f.to_str().unwrap()))
            .collect();
        let check = run_in(d, &args);
        expect_success(&check, &format!("mil check of {case:?}"));
        assert_eq!(stdout(&check).matches(": ok").count(), files.len());
    }
}

#[test]
fn stories110m_plans_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = run_in(dir.path(), &["inspect", "--model", "stories110m"]);
    expect_success(&out, "inspect stories110m");
    let text = stdout(&out);
    println!("{text}\n(in {:.1?})", started.elapsed());
    assert!(text.contains("109529856 parameters"), "{text}");
    assert!(text.contains("nothing compiled or run"), "{text}");
    assert!(
        text.contains("layers."),
        "per-layer kernels are named by scope:\n{text}"
    );
}
