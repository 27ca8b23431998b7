//! `ane_trainer._native`: the Rust half of the Python package. The Python modules
//! (`ane_trainer.nn`, `.optim`, `.datasets`, `Trainer`) keep PyTorch's names and argument
//! handling; this module builds models from their JSON module trees, runs the library's
//! [`Trainer`](ane_trainer::fit::Trainer) with the GIL released, moves numpy arrays in and out,
//! and runs the CLI for `python -m ane_trainer`. Every error is a Python exception with the
//! library's message; nothing panics across the boundary.

use ane_trainer::data::Normalize;
use ane_trainer::executor::DeviceChoice;
use ane_trainer::fit::{
    load_arrays, Arrays, Event, FitOptions, History, Trainer as RustTrainer, TrainerConfig,
};
use ane_trainer::nn::{InputSpec, Loss, Model, ModuleSpec};
use ane_trainer::optim::{OptimizerConfig, ScheduleKind};
use ane_trainer::params::ParamStore;
use ane_trainer::trainer::TrainError;
use numpy::{PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A library error as the Python exception a user expects: bad settings, shapes and data are
/// `ValueError`s, everything else a `RuntimeError`, each with the library's message.
fn to_py(err: TrainError) -> PyErr {
    match err {
        TrainError::Setting { .. }
        | TrainError::Model(_)
        | TrainError::Optim(_)
        | TrainError::Schedule(_)
        | TrainError::ModelData { .. } => PyValueError::new_err(err.to_string()),
        other => PyRuntimeError::new_err(other.to_string()),
    }
}

fn value_error(message: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(message.to_string())
}

fn model_from(spec_json: &str, input_shape: &[usize]) -> PyResult<Model> {
    let spec = ModuleSpec::from_json(spec_json).map_err(value_error)?;
    let module = spec.build().map_err(value_error)?;
    Model::from_boxed(module, InputSpec::images(input_shape)).map_err(value_error)
}

/// `[(name, shape), …]` of the parameters of the module tree `spec_json`, in declaration order.
#[pyfunction]
fn param_specs(spec_json: &str) -> PyResult<Vec<(String, Vec<usize>)>> {
    let model = model_from(spec_json, &[1])?;
    Ok(model
        .param_specs()
        .iter()
        .map(|s| (s.name.clone(), s.shape.clone()))
        .collect())
}

/// Fresh parameters of the module tree `spec_json` (PyTorch's initializers, from `seed`).
#[pyfunction]
fn init_params<'py>(py: Python<'py>, spec_json: &str, seed: u64) -> PyResult<Bound<'py, PyDict>> {
    let model = model_from(spec_json, &[1])?;
    let store = model.init_params(seed).map_err(value_error)?;
    params_to_dict(py, &store)
}

fn params_to_dict<'py>(py: Python<'py>, store: &ParamStore) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for p in store.params() {
        let array = PyArray1::from_slice(py, p.master()).reshape(p.shape().to_vec())?;
        dict.set_item(p.name(), array)?;
    }
    Ok(dict)
}

/// The f32 values of a C-contiguous float32 array (the Python side converts and checks).
fn f32_values(array: &PyReadonlyArrayDyn<'_, f32>, what: &str) -> PyResult<Vec<f32>> {
    array
        .as_slice()
        .map(<[f32]>::to_vec)
        .map_err(|_| value_error(format!("{what} must be a C-contiguous float32 array")))
}

fn arrays(x: &PyReadonlyArrayDyn<'_, f32>, y: &PyReadonlyArrayDyn<'_, i32>) -> PyResult<Arrays> {
    let shape = x.shape();
    if shape.is_empty() {
        return Err(value_error("x must have a leading batch axis"));
    }
    let labels = y
        .as_slice()
        .map_err(|_| value_error("y must be a C-contiguous int32 array"))?
        .to_vec();
    if y.ndim() != 1 || labels.len() != shape[0] {
        return Err(value_error(format!(
            "y must be a 1-D array of {} labels (one per row of x), got shape {:?}",
            shape[0],
            y.shape()
        )));
    }
    Arrays::new(f32_values(x, "x")?, &shape[1..], labels).map_err(to_py)
}

/// The trainer behind `ane_trainer.Trainer`.
#[pyclass(unsendable, module = "ane_trainer._native")]
struct Trainer {
    inner: RustTrainer,
    spec_json: String,
    input_shape: Vec<usize>,
}

/// Moves the trainer into a closure that runs with the GIL released.
struct OnThisThread<T>(T);

// SAFETY: `Python::detach` runs its closure on the calling thread and only releases the GIL
// meanwhile; the pyclass is `unsendable`, so the trainer (whose devices are not `Send`) is only
// ever touched by the thread that created it. Nothing crosses a thread.
unsafe impl<T> Send for OnThisThread<T> {}

impl<T> OnThisThread<T> {
    /// The value. A method (not a pattern) so closures capture the whole wrapper, which is
    /// `Send`, rather than its field.
    fn into_inner(self) -> T {
        self.0
    }
}

#[pymethods]
impl Trainer {
    /// `spec_json`: the module tree; `input_shape`: one example's shape; `params`: name → array;
    /// `config_json`: the settings (see `ane_trainer/_config.py`).
    #[new]
    fn new(
        spec_json: String,
        input_shape: Vec<usize>,
        params: &Bound<'_, PyDict>,
        config_json: &str,
    ) -> PyResult<Self> {
        let model = model_from(&spec_json, &input_shape)?;
        let config = config_from_json(config_json)?;
        let mut inner = RustTrainer::new(model, Loss::CrossEntropy, config).map_err(to_py)?;
        let store = dict_to_params(inner.params(), params)?;
        inner.set_params(store).map_err(to_py)?;
        Ok(Trainer {
            inner,
            spec_json,
            input_shape,
        })
    }

    /// Trains; returns `{"loss": [...per epoch], "val_accuracy": [...], "val_loss": [...],
    /// "steps": n, "interrupted": bool}`. `callback(epoch_dict)` runs after every epoch. Ctrl-C
    /// stops after the current update and raises `KeyboardInterrupt`.
    #[pyo3(signature = (x, y, epochs, validation=None, callback=None))]
    fn fit<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArrayDyn<'py, f32>,
        y: PyReadonlyArrayDyn<'py, i32>,
        epochs: u64,
        validation: Option<(PyReadonlyArrayDyn<'py, f32>, PyReadonlyArrayDyn<'py, i32>)>,
        callback: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let data = arrays(&x, &y)?;
        let val = match &validation {
            Some((vx, vy)) => Some(arrays(vx, vy)?),
            None => None,
        };
        let interrupt = Arc::new(AtomicBool::new(false));
        let mut callback_error: Option<PyErr> = None;
        let trainer = OnThisThread(&mut self.inner);
        let flag = interrupt.clone();
        let callback_error_slot = OnThisThread(&mut callback_error);
        let result = py.detach(move || {
            let trainer = trainer.into_inner();
            let callback_error = callback_error_slot.into_inner();
            let options = FitOptions {
                epochs,
                validation: val.as_ref(),
                interrupt: Some(flag.clone()),
            };
            let mut observer = |event: &Event| {
                Python::attach(|py| {
                    if py.check_signals().is_err() {
                        flag.store(true, Ordering::SeqCst);
                    }
                    if let (Event::Epoch(e), Some(cb)) = (event, &callback) {
                        let record = PyDict::new(py);
                        let set = || -> PyResult<()> {
                            record.set_item("epoch", e.epoch)?;
                            record.set_item("loss", e.loss)?;
                            record.set_item("val_accuracy", e.val_accuracy)?;
                            record.set_item("val_loss", e.val_loss)?;
                            cb.call1(py, (record.clone(),))?;
                            Ok(())
                        };
                        if let Err(err) = set() {
                            flag.store(true, Ordering::SeqCst);
                            callback_error.get_or_insert(err);
                        }
                    }
                });
            };
            OnThisThread(trainer.fit(&data, &options, &mut observer))
        });
        let history = result.0.map_err(to_py)?;
        if let Some(err) = callback_error {
            return Err(err);
        }
        if history.interrupted && interrupt.load(Ordering::SeqCst) {
            return Err(PyKeyboardInterrupt::new_err(format!(
                "training stopped after update {} (the model keeps the weights it reached)",
                self.inner.step()
            )));
        }
        history_dict(py, &history)
    }

    /// `{"accuracy", "loss", "correct", "examples"}` on `(x, y)`.
    fn evaluate<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArrayDyn<'py, f32>,
        y: PyReadonlyArrayDyn<'py, i32>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let data = arrays(&x, &y)?;
        let trainer = OnThisThread(&mut self.inner);
        let result = py
            .detach(move || {
                let trainer = trainer.into_inner();
                OnThisThread(trainer.evaluate(&data))
            })
            .0
            .map_err(to_py)?;
        let dict = PyDict::new(py);
        dict.set_item("accuracy", result.accuracy())?;
        dict.set_item("loss", result.mean_loss())?;
        dict.set_item("correct", result.correct)?;
        dict.set_item("examples", result.examples)?;
        Ok(dict)
    }

    /// The logits of every row of `x`: a float32 array `[rows, classes]`.
    fn predict<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArrayDyn<'py, f32>,
    ) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let rows = x.shape().first().copied().unwrap_or(0);
        let values = f32_values(&x, "x")?;
        let classes = self.inner.classes();
        let trainer = OnThisThread(&mut self.inner);
        let logits = py
            .detach(move || {
                let trainer = trainer.into_inner();
                OnThisThread(trainer.predict(&values, rows))
            })
            .0
            .map_err(to_py)?;
        Ok(PyArray1::from_vec(py, logits)
            .reshape(vec![rows, classes])?
            .to_dyn()
            .clone())
    }

    /// The parameters, name → float32 array.
    fn state_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        params_to_dict(py, self.inner.params())
    }

    /// Replaces the parameters (every name, the same shapes).
    fn load_state_dict(&mut self, params: &Bound<'_, PyDict>) -> PyResult<()> {
        let store = dict_to_params(self.inner.params(), params)?;
        self.inner.set_params(store).map_err(to_py)
    }

    /// Loads every parameter from a safetensors file (or a directory holding
    /// `model.safetensors`, or a checkpoint) with the model's names and shapes.
    fn load_weights(&mut self, path: PathBuf) -> PyResult<()> {
        self.inner.load_weights(&path).map(|_| ()).map_err(to_py)
    }

    /// Writes `DIR/model.safetensors`; returns its path.
    fn save(&self, dir: PathBuf) -> PyResult<PathBuf> {
        self.inner.save(&dir).map_err(to_py)
    }

    /// Updates applied so far.
    #[getter]
    fn step(&self) -> u64 {
        self.inner.step()
    }

    /// `sim` or `ane`.
    #[getter]
    fn device(&self) -> &'static str {
        self.inner.device_name()
    }

    /// Where the ANE kernels run, in a sentence.
    #[getter]
    fn device_note(&self) -> String {
        self.inner.device_note().to_string()
    }

    /// The module tree this trainer was built from (JSON).
    #[getter]
    fn spec_json(&self) -> String {
        self.spec_json.clone()
    }

    /// One example's shape.
    #[getter]
    fn input_shape(&self) -> Vec<usize> {
        self.input_shape.clone()
    }
}

fn history_dict<'py>(py: Python<'py>, history: &History) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    let per_epoch = |f: &dyn Fn(&ane_trainer::fit::EpochEvent) -> Option<f64>| {
        history.epochs.iter().map(f).collect::<Vec<_>>()
    };
    dict.set_item("loss", per_epoch(&|e| Some(e.loss)))?;
    dict.set_item("val_accuracy", per_epoch(&|e| e.val_accuracy))?;
    dict.set_item("val_loss", per_epoch(&|e| e.val_loss))?;
    dict.set_item(
        "step_loss",
        PyList::new(py, history.steps.iter().map(|s| s.loss))?,
    )?;
    dict.set_item("steps", history.steps.len())?;
    dict.set_item("interrupted", history.interrupted)?;
    Ok(dict)
}

/// A parameter store shaped like `like` with the values of `dict` (every name, same shapes).
fn dict_to_params(like: &ParamStore, dict: &Bound<'_, PyDict>) -> PyResult<ParamStore> {
    let mut store = like.clone();
    for p in store.params_mut() {
        let name = p.name().to_string();
        let value = dict
            .get_item(&name)?
            .ok_or_else(|| value_error(format!("missing parameter `{name}`")))?;
        let array: PyReadonlyArrayDyn<'_, f32> = value.extract().map_err(|_| {
            value_error(format!("parameter `{name}` must be a float32 numpy array"))
        })?;
        if array.shape() != p.shape() {
            return Err(value_error(format!(
                "parameter `{name}` has shape {:?}, the model needs {:?}",
                array.shape(),
                p.shape()
            )));
        }
        let values = f32_values(&array, &format!("parameter `{name}`"))?;
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(value_error(format!(
                "parameter `{name}` holds {bad}: weights must be finite"
            )));
        }
        p.set_master(&values).map_err(value_error)?;
    }
    Ok(store)
}

/// The settings from the JSON the Python side writes.
fn config_from_json(text: &str) -> PyResult<TrainerConfig> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| value_error(format!("bad settings: {e}")))?;
    let mut config = TrainerConfig::default();
    let get = |key: &str| v.get(key).filter(|x| !x.is_null());
    let bad = |key: &str, value: &serde_json::Value, why: &str| {
        value_error(format!("{key}={value}: {why}"))
    };
    if let Some(x) = get("batch_size") {
        config.batch_size = x
            .as_u64()
            .filter(|&n| n > 0)
            .ok_or_else(|| bad("batch_size", x, "must be a positive integer"))?
            as usize;
    }
    if let Some(x) = get("seed") {
        config.seed = x
            .as_u64()
            .ok_or_else(|| bad("seed", x, "must be a non-negative integer"))?;
    }
    if let Some(x) = get("lr") {
        config.lr = x.as_f64().ok_or_else(|| bad("lr", x, "must be a number"))?;
    }
    if let Some(x) = get("clip") {
        config.clip = Some(
            x.as_f64()
                .ok_or_else(|| bad("clip", x, "must be a number"))?,
        );
    }
    if let Some(x) = get("optimizer") {
        config.optimizer = serde_json::from_value::<OptimizerConfig>(x.clone())
            .map_err(|e| bad("optimizer", x, &e.to_string()))?;
    }
    if let Some(x) = get("schedule") {
        config.schedule = serde_json::from_value::<ScheduleKind>(x.clone())
            .map_err(|e| bad("schedule", x, &e.to_string()))?;
    }
    if let Some(x) = get("device") {
        config.device = x
            .as_str()
            .and_then(|s| s.parse::<DeviceChoice>().ok())
            .ok_or_else(|| bad("device", x, "expected \"auto\", \"sim\" or \"ane\""))?;
    }
    if let Some(x) = get("precision") {
        config.precision = match x.as_str() {
            Some("fp16") => ane_compiler::lower::Precision::Fp16,
            Some("fp32") => ane_compiler::lower::Precision::Fp32,
            _ => return Err(bad("precision", x, "expected \"fp16\" or \"fp32\"")),
        };
    }
    if let Some(x) = get("chip") {
        let name = x
            .as_str()
            .ok_or_else(|| bad("chip", x, "expected \"m1\" … \"m5\""))?;
        config.chip = ane_trainer::trainer::config::parse_chip(name).map_err(to_py)?;
    }
    config.check().map_err(to_py)?;
    Ok(config)
}

/// `((x_train, y_train), (x_test, y_test))` of a known dataset: float32 images (flattened to
/// `[N, H·W]`, or `[N, 1, H, W]` with `flatten=False`) normalized as `normalize` says, int64
/// labels.
#[pyfunction]
#[pyo3(signature = (name, normalize="standard", flatten=true, download=true))]
#[allow(clippy::type_complexity)]
fn load_dataset<'py>(
    py: Python<'py>,
    name: &str,
    normalize: &str,
    flatten: bool,
    download: bool,
) -> PyResult<(
    (Bound<'py, PyArrayDyn<f32>>, Bound<'py, PyArray1<i64>>),
    (Bound<'py, PyArrayDyn<f32>>, Bound<'py, PyArray1<i64>>),
)> {
    let mode = match normalize {
        "none" => Normalize::None,
        "unit" => Normalize::Unit,
        "standard" => Normalize::Standard,
        other => {
            return Err(value_error(format!(
                "normalize={other:?}: expected \"none\", \"unit\" or \"standard\""
            )))
        }
    };
    let name_owned = name.to_string();
    let (train, test) = py
        .detach(move || load_arrays(&name_owned, mode, download))
        .map_err(to_py)?;
    let convert = |a: &Arrays| -> PyResult<_> {
        let features = a.features();
        let side = (features as f64).sqrt() as usize;
        let shape = if flatten || side * side != features {
            vec![a.len(), features]
        } else {
            vec![a.len(), 1, side, side]
        };
        let x = PyArray1::from_slice(py, a.x())
            .reshape(shape)?
            .to_dyn()
            .clone();
        let y = PyArray1::from_vec(py, a.y().iter().map(|&l| i64::from(l)).collect());
        Ok((x, y))
    };
    Ok((convert(&train)?, convert(&test)?))
}

/// Runs the `ane-trainer` command line with `argv` (program name first); returns its exit code.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>) -> i32 {
    let code = py.detach(move || ane_trainer_cli::main_from(argv));
    // ExitCode has no accessor; compare against the two codes the CLI uses besides its own.
    if code == std::process::ExitCode::SUCCESS {
        0
    } else if code == std::process::ExitCode::from(130) {
        130
    } else if code == std::process::ExitCode::from(2) {
        2
    } else {
        1
    }
}

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(param_specs, m)?)?;
    m.add_function(wrap_pyfunction!(init_params, m)?)?;
    m.add_function(wrap_pyfunction!(load_dataset, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add_class::<Trainer>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
