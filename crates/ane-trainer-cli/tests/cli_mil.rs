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
        .args(["mil", "check", "--skip-weights"])
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
fn check_reports_missing_weight_files_by_default() {
    let out = bin()
        .args(["mil", "check"])
        .arg(example("ane_facts_example.mil"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read weight file") && err.contains("fc.bin"),
        "{err}"
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

/// A program with one fp16 BLOBFILE weight, written with its weight file under `dir`.
fn write_blob_program(dir: &std::path::Path) -> std::path::PathBuf {
    use ane_mil::blob::BlobWriter;
    let mut w = BlobWriter::new();
    let values: Vec<half::f16> = (0..8).map(|i| half::f16::from_f32(i as f32)).collect();
    let offset = w.append_fp16(&values).unwrap();
    std::fs::create_dir_all(dir.join("weights")).unwrap();
    std::fs::write(dir.join("weights/w.bin"), w.finish()).unwrap();
    let text = format!(
        "program(1.3)\n{{\n    func main<ios18>(tensor<fp16, [2, 4]> x) {{\n        \
         tensor<fp16, [2, 4]> w = const()[name = string(\"w\"), val = tensor<fp16, [2, 4]>(BLOBFILE(path = string(\"@model_path/weights/w.bin\"), offset = uint64({offset})))];\n        \
         tensor<fp16, [2, 4]> y = add(x = x, y = w)[name = string(\"y\")];\n    }} -> (y);\n}}\n"
    );
    let prog = dir.join("prog.mil");
    std::fs::write(&prog, text).unwrap();
    prog
}

#[test]
fn check_reads_and_verifies_weight_files() {
    let dir = tempfile::tempdir().unwrap();
    let prog = write_blob_program(dir.path());
    let ok = bin().args(["mil", "check"]).arg(&prog).output().unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // A truncated weight file is reported against the op that references it.
    let wfile = dir.path().join("weights/w.bin");
    let bytes = std::fs::read(&wfile).unwrap();
    std::fs::write(&wfile, &bytes[..bytes.len() - 4]).unwrap();
    let bad = bin().args(["mil", "check"]).arg(&prog).output().unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("prog.mil:4:9:") && err.contains("BLOBFILE"),
        "{err}"
    );

    // A missing weight file names the path it looked for.
    std::fs::remove_file(&wfile).unwrap();
    let missing = bin().args(["mil", "check"]).arg(&prog).output().unwrap();
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("cannot read weight file") && err.contains("w.bin"),
        "{err}"
    );

    // --model-path points @model_path elsewhere.
    let other = tempfile::tempdir().unwrap();
    write_blob_program(other.path());
    let moved = bin()
        .args(["mil", "check", "--model-path"])
        .arg(other.path())
        .arg(&prog)
        .output()
        .unwrap();
    assert!(
        moved.status.success(),
        "{}",
        String::from_utf8_lossy(&moved.stderr)
    );
}
