//! `ane-trainer mil run`, run as a user would: a program with a BLOBFILE weight in a temp dir,
//! inputs and outputs as .npy files, and every kind of bad input.

use ane_mil::blob::BlobWriter;
use ane_trainer::npy::{read_npy_file, write_npy, write_npy_file, NpyArray, NpyData};
use half::f16;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ane-trainer"))
}

const PROGRAM: &str = r#"program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 4, 1, 3]> x, tensor<int32, [2]> idx) {
        tensor<fp16, [2, 4, 1, 1]> w = const()[name = string("w"), val = tensor<fp16, [2, 4, 1, 1]>(BLOBFILE(path = string("@model_path/weights/w.bin"), offset = uint64(64)))];
        tensor<fp16, [1, 2, 1, 3]> y = conv(x = x, weight = w)[name = string("y")];
        tensor<int32, [2]> k = add(x = idx, y = idx)[name = string("k")];
    } -> (y, k);
}
"#;

const W: [f32; 8] = [1.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5];

/// A temp dir with `prog.mil` and `weights/w.bin`.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("prog.mil"), PROGRAM).unwrap();
    std::fs::create_dir(dir.path().join("weights")).unwrap();
    let mut blob = BlobWriter::new();
    let halves: Vec<f16> = W.iter().map(|&v| f16::from_f32(v)).collect();
    blob.append_fp16(&halves).unwrap();
    std::fs::write(dir.path().join("weights/w.bin"), blob.finish()).unwrap();
    dir
}

fn npy(dir: &Path, name: &str, array: NpyArray) -> PathBuf {
    let path = dir.join(name);
    write_npy_file(&path, &array).unwrap();
    path
}

fn x_array() -> NpyArray {
    let values: Vec<f16> = (0..12).map(|i| f16::from_f32(i as f32)).collect();
    NpyArray {
        shape: vec![1, 4, 1, 3],
        data: NpyData::F16(values),
    }
}

fn run(args: &[&str], dir: &Path, extra: &[String]) -> Output {
    bin()
        .args(["mil", "run"])
        .arg(dir.join("prog.mil"))
        .args(args)
        .args(extra)
        .output()
        .unwrap()
}

fn inputs(dir: &Path) -> Vec<String> {
    let x = npy(dir, "x.npy", x_array());
    let i = npy(
        dir,
        "i.npy",
        NpyArray {
            shape: vec![2],
            data: NpyData::I64(vec![3, -4]),
        },
    );
    vec![
        format!("--input=x={}", x.display()),
        format!("--input=idx={}", i.display()),
    ]
}

#[test]
fn runs_a_program_with_blob_weights_and_writes_npy_outputs() {
    let dir = setup();
    let out = dir.path().join("out");
    let o = run(
        &["--output", out.to_str().unwrap()],
        dir.path(),
        &inputs(dir.path()),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let y = read_npy_file(&out.join("y.npy")).unwrap();
    assert_eq!(y.shape, vec![1, 2, 1, 3]);
    // Channel 0 copies x channel 0; channel 1 averages the four channels: (s + s+3 + s+6 + s+9)/2.
    let expected: Vec<f16> = [0.0, 1.0, 2.0, 9.0, 11.0, 13.0]
        .iter()
        .map(|&v| f16::from_f32(v))
        .collect();
    assert_eq!(y.data, NpyData::F16(expected));
    let k = read_npy_file(&out.join("k.npy")).unwrap();
    assert_eq!(k.data, NpyData::I32(vec![6, -8]));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("y.npy") && stdout.contains("<f2"),
        "{stdout}"
    );
}

#[test]
fn model_path_points_blobfile_paths_elsewhere() {
    let dir = setup();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join("prog.mil"),
        elsewhere.path().join("prog.mil"),
    )
    .unwrap();
    let out = elsewhere.path().join("out");
    // Without --model-path the weights are looked for next to the program: missing.
    let o = run(
        &["--output", out.to_str().unwrap()],
        elsewhere.path(),
        &inputs(dir.path()),
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot read weight file") && err.contains("@model_path/weights/w.bin"),
        "{err}"
    );
    let model = dir.path().to_str().unwrap();
    let o = run(
        &["--model-path", model, "--output", out.to_str().unwrap()],
        elsewhere.path(),
        &inputs(dir.path()),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("y.npy").exists());
}

fn failure(dir: &Path, extra: &[String]) -> String {
    let out = dir.join("out");
    let o = run(&["--output", out.to_str().unwrap()], dir, extra);
    assert!(!o.status.success(), "expected failure for {extra:?}");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn bad_inputs_are_errors_naming_the_input() {
    let dir = setup();
    let d = dir.path();
    let good = inputs(d);
    let x_ok = good[0].clone();
    let idx_ok = good[1].clone();

    let err = failure(d, std::slice::from_ref(&x_ok));
    assert!(err.contains("missing input(s): idx"), "{err}");

    let extra = npy(d, "z.npy", x_array());
    let err = failure(
        d,
        &[
            x_ok.clone(),
            idx_ok.clone(),
            format!("--input=z={}", extra.display()),
        ],
    );
    assert!(
        err.contains("unknown input(s): z") && err.contains("x, idx"),
        "{err}"
    );

    let err = failure(d, &[x_ok.clone(), x_ok.clone(), idx_ok.clone()]);
    assert!(err.contains("`x` is given twice"), "{err}");

    let err = failure(d, &["--input=x".to_string(), idx_ok.clone()]);
    assert!(err.contains("expected NAME=FILE.npy"), "{err}");

    let wrong_shape = npy(
        d,
        "ws.npy",
        NpyArray {
            shape: vec![4, 3],
            data: NpyData::F16(vec![f16::ZERO; 12]),
        },
    );
    let err = failure(
        d,
        &[
            format!("--input=x={}", wrong_shape.display()),
            idx_ok.clone(),
        ],
    );
    assert!(
        err.contains("input `x`")
            && err.contains("[4, 3]")
            && err.contains("tensor<fp16, [1, 4, 1, 3]>"),
        "{err}"
    );

    let wrong_dtype = npy(
        d,
        "wd.npy",
        NpyArray {
            shape: vec![1, 4, 1, 3],
            data: NpyData::F32(vec![0.0; 12]),
        },
    );
    let err = failure(
        d,
        &[
            format!("--input=x={}", wrong_dtype.display()),
            idx_ok.clone(),
        ],
    );
    assert!(
        err.contains("input `x`") && err.contains("<f4 cannot be used as fp16"),
        "{err}"
    );

    let out_of_range = npy(
        d,
        "big.npy",
        NpyArray {
            shape: vec![2],
            data: NpyData::I64(vec![1 << 40, 0]),
        },
    );
    let err = failure(
        d,
        &[
            x_ok.clone(),
            format!("--input=idx={}", out_of_range.display()),
        ],
    );
    assert!(
        err.contains("input `idx`") && err.contains("does not fit int32"),
        "{err}"
    );

    let garbage = d.join("garbage.npy");
    std::fs::write(&garbage, b"definitely not numpy").unwrap();
    let err = failure(
        d,
        &[format!("--input=x={}", garbage.display()), idx_ok.clone()],
    );
    assert!(
        err.contains("input `x`") && err.contains("not a .npy file"),
        "{err}"
    );

    let mut fortran = write_npy(&x_array());
    let (from, to) = (b"'fortran_order': False", b"'fortran_order': True ");
    let at = fortran.windows(from.len()).position(|w| w == from).unwrap();
    fortran[at..at + to.len()].copy_from_slice(to);
    let fortran_path = d.join("fortran.npy");
    std::fs::write(&fortran_path, &fortran).unwrap();
    let err = failure(
        d,
        &[
            format!("--input=x={}", fortran_path.display()),
            idx_ok.clone(),
        ],
    );
    assert!(err.contains("Fortran-ordered"), "{err}");

    let err = failure(
        d,
        &[
            format!("--input=x={}", d.join("absent.npy").display()),
            idx_ok,
        ],
    );
    assert!(err.contains("absent.npy"), "{err}");
}

#[test]
fn float64_inputs_are_refused_and_ane_fp32_rounds_fp32_programs() {
    let dir = tempfile::tempdir().unwrap();
    let prog = r#"program(1.3)
{
    func main<ios18>(tensor<fp32, [2]> x) {
        tensor<fp32, [2]> y = mul(x = x, y = x)[name = string("y")];
    } -> (y);
}
"#;
    std::fs::write(dir.path().join("prog.mil"), prog).unwrap();
    // f64 data is not narrowed silently: the error says how to convert it.
    let wide = npy(
        dir.path(),
        "wide.npy",
        NpyArray {
            shape: vec![2],
            data: NpyData::F64(vec![1.0 + 1.0 / 4096.0, 3.0]),
        },
    );
    let refused = run(
        &["--output", dir.path().join("refused").to_str().unwrap()],
        dir.path(),
        &[format!("--input=x={}", wide.display())],
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("<f8") && stderr.contains("astype"),
        "{stderr}"
    );
    let x = npy(
        dir.path(),
        "x.npy",
        NpyArray {
            shape: vec![2],
            data: NpyData::F32(vec![1.0 + 1.0 / 4096.0, 3.0]),
        },
    );
    let input = format!("--input=x={}", x.display());
    let out = dir.path().join("exact");
    let o = run(
        &["--output", out.to_str().unwrap()],
        dir.path(),
        std::slice::from_ref(&input),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = 1.0f32 + 1.0 / 4096.0;
    assert_eq!(
        read_npy_file(&out.join("y.npy")).unwrap().data,
        NpyData::F32(vec![v * v, 9.0])
    );
    let out = dir.path().join("ane");
    let o = run(
        &["--ane-fp32", "--output", out.to_str().unwrap()],
        dir.path(),
        &[input],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // 1 + 2⁻¹² is not an fp16 value: the input rounds to 1.
    assert_eq!(
        read_npy_file(&out.join("y.npy")).unwrap().data,
        NpyData::F32(vec![1.0, 9.0])
    );
}

#[test]
fn runtime_errors_and_invalid_programs_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let prog = r#"program(1.3)
{
    func main<ios18>(tensor<fp16, [3, 2]> x, tensor<int32, [1]> i) {
        tensor<fp16, [1, 2]> y = gather(x = x, indices = i)[name = string("y")];
    } -> (y);
}
"#;
    std::fs::write(dir.path().join("prog.mil"), prog).unwrap();
    let x = npy(
        dir.path(),
        "x.npy",
        NpyArray {
            shape: vec![3, 2],
            data: NpyData::F16(vec![f16::ONE; 6]),
        },
    );
    let i = npy(
        dir.path(),
        "i.npy",
        NpyArray {
            shape: vec![1],
            data: NpyData::I32(vec![5]),
        },
    );
    let err = failure(
        dir.path(),
        &[
            format!("--input=x={}", x.display()),
            format!("--input=i={}", i.display()),
        ],
    );
    assert!(
        err.contains("\"y\" (gather)") && err.contains("index 5 is out of range"),
        "{err}"
    );
    std::fs::write(
        dir.path().join("prog.mil"),
        prog.replace("indices = i", "indices = nope"),
    )
    .unwrap();
    let err = failure(dir.path(), &[]);
    assert!(
        err.contains("does not validate") && err.contains("nope"),
        "{err}"
    );
}
