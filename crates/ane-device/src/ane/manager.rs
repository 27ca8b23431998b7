//! Kernel bookkeeping for the ANE, over any [`AneRuntime`]: the whole [`Device`] behaviour except
//! the Objective-C calls themselves.
//!
//! Compiling a kernel (ane-facts §4, in order):
//! 1. validate the buffer types ([`SurfacePlan`]) and weight paths ([`WeightsDict`]);
//! 2. if a loaded model has the same [`ProgramKey`] (MIL text + weights), share it: no compile;
//! 3. otherwise refuse if the process compile budget is spent (unless the on-disk cache has the
//!    program), create the in-memory model, read its identifier, and populate
//!    `<temp>/<identifier>/` with `model.mil` and the weight files — after clearing a directory
//!    no live model uses (left by an earlier process) and any earlier compiler output, so nothing
//!    stale can stand in for this compile;
//! 4. restore cached compiler output, or count one compile against the budget and compile;
//! 5. load, retrying once after a pause, like the reference bridge;
//! 6. read the loaded model's `modelAttributes` (when it answers) and lay each buffer out by any
//!    row stride they report ([`decide_layouts`]): dense rows when none is reported or it
//!    matches, the reported strides when they differ and can be expressed, a compile error
//!    otherwise; every decision is written to the device's notes ([`KernelManager::take_notes`]);
//! 7. give the kernel its own zero-filled surfaces and one request, reused for every run.
//!
//! Dialect ([`DialectChoice`]): [`Device::compile`] prints programs in the dialect in use,
//! converting them with [`Program::set_dialect`] when they arrive in the other one. When the
//! compiler rejects a program (creating the model or `compileWithQoS` fails) and the dialect was
//! not forced, the program is compiled once more in the other dialect; if that works, the device
//! uses the other dialect from then on and, with the disk cache enabled, records it for later
//! processes on the same chip and OS build. The retry spends one more compile of the budget, even
//! when the program would fail in any dialect. MIL text given to [`KernelManager::compile_mil`]
//! is compiled as written.
//!
//! Kernels compiled from one program share the model but not buffers: a kernel's outputs stay
//! readable until *its* next run. Releasing the last kernel of a model unloads it; the model
//! directory goes when the last model using that identifier goes ([`DirRefs`]). Every failure
//! dumps the program ([`Dumper`]) and names the dump in the error.

use super::budget::CompileBudget;
use super::config::{AneConfig, MilPrinter};
use super::dialect_choice::{
    dialect_of_mil_text, name as dialect_name, other_dialect, program_dialect, DialectChoice,
};
use super::dir_refs::{DirRefs, DirRelease};
use super::disk_cache::{remove_restored, CacheEntry, DiskCache, SaveOutcome, CACHED_FILES};
use super::dump::{DumpPolicy, Dumper};
use super::model_attributes::{decide_layouts, AttributesReport, BufferLayoutNote};
use super::model_dir::{model_dir_for, remove_model_dir, ModelDirLayout};
use super::program_key::ProgramKey;
use super::runtime::AneRuntime;
use super::surface_layout::{kernel_io_of_program, SurfacePlan};
use super::weights_dict::WeightsDict;
use crate::chip::DialectSource;
use crate::device::{Device, DeviceError, DeviceInfo, KernelId, KernelIo};
use ane_mil::{Dialect, Program, WeightFiles};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A loaded model and who uses it.
struct LoadedModel<M> {
    model: M,
    identifier: String,
    dir: PathBuf,
    /// Files written into `dir` (relative), for dumps after a run failure.
    files: Vec<String>,
    /// Live kernels compiled from this program.
    users: usize,
    /// What `modelAttributes` said after the load.
    attributes: AttributesReport,
}

/// Why a compile attempt failed: the compiler rejected the program (worth one retry in the other
/// dialect), or anything else (budget, files, loading, surfaces).
enum Failure {
    Rejected(DeviceError),
    Other(DeviceError),
}

impl Failure {
    fn into_error(self) -> DeviceError {
        match self {
            Failure::Rejected(e) | Failure::Other(e) => e,
        }
    }
}

impl From<DeviceError> for Failure {
    fn from(e: DeviceError) -> Self {
        Failure::Other(e)
    }
}

/// One compiled kernel: a shared model plus its own buffers and request.
struct Kernel<R: AneRuntime> {
    key: ProgramKey,
    io: KernelIo,
    /// The surfaces as allocated (strided where the model's attributes asked for it).
    plan: SurfacePlan,
    /// The layout decision for each buffer, inputs first.
    layout_notes: Vec<BufferLayoutNote>,
    // Field order is drop order: the request goes before the surfaces it references.
    request: R::Request,
    inputs: Vec<R::Surface>,
    outputs: Vec<R::Surface>,
}

/// The ANE device logic over a runtime.
pub struct KernelManager<R: AneRuntime> {
    runtime: R,
    info: DeviceInfo,
    dialect: Option<DialectChoice>,
    budget: CompileBudget,
    dumper: Dumper,
    disk_cache: Option<DiskCache>,
    mil_printer: Option<MilPrinter>,
    load_retry_delay: Duration,
    models: HashMap<ProgramKey, LoadedModel<R::Model>>,
    dirs: DirRefs,
    kernels: BTreeMap<KernelId, Kernel<R>>,
    next_kernel: usize,
    compiles: usize,
    warnings: Vec<String>,
    notes: Vec<String>,
}

impl<R: AneRuntime> KernelManager<R> {
    /// A manager with no kernels. `dialect` is the dialect programs are compiled in, and why
    /// (`None`: programs are compiled as given, never converted or retried). Unless it is forced,
    /// a dialect an earlier process fell back to on this platform (recorded in the disk cache)
    /// replaces it.
    pub fn new(
        runtime: R,
        info: DeviceInfo,
        config: &AneConfig,
        dialect: Option<DialectChoice>,
        budget: CompileBudget,
    ) -> Self {
        let mut manager = KernelManager {
            runtime,
            info,
            dialect,
            budget,
            dumper: config.dumper(),
            disk_cache: config.disk_cache_dir.clone().map(DiskCache::new),
            mil_printer: config.mil_printer,
            load_retry_delay: config.load_retry_delay,
            models: HashMap::new(),
            dirs: DirRefs::new(),
            kernels: BTreeMap::new(),
            next_kernel: 0,
            compiles: 0,
            warnings: Vec::new(),
            notes: Vec::new(),
        };
        manager.apply_remembered_dialect();
        manager
    }

    /// Starts in the dialect the disk cache remembers for this platform, when it differs from
    /// the one chosen and that one was not forced.
    fn apply_remembered_dialect(&mut self) {
        let (Some(choice), Some(cache)) = (self.dialect, &self.disk_cache) else {
            return;
        };
        if choice.is_forced() {
            return;
        }
        let platform = self.runtime.platform();
        match cache.remembered_dialect(platform) {
            Some(remembered) if remembered != choice.dialect => {
                self.notes.push(format!(
                    "MIL dialect {}: an earlier process on {platform} fell back to it (recorded \
                     in the compile cache at {}), replacing {} ({})",
                    dialect_name(remembered),
                    cache.root().display(),
                    dialect_name(choice.dialect),
                    choice.source.describe()
                ));
                self.dialect = Some(DialectChoice {
                    dialect: remembered,
                    source: DialectSource::RememberedFallback,
                });
            }
            _ => {}
        }
    }

    /// Compiles MIL text whose `main` function has the buffer types `io`, exactly as written
    /// (no dialect conversion or retry).
    pub fn compile_mil(
        &mut self,
        mil_text: &str,
        io: KernelIo,
        weights: &WeightFiles,
    ) -> Result<KernelId, DeviceError> {
        self.compile_text(mil_text, io, weights)
            .map_err(Failure::into_error)
    }

    fn compile_text(
        &mut self,
        mil_text: &str,
        io: KernelIo,
        weights: &WeightFiles,
    ) -> Result<KernelId, Failure> {
        let plan = SurfacePlan::for_kernel(&io)?;
        let dict = WeightsDict::new(weights)?;
        let key = ProgramKey::of(mil_text, weights);
        let fresh = !self.models.contains_key(&key);
        if fresh {
            let layout = ModelDirLayout::new(mil_text, &dict);
            let loaded = self.compile_and_load(key, mil_text, &dict, &layout)?;
            self.models.insert(key, loaded);
        }
        if let Some(m) = self.models.get_mut(&key) {
            m.users += 1;
        }
        self.create_kernel(key, io, plan, fresh)
            .inspect_err(|_| {
                // The kernel never existed; a model loaded just for it goes too. A failure to
                // tear down is secondary to the error being returned.
                let _ = self.drop_model_user(key);
            })
            .map_err(Failure::Other)
    }

    /// The dialect programs are compiled in and why (`None` when the device was given none).
    pub fn dialect_choice(&self) -> Option<DialectChoice> {
        self.dialect
    }

    /// Debug notes, oldest first; clears them: the dialect choice and any change to it, and what
    /// each newly loaded model's attributes said about every buffer's layout.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// Adds a debug note (the device's own observations, e.g. how the dialect was chosen).
    pub fn push_note(&mut self, note: String) {
        self.notes.push(note);
    }

    /// How a kernel's buffers are laid out and why, inputs first.
    pub fn layout_notes(&self, kernel: KernelId) -> Result<&[BufferLayoutNote], DeviceError> {
        Ok(&self.kernel(kernel)?.layout_notes)
    }

    /// A kernel's surfaces as allocated (strides included).
    pub fn surface_plan(&self, kernel: KernelId) -> Result<&SurfacePlan, DeviceError> {
        Ok(&self.kernel(kernel)?.plan)
    }

    /// Compiler calls made by this process, across devices.
    pub fn process_compiles(&self) -> usize {
        self.budget.used()
    }

    /// Notes about things that went wrong without failing the call (cache trouble, dump
    /// trouble, dialect mismatches), oldest first; clears them.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Loaded models (distinct programs) right now.
    pub fn loaded_models(&self) -> usize {
        self.models.len()
    }

    /// The runtime (for backend-specific queries).
    pub fn runtime(&self) -> &R {
        &self.runtime
    }

    fn compile_and_load(
        &mut self,
        key: ProgramKey,
        mil_text: &str,
        dict: &WeightsDict<'_>,
        layout: &ModelDirLayout<'_>,
    ) -> Result<LoadedModel<R::Model>, Failure> {
        let platform = self.runtime.platform().to_string();
        let cached = self
            .disk_cache
            .as_ref()
            .and_then(|c| c.lookup(&key, &platform));
        if cached.is_none() {
            // Fail before touching the framework when no compile is left.
            self.budget.check()?;
        }
        // `modelWithMILText:` returning nil means the MIL was rejected: a dialect question.
        let model = self.runtime.create_model(mil_text, dict).map_err(|m| {
            Failure::Rejected(self.failure(&key, layout, "creating the in-memory model", &m))
        })?;
        let identifier = self
            .runtime
            .model_identifier(&model)
            .map_err(|m| self.failure(&key, layout, "reading hexStringIdentifier", &m))?;
        let dir = model_dir_for(self.runtime.temp_root(), &identifier)
            .map_err(|m| self.failure(&key, layout, "naming the model directory", &m))?;
        if !self.dirs.is_live(&identifier) {
            remove_model_dir(&dir).map_err(|e| {
                self.failure(
                    &key,
                    layout,
                    "clearing a stale model directory",
                    &e.to_string(),
                )
            })?;
        }
        layout.write_into(&dir).map_err(|e| {
            self.failure(&key, layout, "writing the model directory", &e.to_string())
        })?;
        self.dirs.acquire(&identifier);
        let mut loaded = LoadedModel {
            model,
            identifier,
            dir,
            files: layout.relative_paths(),
            users: 0,
            attributes: AttributesReport::NotAnswered,
        };
        let dialect = dialect_of_mil_text(mil_text);
        if let Err(e) = self.compile_into_dir(&key, &platform, dialect, cached, &loaded, layout) {
            // Never loaded, so nothing to unload; the directory goes if no one else uses it.
            if let Err(m) = self.release_dir(&loaded.identifier, &loaded.dir) {
                self.warnings.push(m);
            }
            return Err(e);
        }
        // Step 6: only a loaded model can say how the ANE wants its buffers laid out.
        loaded.attributes =
            AttributesReport::from_runtime(self.runtime.model_attributes(&loaded.model));
        if self.dumper.policy() == DumpPolicy::EveryProgram {
            let report = format!("compiled and loaded\ndevice: {}", self.info.description);
            if let Err(e) = self.dumper.dump_layout(&key, layout, &report) {
                self.warnings
                    .push(format!("could not dump kernel program {key}: {e}"));
            }
        }
        Ok(loaded)
    }

    /// Steps 4–5: restore or compile, then load.
    fn compile_into_dir(
        &mut self,
        key: &ProgramKey,
        platform: &str,
        dialect: Option<Dialect>,
        cached: Option<CacheEntry>,
        loaded: &LoadedModel<R::Model>,
        layout: &ModelDirLayout<'_>,
    ) -> Result<(), Failure> {
        let cache = self.disk_cache.clone();
        // Earlier compiler output in a shared directory belongs to another program.
        let outputs: Vec<String> = CACHED_FILES.iter().map(|f| f.name.to_string()).collect();
        remove_restored(&loaded.dir, &outputs);
        if let (Some(cache), Some(entry)) = (&cache, cached) {
            match cache.restore(&entry, &loaded.identifier, &loaded.dir) {
                Ok(restored) => match self.load_with_retry(&loaded.model) {
                    Ok(()) => return Ok(()),
                    Err(m) => {
                        self.warnings.push(format!(
                            "cached compiler output for kernel program {key} did not load ({m}); \
                             compiling it instead"
                        ));
                        if let Err(e) = cache.invalidate(key, platform) {
                            self.warnings
                                .push(format!("could not delete the cache entry: {e}"));
                        }
                        remove_restored(&loaded.dir, &restored);
                    }
                },
                Err(m) => self.warnings.push(format!(
                    "cached compiler output for kernel program {key} not used: {m}"
                )),
            }
        }
        self.budget.reserve()?;
        self.compiles += 1;
        self.runtime
            .compile(&loaded.model)
            .map_err(|m| Failure::Rejected(self.failure(key, layout, "compileWithQoS", &m)))?;
        if let Some(cache) = &cache {
            match cache.save(key, platform, &loaded.identifier, dialect, &loaded.dir) {
                Ok(SaveOutcome::Saved(_)) => {}
                Ok(SaveOutcome::NothingToSave) => self.warnings.push(format!(
                    "the compiler left no net.plist for kernel program {key}; nothing cached"
                )),
                Err(e) => self
                    .warnings
                    .push(format!("could not cache kernel program {key}: {e}")),
            }
        }
        self.load_with_retry(&loaded.model)
            .map_err(|m| Failure::Other(self.failure(key, layout, "loadWithQoS", &m)))
    }

    fn load_with_retry(&mut self, model: &R::Model) -> Result<(), String> {
        match self.runtime.load(model) {
            Ok(()) => Ok(()),
            Err(first) => {
                std::thread::sleep(self.load_retry_delay);
                self.runtime
                    .load(model)
                    .map_err(|second| format!("{second} (first attempt: {first})"))
            }
        }
    }

    /// A compile-time error, after dumping the program.
    fn failure(
        &self,
        key: &ProgramKey,
        layout: &ModelDirLayout<'_>,
        step: &str,
        message: &str,
    ) -> DeviceError {
        let report = format!(
            "failed step: {step}\nerror: {message}\ndevice: {}",
            self.info.description
        );
        match self.dumper.dump_layout(key, layout, &report) {
            Ok(path) => DeviceError::Compile {
                message: format!(
                    "{step} failed: {message} (program dumped to {})",
                    path.display()
                ),
                dump_path: Some(path),
            },
            Err(e) => DeviceError::Compile {
                message: format!(
                    "{step} failed: {message} (could not dump the program under {}: {e})",
                    self.dumper.root().display()
                ),
                dump_path: None,
            },
        }
    }

    /// Step 6 and 7: lays the buffers out as the model's attributes say, then makes the
    /// surfaces and the request. `fresh` says the model was loaded for this kernel, so its
    /// layout notes are new.
    fn create_kernel(
        &mut self,
        key: ProgramKey,
        io: KernelIo,
        plan: SurfacePlan,
        fresh: bool,
    ) -> Result<KernelId, DeviceError> {
        let model = self.models.get(&key).ok_or_else(|| {
            DeviceError::Other(format!("kernel program {key} has no loaded model"))
        })?;
        let (plan, layout_notes) = match decide_layouts(&plan, &model.attributes) {
            Ok(decided) => decided,
            Err(m) => return Err(self.model_failure(&key, "laying out the kernel's surfaces", &m)),
        };
        if fresh {
            let general = model.attributes.general_notes(&plan);
            let per_buffer = layout_notes.iter().map(|n| n.to_string());
            let notes: Vec<String> = general
                .into_iter()
                .chain(per_buffer)
                .map(|n| format!("kernel program {key}: {n}"))
                .collect();
            self.notes.extend(notes);
        }
        let surface_error = |what: &str, m: String| DeviceError::Compile {
            message: format!("creating {what} surfaces for kernel program {key}: {m}"),
            dump_path: None,
        };
        let inputs = plan
            .inputs
            .iter()
            .map(|s| self.runtime.create_surface(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| surface_error("input", m))?;
        let outputs = plan
            .outputs
            .iter()
            .map(|s| self.runtime.create_surface(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| surface_error("output", m))?;
        let request = self
            .runtime
            .create_request(&inputs, &outputs)
            .map_err(|m| surface_error("the request binding the", m))?;
        let id = KernelId(self.next_kernel);
        self.next_kernel += 1;
        self.kernels.insert(
            id,
            Kernel {
                key,
                io,
                plan,
                layout_notes,
                request,
                inputs,
                outputs,
            },
        );
        Ok(id)
    }

    /// A compile-time error about a loaded model, after dumping its program from the model
    /// directory.
    fn model_failure(&self, key: &ProgramKey, step: &str, message: &str) -> DeviceError {
        let report = format!(
            "failed step: {step}\nerror: {message}\ndevice: {}",
            self.info.description
        );
        let (dump, dump_path) = match self.models.get(key) {
            Some(m) => match self
                .dumper
                .dump_from_model_dir(key, &m.dir, &m.files, &report)
            {
                Ok(p) => (format!("program dumped to {}", p.display()), Some(p)),
                Err(e) => (format!("could not dump the program: {e}"), None),
            },
            None => ("program not dumped: its model is gone".to_string(), None),
        };
        DeviceError::Compile {
            message: format!("{step} failed: {message} ({dump})"),
            dump_path,
        }
    }

    /// Prints `program` in `dialect` (converting a copy when it is written in another one;
    /// `None` prints it as given) and compiles the text.
    fn compile_as(
        &mut self,
        program: &Program,
        dialect: Option<Dialect>,
        io: KernelIo,
        weights: &WeightFiles,
        printer: MilPrinter,
    ) -> Result<KernelId, Failure> {
        let program = match dialect {
            Some(d) if program_dialect(program) != Some(d) => {
                let mut converted = program.clone();
                converted.set_dialect(d);
                self.notes.push(format!(
                    "program(version {}) converted to {} (program {}) before compiling",
                    program.version,
                    dialect_name(d),
                    d.program_version()
                ));
                Cow::Owned(converted)
            }
            _ => Cow::Borrowed(program),
        };
        let text = printer(&program).map_err(|m| DeviceError::Compile {
            message: format!("printing the program as MIL text: {m}"),
            dump_path: None,
        })?;
        self.compile_text(&text, io, weights)
    }

    /// After `first` was rejected and `second` compiled: use `second` from now on, and record it
    /// for later processes when the disk cache is on.
    fn adopt_fallback(&mut self, first: Dialect, second: Dialect, first_error: &DeviceError) {
        self.dialect = Some(DialectChoice {
            dialect: second,
            source: DialectSource::FallbackAfterCompileFailure,
        });
        let message = format!(
            "the compiler rejected a program in MIL dialect {} ({first_error}); it compiled in \
             {}, which this device uses from now on",
            dialect_name(first),
            dialect_name(second)
        );
        self.notes.push(message.clone());
        self.warnings.push(message);
        if let Some(cache) = &self.disk_cache {
            let platform = self.runtime.platform();
            if let Err(e) = cache.remember_dialect(platform, second) {
                self.warnings.push(format!(
                    "could not record dialect {} in the compile cache at {}: {e}",
                    dialect_name(second),
                    cache.root().display()
                ));
            }
        }
    }

    fn kernel(&self, id: KernelId) -> Result<&Kernel<R>, DeviceError> {
        self.kernels.get(&id).ok_or(DeviceError::UnknownKernel(id))
    }

    /// One kernel fewer uses `key`'s model; the last one unloads it.
    fn drop_model_user(&mut self, key: ProgramKey) -> Result<(), DeviceError> {
        let Some(m) = self.models.get_mut(&key) else {
            return Ok(());
        };
        m.users = m.users.saturating_sub(1);
        if m.users > 0 {
            return Ok(());
        }
        match self.models.remove(&key) {
            Some(m) => self.teardown(key, m),
            None => Ok(()),
        }
    }

    fn teardown(&mut self, key: ProgramKey, m: LoadedModel<R::Model>) -> Result<(), DeviceError> {
        let unload = self.runtime.unload(&m.model);
        drop(m.model);
        let dir = self.release_dir(&m.identifier, &m.dir);
        let problems: Vec<String> = [
            unload.err().map(|e| format!("unloadWithQoS failed: {e}")),
            dir.err(),
        ]
        .into_iter()
        .flatten()
        .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(DeviceError::Other(format!(
                "releasing kernel program {key}: {}",
                problems.join("; ")
            )))
        }
    }

    fn release_dir(&mut self, identifier: &str, dir: &Path) -> Result<(), String> {
        match self.dirs.release(identifier) {
            DirRelease::Last => remove_model_dir(dir)
                .map_err(|e| format!("removing model directory {}: {e}", dir.display())),
            DirRelease::StillShared(_) | DirRelease::NotHeld => Ok(()),
        }
    }

    fn run_failure(&self, id: KernelId, kernel: &Kernel<R>, message: &str) -> DeviceError {
        let report = format!(
            "failed step: evaluateWithQoS (kernel {id:?})\nerror: {message}\ndevice: {}",
            self.info.description
        );
        let dump = match self.models.get(&kernel.key) {
            Some(m) => self
                .dumper
                .dump_from_model_dir(&kernel.key, &m.dir, &m.files, &report)
                .map(|p| format!("program dumped to {}", p.display()))
                .unwrap_or_else(|e| format!("could not dump the program: {e}")),
            None => "program not dumped: its model is gone".to_string(),
        };
        let caveat = kernel
            .plan
            .size_order_caveat()
            .map(|c| format!("; {c}"))
            .unwrap_or_default();
        DeviceError::Run(format!(
            "evaluating kernel {id:?} failed: {message} ({dump}){caveat}"
        ))
    }
}

impl<R: AneRuntime> Device for KernelManager<R> {
    fn info(&self) -> DeviceInfo {
        self.info.clone()
    }

    fn compile(
        &mut self,
        program: &Program,
        weights: &WeightFiles,
    ) -> Result<KernelId, DeviceError> {
        let io = kernel_io_of_program(program)?;
        let printer = self.mil_printer.ok_or_else(|| DeviceError::Compile {
            message: "this ANE device has no MIL printer (set AneConfig::mil_printer), \
                      or pass MIL text to AneDevice::compile_mil"
                .into(),
            dump_path: None,
        })?;
        let choice = match self.dialect {
            Some(choice) if !choice.is_forced() => choice,
            Some(forced) => {
                // A forced dialect is the caller's decision: compile as given, say if it differs.
                if program_dialect(program) != Some(forced.dialect) {
                    self.warnings.push(format!(
                        "program version {} is not the forced dialect ({}: program {}); \
                         the compiler may reject it",
                        program.version,
                        forced.dialect.opset(),
                        forced.dialect.program_version()
                    ));
                }
                return self
                    .compile_as(program, None, io, weights, printer)
                    .map_err(Failure::into_error);
            }
            None => {
                return self
                    .compile_as(program, None, io, weights, printer)
                    .map_err(Failure::into_error)
            }
        };
        let first = choice.dialect;
        let first_error = match self.compile_as(program, Some(first), io.clone(), weights, printer)
        {
            Ok(kernel) => return Ok(kernel),
            Err(Failure::Other(e)) => return Err(e),
            Err(Failure::Rejected(e)) => e,
        };
        let second = other_dialect(first);
        match self.compile_as(program, Some(second), io, weights, printer) {
            Ok(kernel) => {
                self.adopt_fallback(first, second, &first_error);
                Ok(kernel)
            }
            Err(retry) => {
                let retry = retry.into_error();
                let dump_path = match &first_error {
                    DeviceError::Compile { dump_path, .. } => dump_path.clone(),
                    _ => None,
                };
                Err(DeviceError::Compile {
                    message: format!(
                        "in {}: {first_error}; retried in {}: {retry}",
                        dialect_name(first),
                        dialect_name(second)
                    ),
                    dump_path,
                })
            }
        }
    }

    fn io(&self, kernel: KernelId) -> Result<&KernelIo, DeviceError> {
        Ok(&self.kernel(kernel)?.io)
    }

    fn write_input(
        &mut self,
        kernel: KernelId,
        index: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), DeviceError> {
        let k = self
            .kernels
            .get(&kernel)
            .ok_or(DeviceError::UnknownKernel(kernel))?;
        let (spec, surface) =
            k.plan
                .inputs
                .get(index)
                .zip(k.inputs.get(index))
                .ok_or(DeviceError::NoSuchBuffer {
                    kernel,
                    what: "input",
                    index,
                })?;
        let error = |m: String| {
            DeviceError::Run(format!(
                "writing input {index} ({}) of kernel {kernel:?}: {m}",
                spec.name
            ))
        };
        if spec.layout.is_dense() {
            return self
                .runtime
                .write_surface(surface, spec.bytes, fill)
                .map_err(error);
        }
        // Strided: the caller sees dense bytes (starting from what the surface holds, as in the
        // dense case), which go back row by row under the same lock.
        let layout = spec.layout;
        let mut dense = vec![0u8; spec.bytes];
        let mut copied = Ok(());
        self.runtime
            .write_surface(surface, spec.span_bytes(), &mut |raw| {
                copied = layout.gather(raw, &mut dense).and_then(|()| {
                    fill(&mut dense);
                    layout.scatter(&dense, raw)
                });
            })
            .and(copied)
            .map_err(error)
    }

    fn run(&mut self, kernel: KernelId) -> Result<(), DeviceError> {
        let k = self
            .kernels
            .get(&kernel)
            .ok_or(DeviceError::UnknownKernel(kernel))?;
        let m = self
            .models
            .get(&k.key)
            .ok_or_else(|| DeviceError::Other(format!("kernel {kernel:?} has lost its model")))?;
        match self.runtime.evaluate(&m.model, &k.request) {
            Ok(()) => Ok(()),
            Err(message) => Err(self.run_failure(kernel, k, &message)),
        }
    }

    fn read_output(
        &mut self,
        kernel: KernelId,
        index: usize,
        read: &mut dyn FnMut(&[u8]),
    ) -> Result<(), DeviceError> {
        let k = self
            .kernels
            .get(&kernel)
            .ok_or(DeviceError::UnknownKernel(kernel))?;
        let (spec, surface) = k.plan.outputs.get(index).zip(k.outputs.get(index)).ok_or(
            DeviceError::NoSuchBuffer {
                kernel,
                what: "output",
                index,
            },
        )?;
        let error = |m: String| {
            DeviceError::Run(format!(
                "reading output {index} ({}) of kernel {kernel:?}: {m}",
                spec.name
            ))
        };
        if spec.layout.is_dense() {
            return self
                .runtime
                .read_surface(surface, spec.bytes, read)
                .map_err(error);
        }
        let layout = spec.layout;
        let mut dense = vec![0u8; spec.bytes];
        let mut copied = Ok(());
        self.runtime
            .read_surface(surface, spec.span_bytes(), &mut |raw| {
                copied = layout.gather(raw, &mut dense);
            })
            .and(copied)
            .map_err(error)?;
        read(&dense);
        Ok(())
    }

    fn release(&mut self, kernel: KernelId) -> Result<(), DeviceError> {
        let k = self
            .kernels
            .remove(&kernel)
            .ok_or(DeviceError::UnknownKernel(kernel))?;
        let key = k.key;
        // Buffers and request go before the model may be unloaded.
        drop(k);
        self.drop_model_user(key)
    }

    fn compile_count(&self) -> usize {
        self.compiles
    }
}

impl<R: AneRuntime> Drop for KernelManager<R> {
    fn drop(&mut self) {
        self.kernels.clear();
        let models: Vec<_> = self.models.drain().collect();
        for (key, m) in models {
            // Nobody is left to report to; teardown is best effort.
            let _ = self.teardown(key, m);
        }
    }
}

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;
