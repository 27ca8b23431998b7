//! `ane-trainer doctor`: the platform report, the conformance suite on the simulator (and on the
//! ANE where there is one), JSON output, kernel dumps that `mil check` accepts, and clear errors.

mod cli_common;
use cli_common::*;

#[test]
fn doctor_reports_the_platform_and_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["doctor"]);
    expect_success(&out, "doctor");
    let text = stdout(&out);
    assert!(text.contains("platform: "), "{text}");
    assert!(text.contains("chip: "), "{text}");
    assert!(text.contains("AppleNeuralEngine.framework: "), "{text}");
    let pass_lines = text
        .lines()
        .filter(|l| l.trim_start().starts_with("PASS"))
        .count();
    assert!(pass_lines >= 50, "expected one line per kernel:\n{text}");
    assert!(!text.contains("FAIL "), "{text}");
    if cfg!(not(target_os = "macos")) {
        // Both dialects on the simulator; the ANE part is skipped with the reason.
        assert!(text.contains("MIL dialect ios16") && text.contains("MIL dialect ios18"));
        assert!(
            text.contains("ANE part: skipped") && text.contains("needs macOS on Apple Silicon"),
            "{text}"
        );
        assert!(text.contains("the ANE part was skipped"), "{text}");
    }
    let summary = text
        .lines()
        .find(|l| l.contains(" checks passed"))
        .expect("a summary line");
    assert!(summary.contains(", 0 failed"), "{summary}");
}

#[test]
fn doctor_json_is_one_document_with_every_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["doctor", "--json", "--dialect", "ios18"]);
    expect_success(&out, "doctor --json");
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("stdout is JSON");
    let passes = doc["passes"].as_array().unwrap();
    assert_eq!(passes.len(), 1);
    assert_eq!(passes[0]["dialect"], "ios18");
    let sim = passes[0]["sim"].as_array().unwrap();
    assert!(sim.len() >= 50);
    for r in sim {
        assert_eq!(r["passed"], true, "{r}");
        assert_eq!(r["reference"], "f64");
        let rel = r["error"]["max_rel_error"].as_f64().unwrap();
        assert!(rel < 0.01, "{r}");
    }
    let summary = &doc["summary"];
    assert_eq!(summary["failed"], 0);
    assert_eq!(
        summary["total"].as_u64().unwrap() as usize,
        sim.len() * {
            if doc["ane_skipped"].is_null() {
                3
            } else {
                1
            }
        }
    );
    assert_eq!(doc["platform"]["os"], std::env::consts::OS);
}

#[test]
fn dumped_kernels_are_model_directories_that_mil_check_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("kernels");
    let out = run_in(
        dir.path(),
        &[
            "doctor",
            "--dialect",
            "ios16",
            "--dump",
            dump.to_str().unwrap(),
        ],
    );
    expect_success(&out, "doctor --dump");
    let root = dump.join("ios16");
    let mut programs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("model.mil").is_file())
        .collect();
    programs.sort();
    assert!(programs.len() >= 50, "{} kernels dumped", programs.len());
    for kernel in &programs {
        let description = std::fs::read_to_string(kernel.join("kernel.txt")).unwrap();
        assert!(description.contains("MIL dialect ios16"), "{description}");
        let text = std::fs::read_to_string(kernel.join("model.mil")).unwrap();
        assert!(text.starts_with("program(1.0)"), "{}", kernel.display());
    }
    let files: Vec<String> = programs
        .iter()
        .map(|p| p.join("model.mil").to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["mil", "check"];
    args.extend(files.iter().map(String::as_str));
    let check = run_in(dir.path(), &args);
    expect_success(&check, "mil check of the dumped kernels");
}

#[test]
fn an_unknown_dialect_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["doctor", "--dialect", "ios17"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("--dialect") && err.contains("ios17"), "{err}");
    assert!(
        stdout(&out).is_empty(),
        "nothing runs before the flags are checked"
    );
}
