//! A fake [`AneRuntime`] for testing the manager on any OS.
//!
//! It enforces what the real framework is documented to need, so ordering mistakes fail tests:
//! `compile` fails unless `model.mil` and every weight file are already in the model directory
//! (ane-facts §4 step 3), and writes `net.plist` (plus `data` when there are weights, like PR #22
//! observed); `load` fails without `net.plist`; `evaluate` fails unless loaded. Evaluation copies
//! the first input's bytes into every output. Model identifiers hash the MIL text only by
//! default, so programs differing only in weights share a directory — the case directory
//! reference counting must survive. It can also reject one MIL dialect at compile time (as an
//! M1 may reject `program(1.3)`) and answer `modelAttributes` with a scripted tree.

use crate::ane::model_attributes::AttrValue;
use crate::ane::program_key::sha256_hex;
use crate::ane::runtime::AneRuntime;
use crate::ane::surface_layout::SurfaceSpec;
use crate::ane::weights_dict::WeightsDict;
use ane_mil::Dialect;
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// One call the fake saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    CreateModel { weights: usize },
    Compile(String),
    Load(String),
    Unload(String),
    Evaluate(String),
    Attributes(String),
}

/// Failure switches and the call log, shared with the test through `Rc`.
#[derive(Debug, Default)]
pub struct Script {
    pub calls: RefCell<Vec<Call>>,
    /// Compile fails with this message.
    pub compile_error: RefCell<Option<String>>,
    /// The next this-many loads fail.
    pub failing_loads: Cell<usize>,
    /// Evaluate fails with this message.
    pub evaluate_error: RefCell<Option<String>>,
    /// Surface creation fails after this many successes.
    pub surfaces_before_failure: Cell<Option<usize>>,
    /// Identifiers also hash the weights (default: MIL text only).
    pub identifier_covers_weights: Cell<bool>,
    /// Compiles of MIL text in this dialect fail (by its `program(…)` header).
    pub rejected_dialect: Cell<Option<Dialect>>,
    /// What `modelAttributes` gives; `None` (the default) means the model does not answer it.
    pub attributes: RefCell<Option<Result<Option<AttrValue>, String>>>,
    /// Every surface created, in order, so tests can look at raw (strided) bytes.
    pub surfaces: RefCell<Vec<FakeSurface>>,
    /// The MIL text of every `compile` call, in order.
    pub compiled: RefCell<Vec<String>>,
}

impl Script {
    pub fn count(&self, pred: impl Fn(&Call) -> bool) -> usize {
        self.calls.borrow().iter().filter(|c| pred(c)).count()
    }
    pub fn compiles(&self) -> usize {
        self.count(|c| matches!(c, Call::Compile(_)))
    }
    pub fn loads(&self) -> usize {
        self.count(|c| matches!(c, Call::Load(_)))
    }
    pub fn unloads(&self) -> usize {
        self.count(|c| matches!(c, Call::Unload(_)))
    }
}

pub struct FakeModel {
    identifier: String,
    mil: String,
    weights: Vec<(String, Vec<u8>)>,
    loaded: Cell<bool>,
}

pub type FakeSurface = Rc<RefCell<Vec<u8>>>;

pub struct FakeRequest {
    inputs: Vec<FakeSurface>,
    outputs: Vec<FakeSurface>,
}

pub struct FakeRuntime {
    temp_root: PathBuf,
    platform: String,
    pub script: Rc<Script>,
    surfaces_made: usize,
}

impl FakeRuntime {
    pub fn new(temp_root: &Path, script: Rc<Script>) -> Self {
        FakeRuntime {
            temp_root: temp_root.to_path_buf(),
            platform: "Apple M4 Pro | macOS 25D125".into(),
            script,
            surfaces_made: 0,
        }
    }

    fn dir(&self, model: &FakeModel) -> PathBuf {
        self.temp_root.join(&model.identifier)
    }
}

impl AneRuntime for FakeRuntime {
    type Model = FakeModel;
    type Surface = FakeSurface;
    type Request = FakeRequest;

    fn temp_root(&self) -> &Path {
        &self.temp_root
    }

    fn platform(&self) -> &str {
        &self.platform
    }

    fn create_model(
        &mut self,
        mil_text: &str,
        weights: &WeightsDict<'_>,
    ) -> Result<FakeModel, String> {
        self.script.calls.borrow_mut().push(Call::CreateModel {
            weights: weights.len(),
        });
        let mut parts: Vec<&[u8]> = vec![mil_text.as_bytes()];
        if self.script.identifier_covers_weights.get() {
            for e in weights.entries() {
                parts.push(e.data);
            }
        }
        Ok(FakeModel {
            identifier: sha256_hex(&parts)[..20].to_uppercase(),
            mil: mil_text.to_string(),
            weights: weights
                .entries()
                .iter()
                .map(|e| (e.relative_path.to_string(), e.data.to_vec()))
                .collect(),
            loaded: Cell::new(false),
        })
    }

    fn model_identifier(&mut self, model: &FakeModel) -> Result<String, String> {
        Ok(model.identifier.clone())
    }

    fn compile(&mut self, model: &FakeModel) -> Result<(), String> {
        self.script
            .calls
            .borrow_mut()
            .push(Call::Compile(model.identifier.clone()));
        self.script.compiled.borrow_mut().push(model.mil.clone());
        if let Some(e) = self.script.compile_error.borrow().clone() {
            return Err(e);
        }
        if let Some(d) = self.script.rejected_dialect.get() {
            let header = format!("program({})", d.program_version());
            if model.mil.trim_start().starts_with(&header) {
                return Err(format!(
                    "_ANECompiler : ANECCompile() FAILED (scripted: rejects {header})"
                ));
            }
        }
        let dir = self.dir(model);
        let mil = std::fs::read_to_string(dir.join("model.mil"))
            .map_err(|e| format!("model.mil missing at compile time: {e}"))?;
        if mil != model.mil {
            return Err("model.mil does not hold this model's MIL".into());
        }
        if !dir.join("weights").is_dir() {
            return Err("weights/ missing at compile time".into());
        }
        for (rel, bytes) in &model.weights {
            let on_disk = std::fs::read(dir.join(rel))
                .map_err(|e| format!("{rel} missing at compile time: {e}"))?;
            if &on_disk != bytes {
                return Err(format!("{rel} holds other bytes"));
            }
        }
        std::fs::write(
            dir.join("net.plist"),
            format!("compiled {}", model.identifier),
        )
        .map_err(|e| e.to_string())?;
        if !model.weights.is_empty() {
            std::fs::write(dir.join("data"), b"weights").map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn load(&mut self, model: &FakeModel) -> Result<(), String> {
        self.script
            .calls
            .borrow_mut()
            .push(Call::Load(model.identifier.clone()));
        let pending = self.script.failing_loads.get();
        if pending > 0 {
            self.script.failing_loads.set(pending - 1);
            return Err("ANEProgramLoad failed (scripted)".into());
        }
        if !self.dir(model).join("net.plist").is_file() {
            return Err("no compiled program (net.plist) in the model directory".into());
        }
        model.loaded.set(true);
        Ok(())
    }

    fn unload(&mut self, model: &FakeModel) -> Result<(), String> {
        self.script
            .calls
            .borrow_mut()
            .push(Call::Unload(model.identifier.clone()));
        if !model.loaded.replace(false) {
            return Err("unloading a model that is not loaded".into());
        }
        Ok(())
    }

    fn model_attributes(&mut self, model: &FakeModel) -> Result<Option<AttrValue>, String> {
        self.script
            .calls
            .borrow_mut()
            .push(Call::Attributes(model.identifier.clone()));
        if !model.loaded.get() {
            return Err("modelAttributes read before the model loaded".into());
        }
        self.script.attributes.borrow().clone().unwrap_or(Ok(None))
    }

    fn create_surface(&mut self, spec: &SurfaceSpec) -> Result<FakeSurface, String> {
        if let Some(limit) = self.script.surfaces_before_failure.get() {
            if self.surfaces_made >= limit {
                return Err("IOSurfaceCreate returned NULL (scripted)".into());
            }
        }
        self.surfaces_made += 1;
        let surface = Rc::new(RefCell::new(vec![0u8; spec.alloc_bytes]));
        self.script.surfaces.borrow_mut().push(surface.clone());
        Ok(surface)
    }

    fn create_request(
        &mut self,
        inputs: &[FakeSurface],
        outputs: &[FakeSurface],
    ) -> Result<FakeRequest, String> {
        Ok(FakeRequest {
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
        })
    }

    fn evaluate(&mut self, model: &FakeModel, request: &FakeRequest) -> Result<(), String> {
        self.script
            .calls
            .borrow_mut()
            .push(Call::Evaluate(model.identifier.clone()));
        if let Some(e) = self.script.evaluate_error.borrow().clone() {
            return Err(e);
        }
        if !model.loaded.get() {
            return Err("evaluating a model that is not loaded".into());
        }
        let src = request.inputs[0].borrow().clone();
        for out in &request.outputs {
            let mut out = out.borrow_mut();
            let n = out.len().min(src.len());
            out[..n].copy_from_slice(&src[..n]);
        }
        Ok(())
    }

    fn write_surface(
        &mut self,
        surface: &FakeSurface,
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), String> {
        let mut s = surface.borrow_mut();
        let bytes = s.get_mut(..len).ok_or("surface smaller than requested")?;
        fill(bytes);
        Ok(())
    }

    fn read_surface(
        &mut self,
        surface: &FakeSurface,
        len: usize,
        read: &mut dyn FnMut(&[u8]),
    ) -> Result<(), String> {
        let s = surface.borrow();
        read(s.get(..len).ok_or("surface smaller than requested")?);
        Ok(())
    }
}
