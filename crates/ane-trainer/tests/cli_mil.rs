//! `ane-trainer mil check` and `mil fmt`, run as a user would.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ane-trainer"))
}

fn example(name: &str) -> String {
    format!(
        "{}/../ane-mil/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn check_accepts_valid_files() {
    let out = bin()
        .args(["mil", "check"])
        .arg(example("ane_facts_example.mil"))
        .arg(example("verbose_ios16_rmsnorm.mil"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).matches(": ok").count(),
        2
    );
}

#[test]
fn check_reports_file_line_col_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example("ane_facts_example.mil")).unwrap();
    let bad_ref = dir.path().join("undefined.mil");
    std::fs::write(&bad_ref, text.replace("x = hid)", "x = nope)")).unwrap();
    let truncated = dir.path().join("truncated.mil");
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    let out = bin()
        .args(["mil", "check"])
        .arg(&bad_ref)
        .arg(&truncated)
        .arg(dir.path().join("missing.mil"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:11:9:", bad_ref.display())) && err.contains("nope"),
        "{err}"
    );
    assert!(err.contains(&format!("{}:", truncated.display())), "{err}");
    assert!(
        err.contains(&format!(
            "{}:9:67: unterminated string",
            truncated.display()
        )),
        "{err}"
    );
    assert!(err.contains("missing.mil: cannot read"), "{err}");
    assert!(err.contains("3 of 3 file(s) have errors"), "{err}");
}

#[test]
fn fmt_converts_between_dialects() {
    let out = bin()
        .args(["mil", "fmt", "--dialect", "ios16"])
        .arg(example("ane_facts_example.mil"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("program(1.0)\n"));
    assert!(text.contains("func main<ios16>"));
    assert!(text.contains("tensor<int32, []>(1)"));
    // Back to ios18 gives the canonical original.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.mil");
    std::fs::write(&p, &text).unwrap();
    let back = bin()
        .args(["mil", "fmt", "--dialect", "ios18"])
        .arg(&p)
        .output()
        .unwrap();
    let original = std::fs::read_to_string(example("ane_facts_example.mil")).unwrap();
    assert_eq!(String::from_utf8(back.stdout).unwrap(), original);
}
