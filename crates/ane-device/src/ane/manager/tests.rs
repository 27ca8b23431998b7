//! The manager's behaviour, driven through the fake runtime.

use super::fake::{Call, FakeRuntime, Script};
use super::KernelManager;
use crate::ane::budget::{CompileBudget, CompileCounter};
use crate::ane::config::AneConfig;
use crate::ane::dialect_choice::DialectChoice;
use crate::ane::dump::DumpPolicy;
use crate::ane::model_attributes::{
    AttrValue, StrideFinding, LIVE_INPUT_LIST, LIVE_OUTPUT_LIST, NETWORK_STATUS_LIST,
    PLANE_DESCRIPTOR, ROW_STRIDE,
};
use crate::ane::program_key::sha256_hex;
use crate::chip::DialectSource;
use crate::device::{Device, DeviceError, DeviceInfo, KernelId, KernelIo};
use ane_mil::{
    Argument, DType, Dialect, Function, NamedType, Operation, Program, SourcePos, TensorType,
    WeightFiles,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

struct Setup {
    tmp: tempfile::TempDir,
    script: Rc<Script>,
    manager: KernelManager<FakeRuntime>,
}

impl Setup {
    fn temp_root(&self) -> PathBuf {
        self.tmp.path().join("temp")
    }
    fn dumps(&self) -> PathBuf {
        self.tmp.path().join("dumps")
    }
    fn model_dirs(&self) -> Vec<String> {
        match std::fs::read_dir(self.temp_root()) {
            Ok(rd) => rd
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn counter() -> &'static CompileCounter {
    Box::leak(Box::new(CompileCounter::new()))
}

fn config(root: &Path) -> AneConfig {
    AneConfig {
        dump_dir: Some(root.join("dumps")),
        load_retry_delay: Duration::ZERO,
        ..AneConfig::default()
    }
}

/// The dialect a macOS 15+ Mac starts in.
fn by_version(dialect: Dialect) -> Option<DialectChoice> {
    Some(DialectChoice {
        dialect,
        source: DialectSource::MacosVersion,
    })
}

fn manager_in(
    root: &Path,
    script: Rc<Script>,
    config: &AneConfig,
    budget: CompileBudget,
) -> KernelManager<FakeRuntime> {
    manager_in_dialect(root, script, config, budget, by_version(Dialect::Ios18))
}

fn manager_in_dialect(
    root: &Path,
    script: Rc<Script>,
    config: &AneConfig,
    budget: CompileBudget,
    dialect: Option<DialectChoice>,
) -> KernelManager<FakeRuntime> {
    let temp = root.join("temp");
    std::fs::create_dir_all(&temp).unwrap();
    KernelManager::new(
        FakeRuntime::new(&temp, script),
        DeviceInfo {
            name: "ane".into(),
            description: "fake M4 Pro".into(),
        },
        config,
        dialect,
        budget,
    )
}

fn setup_with(budget: usize, adjust: impl FnOnce(&mut AneConfig)) -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let script = Rc::new(Script::default());
    let mut cfg = config(tmp.path());
    adjust(&mut cfg);
    let manager = manager_in(
        tmp.path(),
        script.clone(),
        &cfg,
        CompileBudget::on_counter(budget, counter()),
    );
    Setup {
        tmp,
        script,
        manager,
    }
}

fn setup() -> Setup {
    setup_with(100, |_| {})
}

fn x_type() -> TensorType {
    TensorType::new(DType::Fp16, [1, 4, 1, 8])
}

fn io() -> KernelIo {
    KernelIo {
        inputs: vec![("x".into(), x_type())],
        outputs: vec![("y".into(), x_type())],
    }
}

fn weights(files: &[(&str, &[u8])]) -> WeightFiles {
    let mut w = WeightFiles::new();
    for (p, b) in files {
        w.insert(*p, b.to_vec());
    }
    w
}

/// The identifier the fake gives a program (MIL text only).
fn identifier(mil: &str) -> String {
    sha256_hex(&[mil.as_bytes()])[..20].to_uppercase()
}

fn write(m: &mut KernelManager<FakeRuntime>, k: KernelId, bytes: &[u8]) {
    m.write_input(k, 0, &mut |buf| buf.copy_from_slice(bytes))
        .unwrap();
}

fn read(m: &mut KernelManager<FakeRuntime>, k: KernelId) -> Vec<u8> {
    let mut out = Vec::new();
    m.read_output(k, 0, &mut |buf| out = buf.to_vec()).unwrap();
    out
}

fn pattern(seed: u8) -> Vec<u8> {
    (0..64).map(|i| seed.wrapping_add(i)).collect()
}

#[test]
fn compile_populates_the_model_dir_first_then_runs() {
    let mut s = setup();
    let w = weights(&[("@model_path/weights/w.bin", &[1, 2, 3])]);
    let k = s.manager.compile_mil("prog A", io(), &w).unwrap();
    let id = identifier("prog A");
    assert_eq!(
        *s.script.calls.borrow(),
        [
            Call::CreateModel { weights: 1 },
            Call::Compile(id.clone()),
            Call::Load(id.clone()),
            Call::Attributes(id.clone()),
        ]
    );
    let dir = s.temp_root().join(&id);
    assert_eq!(
        std::fs::read_to_string(dir.join("model.mil")).unwrap(),
        "prog A"
    );
    assert_eq!(std::fs::read(dir.join("weights/w.bin")).unwrap(), [1, 2, 3]);

    write(&mut s.manager, k, &pattern(7));
    s.manager.run(k).unwrap();
    assert_eq!(read(&mut s.manager, k), pattern(7));
    assert_eq!(s.manager.compile_count(), 1);
    assert_eq!(s.manager.process_compiles(), 1);
    assert_eq!(s.manager.io(k).unwrap(), &io());
}

#[test]
fn buffers_expose_exactly_the_tensor_bytes() {
    let mut s = setup();
    let k = s
        .manager
        .compile_mil("prog", io(), &WeightFiles::new())
        .unwrap();
    let mut len = 0;
    s.manager.write_input(k, 0, &mut |b| len = b.len()).unwrap();
    assert_eq!(len, 64, "4×8 fp16 = 64 bytes, though the surface holds 128");
    s.manager.read_output(k, 0, &mut |b| len = b.len()).unwrap();
    assert_eq!(len, 64);
    assert_eq!(
        read(&mut s.manager, k),
        vec![0u8; 64],
        "surfaces start zeroed"
    );
}

#[test]
fn no_weights_means_an_empty_dictionary_and_a_weights_dir() {
    let mut s = setup();
    s.manager
        .compile_mil("prog", io(), &WeightFiles::new())
        .unwrap();
    assert_eq!(s.script.calls.borrow()[0], Call::CreateModel { weights: 0 });
    assert!(s
        .temp_root()
        .join(identifier("prog"))
        .join("weights")
        .is_dir());
}

#[test]
fn identical_programs_share_one_compile_but_not_buffers() {
    let mut s = setup();
    let w = weights(&[("@model_path/weights/w.bin", &[9])]);
    let a = s.manager.compile_mil("same", io(), &w).unwrap();
    let b = s.manager.compile_mil("same", io(), &w.clone()).unwrap();
    assert_ne!(a, b);
    assert_eq!(s.script.compiles(), 1);
    assert_eq!(s.manager.compile_count(), 1);
    assert_eq!(s.manager.loaded_models(), 1);

    write(&mut s.manager, a, &pattern(1));
    write(&mut s.manager, b, &pattern(2));
    s.manager.run(a).unwrap();
    s.manager.run(b).unwrap();
    assert_eq!(read(&mut s.manager, a), pattern(1));
    assert_eq!(read(&mut s.manager, b), pattern(2));

    s.manager.release(a).unwrap();
    assert_eq!(s.script.unloads(), 0, "b still uses the model");
    assert_eq!(s.model_dirs(), [identifier("same")]);
    s.manager.run(b).unwrap();
    s.manager.release(b).unwrap();
    assert_eq!(s.script.unloads(), 1);
    assert!(s.model_dirs().is_empty(), "last user removes the directory");
    assert_eq!(s.manager.loaded_models(), 0);
}

#[test]
fn the_budget_refuses_before_touching_the_framework() {
    let mut s = setup_with(2, |_| {});
    s.manager
        .compile_mil("one", io(), &WeightFiles::new())
        .unwrap();
    s.manager
        .compile_mil("two", io(), &WeightFiles::new())
        .unwrap();
    match s.manager.compile_mil("three", io(), &WeightFiles::new()) {
        Err(DeviceError::CompileBudget { used, budget }) => assert_eq!((used, budget), (2, 2)),
        other => panic!("expected CompileBudget, got {other:?}"),
    }
    assert_eq!(s.script.count(|c| matches!(c, Call::CreateModel { .. })), 2);
    // Reusing an already compiled program needs no budget.
    s.manager
        .compile_mil("one", io(), &WeightFiles::new())
        .unwrap();
    assert_eq!(s.manager.process_compiles(), 2);
}

#[test]
fn devices_share_the_process_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let shared = counter();
    let cfg = config(tmp.path());
    let mut a = manager_in(
        &tmp.path().join("a"),
        Rc::new(Script::default()),
        &cfg,
        CompileBudget::on_counter(2, shared),
    );
    let mut b = manager_in(
        &tmp.path().join("b"),
        Rc::new(Script::default()),
        &cfg,
        CompileBudget::on_counter(2, shared),
    );
    a.compile_mil("p1", io(), &WeightFiles::new()).unwrap();
    b.compile_mil("p2", io(), &WeightFiles::new()).unwrap();
    assert!(matches!(
        b.compile_mil("p3", io(), &WeightFiles::new()),
        Err(DeviceError::CompileBudget { .. })
    ));
    assert_eq!((a.compile_count(), b.compile_count()), (1, 1));
}

#[test]
fn programs_sharing_an_identifier_keep_the_directory_until_both_go() {
    let mut s = setup();
    let w1 = weights(&[("@model_path/weights/w.bin", &[1])]);
    let w2 = weights(&[("@model_path/weights/w.bin", &[2])]);
    let a = s.manager.compile_mil("same text", io(), &w1).unwrap();
    let b = s.manager.compile_mil("same text", io(), &w2).unwrap();
    assert_eq!(
        s.script.compiles(),
        2,
        "different weights, different programs"
    );
    assert_eq!(s.manager.loaded_models(), 2);
    assert_eq!(s.model_dirs(), [identifier("same text")]);

    s.manager.release(a).unwrap();
    assert_eq!(s.model_dirs(), [identifier("same text")]);
    write(&mut s.manager, b, &pattern(3));
    s.manager.run(b).unwrap();
    s.manager.release(b).unwrap();
    assert!(s.model_dirs().is_empty());
}

#[test]
fn distinct_identifiers_get_distinct_directories() {
    let mut s = setup();
    s.script.identifier_covers_weights.set(true);
    let w1 = weights(&[("@model_path/weights/w.bin", &[1])]);
    let w2 = weights(&[("@model_path/weights/w.bin", &[2])]);
    let a = s.manager.compile_mil("text", io(), &w1).unwrap();
    let b = s.manager.compile_mil("text", io(), &w2).unwrap();
    assert_eq!(s.model_dirs().len(), 2);
    s.manager.release(a).unwrap();
    assert_eq!(s.model_dirs().len(), 1);
    s.manager.release(b).unwrap();
    assert!(s.model_dirs().is_empty());
}

#[test]
fn a_compile_failure_dumps_the_program_and_cleans_up() {
    let mut s = setup();
    let msg = "Error Domain=com.apple.appleneuralengine.compiler Code=1 \
               \"_ANECompiler : ANECCompile() FAILED\"";
    *s.script.compile_error.borrow_mut() = Some(msg.into());
    let w = weights(&[("@model_path/weights/w.bin", &[4, 5])]);
    let err = s.manager.compile_mil("bad prog", io(), &w).unwrap_err();
    let DeviceError::Compile { message, dump_path } = err else {
        panic!("expected a compile error, got {err:?}");
    };
    assert!(message.contains("ANECCompile() FAILED"), "{message}");
    assert!(message.contains("compileWithQoS"), "{message}");
    let mil = dump_path.expect("dumped");
    assert!(mil.starts_with(s.dumps()));
    assert!(message.contains(&mil.display().to_string()), "{message}");
    assert_eq!(std::fs::read_to_string(&mil).unwrap(), "bad prog");
    let dump_dir = mil.parent().unwrap();
    assert_eq!(
        std::fs::read(dump_dir.join("weights/w.bin")).unwrap(),
        [4, 5]
    );
    let report = std::fs::read_to_string(dump_dir.join("report.txt")).unwrap();
    assert!(report.contains("ANECCompile() FAILED") && report.contains("fake M4 Pro"));

    assert!(s.model_dirs().is_empty(), "the model directory is removed");
    assert_eq!(s.manager.loaded_models(), 0);
    assert_eq!(s.script.loads() + s.script.unloads(), 0);
    assert_eq!(s.manager.process_compiles(), 1, "failed attempts count");
}

#[test]
fn a_failed_load_is_retried_once() {
    let mut s = setup();
    s.script.failing_loads.set(1);
    let k = s
        .manager
        .compile_mil("prog", io(), &WeightFiles::new())
        .unwrap();
    assert_eq!(s.script.loads(), 2);
    s.manager.run(k).unwrap();
}

#[test]
fn two_failed_loads_are_a_compile_error() {
    let mut s = setup();
    s.script.failing_loads.set(2);
    let err = s
        .manager
        .compile_mil("prog", io(), &WeightFiles::new())
        .unwrap_err();
    let DeviceError::Compile { message, dump_path } = err else {
        panic!("expected a compile error, got {err:?}");
    };
    assert!(message.contains("loadWithQoS"), "{message}");
    assert!(message.contains("first attempt"), "{message}");
    assert!(dump_path.is_some());
    assert_eq!(s.script.loads(), 2);
    assert_eq!(s.script.unloads(), 0);
    assert!(s.model_dirs().is_empty());
}

#[test]
fn a_stale_directory_from_an_earlier_process_is_cleared() {
    let mut s = setup();
    let dir = s.temp_root().join(identifier("prog"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("stale.txt"), "old").unwrap();
    std::fs::write(dir.join("net.plist"), "someone else's").unwrap();
    s.manager
        .compile_mil("prog", io(), &WeightFiles::new())
        .unwrap();
    assert!(!dir.join("stale.txt").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("net.plist")).unwrap(),
        format!("compiled {}", identifier("prog"))
    );
}

#[test]
fn a_run_failure_names_the_dumped_program() {
    let mut s = setup();
    let w = weights(&[("@model_path/weights/w.bin", &[8])]);
    let k = s.manager.compile_mil("prog", io(), &w).unwrap();
    *s.script.evaluate_error.borrow_mut() =
        Some("ANEProgramProcessRequestDirect() Failed with status=0x1d".into());
    let err = s.manager.run(k).unwrap_err();
    let DeviceError::Run(message) = err else {
        panic!("expected a run error, got {err:?}");
    };
    assert!(message.contains("status=0x1d"), "{message}");
    assert!(message.contains("dumped to"), "{message}");
    let dump_dir = s
        .dumps()
        .join(crate::ane::ProgramKey::of("prog", &w).short());
    assert_eq!(
        std::fs::read_to_string(dump_dir.join("model.mil")).unwrap(),
        "prog"
    );
    assert_eq!(std::fs::read(dump_dir.join("weights/w.bin")).unwrap(), [8]);
}

#[test]
fn bad_indices_and_released_kernels_are_errors() {
    let mut s = setup();
    let k = s
        .manager
        .compile_mil("prog", io(), &WeightFiles::new())
        .unwrap();
    assert!(matches!(
        s.manager.write_input(k, 1, &mut |_| {}),
        Err(DeviceError::NoSuchBuffer {
            what: "input",
            index: 1,
            ..
        })
    ));
    assert!(matches!(
        s.manager.read_output(k, 3, &mut |_| {}),
        Err(DeviceError::NoSuchBuffer {
            what: "output",
            index: 3,
            ..
        })
    ));
    s.manager.release(k).unwrap();
    for result in [
        s.manager.run(k),
        s.manager.release(k),
        s.manager.write_input(k, 0, &mut |_| {}),
        s.manager.io(k).map(|_| ()),
    ] {
        assert!(matches!(result, Err(DeviceError::UnknownKernel(id)) if id == k));
    }
}

#[test]
fn invalid_requests_fail_before_any_framework_call() {
    let mut s = setup();
    let bad_weights = weights(&[("@model_path/../evil.bin", &[0])]);
    assert!(s.manager.compile_mil("p", io(), &bad_weights).is_err());
    let bad_io = KernelIo {
        inputs: vec![("x".into(), TensorType::new(DType::Int32, [4]))],
        outputs: vec![("y".into(), x_type())],
    };
    assert!(s
        .manager
        .compile_mil("p", bad_io, &WeightFiles::new())
        .is_err());
    assert!(s.script.calls.borrow().is_empty());
    assert!(s.model_dirs().is_empty());
}

#[test]
fn a_surface_failure_unloads_a_model_loaded_for_it() {
    let mut s = setup();
    s.script.surfaces_before_failure.set(Some(1));
    let err = s
        .manager
        .compile_mil("prog", io(), &WeightFiles::new())
        .unwrap_err();
    assert!(err.to_string().contains("output surfaces"), "{err}");
    assert_eq!(s.script.unloads(), 1);
    assert_eq!(s.manager.loaded_models(), 0);
    assert!(s.model_dirs().is_empty());
}

#[test]
fn dropping_the_device_unloads_everything() {
    let mut s = setup();
    s.manager
        .compile_mil("a", io(), &WeightFiles::new())
        .unwrap();
    s.manager
        .compile_mil("b", io(), &WeightFiles::new())
        .unwrap();
    let script = s.script.clone();
    let temp = s.temp_root();
    drop(s.manager);
    assert_eq!(script.unloads(), 2);
    assert_eq!(std::fs::read_dir(temp).unwrap().count(), 0);
}

#[test]
fn dump_every_program_keeps_successful_compiles_too() {
    let mut s = setup_with(100, |c| c.dump_policy = DumpPolicy::EveryProgram);
    let w = weights(&[("@model_path/weights/w.bin", &[1])]);
    s.manager.compile_mil("good", io(), &w).unwrap();
    let dir = s
        .dumps()
        .join(crate::ane::ProgramKey::of("good", &w).short());
    assert_eq!(
        std::fs::read_to_string(dir.join("model.mil")).unwrap(),
        "good"
    );
    assert!(std::fs::read_to_string(dir.join("report.txt"))
        .unwrap()
        .contains("compiled and loaded"));
}

fn cache_config(root: &Path) -> AneConfig {
    AneConfig {
        disk_cache_dir: Some(root.join("cache")),
        ..config(root)
    }
}

#[test]
fn the_disk_cache_skips_compiling_in_a_later_process() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = cache_config(tmp.path());
    let w = weights(&[("@model_path/weights/w.bin", &[1, 2])]);

    let first = Rc::new(Script::default());
    let mut a = manager_in(
        &tmp.path().join("p1"),
        first.clone(),
        &cfg,
        CompileBudget::on_counter(10, counter()),
    );
    a.compile_mil("cached prog", io(), &w).unwrap();
    assert_eq!(first.compiles(), 1);
    assert!(a.take_warnings().is_empty());
    drop(a);

    // A "new process": fresh temp dir, fresh compile counter, same cache.
    let second = Rc::new(Script::default());
    let mut b = manager_in(
        &tmp.path().join("p2"),
        second.clone(),
        &cfg,
        CompileBudget::on_counter(10, counter()),
    );
    let k = b.compile_mil("cached prog", io(), &w).unwrap();
    assert_eq!(second.compiles(), 0);
    assert_eq!(second.loads(), 1);
    assert_eq!((b.compile_count(), b.process_compiles()), (0, 0));
    b.write_input(k, 0, &mut |buf| buf.copy_from_slice(&pattern(5)))
        .unwrap();
    b.run(k).unwrap();
    let mut out = Vec::new();
    b.read_output(k, 0, &mut |buf| out = buf.to_vec()).unwrap();
    assert_eq!(out, pattern(5));
}

#[test]
fn a_cached_program_needs_no_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = cache_config(tmp.path());
    let mut a = manager_in(
        &tmp.path().join("p1"),
        Rc::new(Script::default()),
        &cfg,
        CompileBudget::on_counter(10, counter()),
    );
    a.compile_mil("prog", io(), &WeightFiles::new()).unwrap();
    drop(a);
    let mut b = manager_in(
        &tmp.path().join("p2"),
        Rc::new(Script::default()),
        &cfg,
        CompileBudget::on_counter(0, counter()),
    );
    b.compile_mil("prog", io(), &WeightFiles::new()).unwrap();
    assert!(b.compile_mil("other", io(), &WeightFiles::new()).is_err());
}

#[test]
fn cached_output_that_fails_to_load_is_dropped_and_recompiled() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = cache_config(tmp.path());
    let mut a = manager_in(
        &tmp.path().join("p1"),
        Rc::new(Script::default()),
        &cfg,
        CompileBudget::on_counter(10, counter()),
    );
    a.compile_mil("prog", io(), &WeightFiles::new()).unwrap();
    drop(a);

    let script = Rc::new(Script::default());
    script.failing_loads.set(2); // the restored load and its retry
    let mut b = manager_in(
        &tmp.path().join("p2"),
        script.clone(),
        &cfg,
        CompileBudget::on_counter(10, counter()),
    );
    let k = b.compile_mil("prog", io(), &WeightFiles::new()).unwrap();
    assert_eq!(script.compiles(), 1);
    assert_eq!(script.loads(), 3);
    let warnings = b.take_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("did not load"), "{warnings:?}");
    b.run(k).unwrap();
}

fn program(version_dialect: Dialect) -> Program {
    let mut p = Program::new(version_dialect);
    p.functions.push(Function {
        name: "main".into(),
        opset: version_dialect.opset(),
        params: vec![NamedType::tensor("x", x_type())],
        attributes: BTreeMap::new(),
        body: vec![Operation {
            op_type: "sigmoid".into(),
            opset: None,
            outputs: vec![NamedType::tensor("y", x_type())],
            inputs: BTreeMap::from([("x".to_string(), Argument::var("x"))]),
            attributes: BTreeMap::new(),
            pos: SourcePos::default(),
        }],
        outputs: vec!["y".into()],
        pos: SourcePos::default(),
    });
    p
}

fn test_printer(p: &Program) -> Result<String, String> {
    Ok(format!(
        "program({}) with {} functions",
        p.version,
        p.functions.len()
    ))
}

#[test]
fn device_compile_without_a_printer_is_refused() {
    let mut s = setup_with(100, |c| c.mil_printer = None);
    let err = s
        .manager
        .compile(&program(Dialect::Ios18), &WeightFiles::new())
        .unwrap_err();
    assert!(err.to_string().contains("MIL printer"), "{err}");
    assert!(s.script.calls.borrow().is_empty());
}

#[test]
fn by_default_device_compile_writes_ane_mil_text() {
    let mut s = setup();
    let p = program(Dialect::Ios18);
    s.manager.compile(&p, &WeightFiles::new()).unwrap();
    let text = ane_mil::print(&p);
    let written = s.temp_root().join(identifier(&text)).join("model.mil");
    assert_eq!(std::fs::read_to_string(written).unwrap(), text);
}

#[test]
fn device_compile_prints_the_program_and_derives_its_io() {
    let mut s = setup_with(100, |c| c.mil_printer = Some(test_printer));
    let k = s
        .manager
        .compile(&program(Dialect::Ios18), &WeightFiles::new())
        .unwrap();
    assert_eq!(s.manager.io(k).unwrap(), &io());
    let dir = s
        .temp_root()
        .join(identifier("program(1.3) with 1 functions"));
    assert!(dir.join("model.mil").is_file());
    assert!(s.manager.take_warnings().is_empty());

    // A program in the other dialect is converted to the one in use: the same text, so the
    // same (already loaded) model.
    s.manager
        .compile(&program(Dialect::Ios16), &WeightFiles::new())
        .unwrap();
    assert!(s.manager.take_warnings().is_empty());
    assert_eq!(s.script.compiles(), 1);
    let notes = s.manager.take_notes();
    assert!(
        notes.iter().any(|n| n.contains("converted to ios18")),
        "{notes:?}"
    );
}

#[test]
fn a_forced_dialect_compiles_programs_as_given_and_warns_on_a_mismatch() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path());
    cfg.mil_printer = Some(test_printer);
    let forced = Some(DialectChoice {
        dialect: Dialect::Ios18,
        source: DialectSource::Override,
    });
    let mut m = manager_in_dialect(
        tmp.path(),
        Rc::new(Script::default()),
        &cfg,
        CompileBudget::on_counter(10, counter()),
        forced,
    );
    m.compile(&program(Dialect::Ios16), &WeightFiles::new())
        .unwrap();
    let warnings = m.take_warnings();
    assert!(
        warnings.len() == 1 && warnings[0].contains("not the forced dialect"),
        "{warnings:?}"
    );
    let dir = tmp
        .path()
        .join("temp")
        .join(identifier("program(1.0) with 1 functions"));
    assert!(dir.join("model.mil").is_file(), "compiled as given");
}

// ---- dialect fallback ----

/// A manager whose compiler rejects `rejected`, starting in `start` for `source`.
fn dialect_setup(
    root: &Path,
    rejected: Option<Dialect>,
    start: Dialect,
    source: DialectSource,
    cfg: &AneConfig,
    budget: usize,
) -> (Rc<Script>, KernelManager<FakeRuntime>) {
    let script = Rc::new(Script::default());
    script.rejected_dialect.set(rejected);
    let m = manager_in_dialect(
        root,
        script.clone(),
        cfg,
        CompileBudget::on_counter(budget, counter()),
        Some(DialectChoice {
            dialect: start,
            source,
        }),
    );
    (script, m)
}

fn kernel_dir_text(root: &Path, program: &Program) -> String {
    let text = ane_mil::print(program);
    std::fs::read_to_string(root.join("temp").join(identifier(&text)).join("model.mil")).unwrap()
}

#[test]
fn a_rejected_dialect_falls_back_once_and_is_remembered_for_the_process() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let (script, mut m) = dialect_setup(
        tmp.path(),
        Some(Dialect::Ios18),
        Dialect::Ios18,
        DialectSource::MacosVersion,
        &cfg,
        10,
    );
    let k = m
        .compile(&program(Dialect::Ios18), &WeightFiles::new())
        .unwrap();
    assert_eq!(script.compiles(), 2, "the ios18 attempt, then ios16");
    assert_eq!(m.process_compiles(), 2);
    let compiled = script.compiled.borrow().clone();
    assert!(compiled[0].starts_with("program(1.3)"), "{compiled:?}");
    assert!(compiled[1].starts_with("program(1.0)"), "{compiled:?}");
    let mut ios16 = program(Dialect::Ios18);
    ios16.set_dialect(Dialect::Ios16);
    assert_eq!(kernel_dir_text(tmp.path(), &ios16), ane_mil::print(&ios16));
    assert_eq!(
        m.dialect_choice(),
        Some(DialectChoice {
            dialect: Dialect::Ios16,
            source: DialectSource::FallbackAfterCompileFailure
        })
    );
    let warnings = m.take_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("rejected a program in MIL dialect ios18")
            && warnings[0].contains("compiled in ios16"),
        "{warnings:?}"
    );
    m.write_input(k, 0, &mut |b| b.copy_from_slice(&pattern(4)))
        .unwrap();
    m.run(k).unwrap();

    // The next program, printed by a caller still in ios18, goes straight to ios16.
    let mut next = program(Dialect::Ios18);
    if let Some(f) = next.functions.first_mut() {
        f.body[0].op_type = "relu".into();
    }
    m.compile(&next, &WeightFiles::new()).unwrap();
    assert_eq!(script.compiles(), 3, "no second rejected attempt");
    assert!(script.compiled.borrow()[2].starts_with("program(1.0)"));
}

#[test]
fn a_forced_dialect_is_never_retried() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let (script, mut m) = dialect_setup(
        tmp.path(),
        Some(Dialect::Ios18),
        Dialect::Ios18,
        DialectSource::Override,
        &cfg,
        10,
    );
    let err = m
        .compile(&program(Dialect::Ios18), &WeightFiles::new())
        .unwrap_err();
    assert!(err.to_string().contains("ANECCompile() FAILED"), "{err}");
    assert!(!err.to_string().contains("retried"), "{err}");
    assert_eq!(script.compiles(), 1);
    assert_eq!(m.dialect_choice().unwrap().dialect, Dialect::Ios18);
}

#[test]
fn a_program_failing_in_both_dialects_reports_both_attempts() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let (script, mut m) = dialect_setup(
        tmp.path(),
        None,
        Dialect::Ios16,
        DialectSource::Chip,
        &cfg,
        10,
    );
    *script.compile_error.borrow_mut() = Some("ANECCompile() FAILED: bad op".into());
    let err = m
        .compile(&program(Dialect::Ios16), &WeightFiles::new())
        .unwrap_err();
    let DeviceError::Compile { message, dump_path } = &err else {
        panic!("expected a compile error, got {err:?}");
    };
    assert!(message.starts_with("in ios16: "), "{message}");
    assert!(message.contains("retried in ios18"), "{message}");
    assert_eq!(message.matches("bad op").count(), 2, "{message}");
    let dumped = dump_path.as_ref().expect("the first attempt was dumped");
    assert!(std::fs::read_to_string(dumped)
        .unwrap()
        .starts_with("program(1.0)"));
    assert_eq!(script.compiles(), 2);
    assert_eq!(
        m.dialect_choice().unwrap().source,
        DialectSource::Chip,
        "nothing worked, nothing changes"
    );
    assert!(s_model_dirs(tmp.path()).is_empty());
}

fn s_model_dirs(root: &Path) -> Vec<String> {
    std::fs::read_dir(root.join("temp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

#[test]
fn only_compiler_rejections_are_retried() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let (script, mut m) = dialect_setup(
        tmp.path(),
        None,
        Dialect::Ios18,
        DialectSource::MacosVersion,
        &cfg,
        10,
    );
    script.failing_loads.set(2);
    let err = m
        .compile(&program(Dialect::Ios18), &WeightFiles::new())
        .unwrap_err();
    assert!(err.to_string().contains("loadWithQoS"), "{err}");
    assert_eq!(
        script.compiles(),
        1,
        "a load failure is not a dialect question"
    );

    // MIL text is compiled as written, never retried.
    script.rejected_dialect.set(Some(Dialect::Ios18));
    let text = ane_mil::print(&program(Dialect::Ios18));
    assert!(m.compile_mil(&text, io(), &WeightFiles::new()).is_err());
    assert_eq!(script.compiles(), 2);
    assert_eq!(m.dialect_choice().unwrap().dialect, Dialect::Ios18);
}

#[test]
fn a_retry_the_budget_cannot_pay_for_is_reported_with_the_first_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let (script, mut m) = dialect_setup(
        tmp.path(),
        Some(Dialect::Ios18),
        Dialect::Ios18,
        DialectSource::MacosVersion,
        &cfg,
        1,
    );
    let err = m
        .compile(&program(Dialect::Ios18), &WeightFiles::new())
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("ANECCompile() FAILED"), "{message}");
    assert!(message.contains("retried in ios16"), "{message}");
    assert!(message.contains("budget"), "{message}");
    assert_eq!(script.compiles(), 1);
}

#[test]
fn without_a_dialect_programs_compile_as_given() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let script = Rc::new(Script::default());
    script.rejected_dialect.set(Some(Dialect::Ios16));
    let mut m = manager_in_dialect(
        tmp.path(),
        script.clone(),
        &cfg,
        CompileBudget::on_counter(10, counter()),
        None,
    );
    assert!(m
        .compile(&program(Dialect::Ios16), &WeightFiles::new())
        .is_err());
    assert_eq!(script.compiles(), 1);
    assert!(m.take_warnings().is_empty());
    assert_eq!(m.dialect_choice(), None);
}

#[test]
fn the_disk_cache_remembers_the_fallback_for_a_later_process() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = cache_config(tmp.path());
    let (first, mut a) = dialect_setup(
        &tmp.path().join("p1"),
        Some(Dialect::Ios18),
        Dialect::Ios18,
        DialectSource::MacosVersion,
        &cfg,
        10,
    );
    a.compile(&program(Dialect::Ios18), &WeightFiles::new())
        .unwrap();
    assert_eq!(first.compiles(), 2);
    drop(a);

    // A later process on the same platform starts in ios16 and finds the compiled ios16 program
    // in the cache: no compile at all, and no rejected attempt.
    let (second, mut b) = dialect_setup(
        &tmp.path().join("p2"),
        Some(Dialect::Ios18),
        Dialect::Ios18,
        DialectSource::MacosVersion,
        &cfg,
        10,
    );
    assert_eq!(
        b.dialect_choice(),
        Some(DialectChoice {
            dialect: Dialect::Ios16,
            source: DialectSource::RememberedFallback
        })
    );
    let notes = b.take_notes();
    assert!(
        notes[0].contains("fell back") && notes[0].contains("replacing ios18"),
        "{notes:?}"
    );
    b.compile(&program(Dialect::Ios18), &WeightFiles::new())
        .unwrap();
    assert_eq!(second.compiles(), 0);
    assert!(b.take_warnings().is_empty());

    // A forced dialect ignores the record.
    let (_, c) = dialect_setup(
        &tmp.path().join("p3"),
        None,
        Dialect::Ios18,
        DialectSource::Override,
        &cfg,
        10,
    );
    assert_eq!(c.dialect_choice().unwrap().dialect, Dialect::Ios18);
}

// ---- layouts from model attributes ----

fn live(name: &str, stride: f64) -> AttrValue {
    AttrValue::dict([
        ("Name", AttrValue::string(name)),
        ("Symbol", AttrValue::string(name)),
        ("Width", AttrValue::Number(8.0)),
        (
            PLANE_DESCRIPTOR,
            AttrValue::Array(vec![AttrValue::dict([
                ("PlaneID", AttrValue::Number(0.0)),
                (ROW_STRIDE, AttrValue::Number(stride)),
            ])]),
        ),
    ])
}

fn strided_attributes(input_stride: f64, output_stride: f64) -> AttrValue {
    AttrValue::dict([(
        NETWORK_STATUS_LIST,
        AttrValue::Array(vec![AttrValue::dict([
            ("Name", AttrValue::string("main")),
            (
                LIVE_INPUT_LIST,
                AttrValue::Array(vec![live("x", input_stride)]),
            ),
            (
                LIVE_OUTPUT_LIST,
                AttrValue::Array(vec![live("y@output", output_stride)]),
            ),
        ])]),
    )])
}

#[test]
fn a_model_without_attributes_keeps_dense_rows_and_says_so() {
    let mut s = setup();
    let k = s
        .manager
        .compile_mil("prog", io(), &WeightFiles::new())
        .unwrap();
    let notes = s.manager.layout_notes(k).unwrap();
    assert_eq!(notes.len(), 2);
    assert!(notes
        .iter()
        .all(|n| n.finding == StrideFinding::NotAnswered));
    let log = s.manager.take_notes();
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log[0].contains("does not answer modelAttributes"),
        "{log:?}"
    );
    assert!(s.manager.surface_plan(k).unwrap().inputs[0]
        .layout
        .is_dense());

    // Attributes without strides: dense, recorded as "none reported".
    *s.script.attributes.borrow_mut() = Some(Ok(Some(AttrValue::dict::<&str>([]))));
    let k2 = s
        .manager
        .compile_mil("prog 2", io(), &WeightFiles::new())
        .unwrap();
    assert!(s
        .manager
        .layout_notes(k2)
        .unwrap()
        .iter()
        .all(|n| n.finding == StrideFinding::NoneReported));
    assert!(s.manager.take_notes()[0].contains("gave no row stride"));

    // Unreadable attributes: dense, with the reason.
    *s.script.attributes.borrow_mut() = Some(Err("not a dictionary".into()));
    s.manager
        .compile_mil("prog 3", io(), &WeightFiles::new())
        .unwrap();
    assert!(s.manager.take_notes()[0].contains("not a dictionary"));
}

#[test]
fn reported_strides_lay_the_surfaces_out_and_rows_are_copied() {
    let mut s = setup();
    // Rows of 8 fp16 values are 16 bytes dense; the model asks for 32 (input) and 48 (output).
    *s.script.attributes.borrow_mut() = Some(Ok(Some(strided_attributes(32.0, 48.0))));
    let k = s
        .manager
        .compile_mil("strided", io(), &WeightFiles::new())
        .unwrap();
    let plan = s.manager.surface_plan(k).unwrap().clone();
    assert_eq!(plan.inputs[0].layout.row_stride, 32);
    assert_eq!(plan.outputs[0].layout.row_stride, 48);
    assert_eq!(plan.inputs[0].alloc_bytes, 128);
    assert_eq!(plan.outputs[0].alloc_bytes, 256, "4 × 48 rounded up");
    let log = s.manager.take_notes();
    assert!(
        log.iter()
            .any(|n| n.contains("follows the reported strides")),
        "{log:?}"
    );

    let data = pattern(1);
    write(&mut s.manager, k, &data);
    let raw = s.script.surfaces.borrow()[0].borrow().clone();
    for row in 0..4 {
        assert_eq!(
            &raw[row * 32..row * 32 + 16],
            &data[row * 16..row * 16 + 16]
        );
        assert!(raw[row * 32 + 16..row * 32 + 32].iter().all(|&b| b == 0));
    }
    // The caller sees exactly the dense bytes, and a partial write keeps the rest.
    let mut seen = Vec::new();
    s.manager
        .write_input(k, 0, &mut |b| {
            seen = b.to_vec();
            b[0] = 0xEE;
        })
        .unwrap();
    assert_eq!(seen, data);
    let raw = s.script.surfaces.borrow()[0].borrow().clone();
    assert_eq!(raw[0], 0xEE);
    assert_eq!(&raw[32..48], &data[16..32]);

    // The fake copies raw input bytes to the output surface; reading gathers rows 48 apart.
    s.manager.run(k).unwrap();
    let out_raw = s.script.surfaces.borrow()[1].borrow().clone();
    let mut expected = Vec::new();
    for row in 0..4 {
        expected.extend_from_slice(&out_raw[row * 48..row * 48 + 16]);
    }
    assert_eq!(read(&mut s.manager, k), expected);
}

#[test]
fn a_matching_stride_keeps_the_dense_surface() {
    let mut s = setup();
    *s.script.attributes.borrow_mut() = Some(Ok(Some(strided_attributes(16.0, 16.0))));
    let k = s
        .manager
        .compile_mil("dense", io(), &WeightFiles::new())
        .unwrap();
    assert!(s
        .manager
        .layout_notes(k)
        .unwrap()
        .iter()
        .all(|n| n.finding == StrideFinding::Matches { row_stride: 16 }));
    write(&mut s.manager, k, &pattern(9));
    s.manager.run(k).unwrap();
    assert_eq!(read(&mut s.manager, k), pattern(9));
}

#[test]
fn an_inexpressible_stride_fails_the_compile_and_unloads_the_model() {
    let mut s = setup();
    *s.script.attributes.borrow_mut() = Some(Ok(Some(strided_attributes(8.0, 16.0))));
    let err = s
        .manager
        .compile_mil("narrow", io(), &WeightFiles::new())
        .unwrap_err();
    let DeviceError::Compile { message, dump_path } = &err else {
        panic!("expected a compile error, got {err:?}");
    };
    assert!(message.contains("input \"x\""), "{message}");
    assert!(message.contains("row stride of 8 bytes"), "{message}");
    assert!(message.contains("16 bytes apart"), "{message}");
    assert!(dump_path.is_some());
    assert_eq!(s.script.unloads(), 1);
    assert_eq!(s.manager.loaded_models(), 0);
    assert!(s.model_dirs().is_empty());
}

#[test]
fn a_shared_model_logs_its_layout_once() {
    let mut s = setup();
    s.manager
        .compile_mil("same", io(), &WeightFiles::new())
        .unwrap();
    assert_eq!(s.manager.take_notes().len(), 2);
    let b = s
        .manager
        .compile_mil("same", io(), &WeightFiles::new())
        .unwrap();
    assert!(s.manager.take_notes().is_empty());
    assert_eq!(s.manager.layout_notes(b).unwrap().len(), 2);
    assert_eq!(
        s.script.count(|c| matches!(c, Call::Attributes(_))),
        1,
        "attributes are read once per load"
    );
}
