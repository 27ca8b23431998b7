//! `ane-trainer mil run PROG.mil --input NAME=FILE.npy … --output DIR`: runs a program on the
//! simulator. Weight files named by `BLOBFILE` paths are loaded from disk (`@model_path/` stands
//! for `--model-path`, by default the directory holding the program); every input must be given
//! as a `.npy` file of the declared shape and a compatible dtype; each output is written as
//! `DIR/NAME.npy`.

use ane_mil::program::{Argument, Binding};
use ane_mil::{Program, Value, WeightFiles};
use ane_sim::{SimOptions, Simulator};
use ane_trainer::npy::{read_npy_file, write_npy_file, NpyArray};
use anyhow::{bail, Context};
use clap::Args;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `mil run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The MIL text file.
    program: PathBuf,
    /// The directory `@model_path` stands for in BLOBFILE paths (default: the program's
    /// directory).
    #[arg(long)]
    model_path: Option<PathBuf>,
    /// An input as NAME=FILE.npy; give one for every function input.
    #[arg(long = "input", value_name = "NAME=FILE.npy")]
    inputs: Vec<String>,
    /// The directory to write the outputs to (created if needed), one NAME.npy per output.
    #[arg(long, value_name = "DIR")]
    output: PathBuf,
    /// Compute fp32 tensors the ANE way (rounded to fp16 after every op).
    #[arg(long)]
    ane_fp32: bool,
    /// The function to run (default: main).
    #[arg(long)]
    function: Option<String>,
}

/// Every BLOBFILE path the program references, as written.
fn blob_paths(program: &Program) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let mut add = |v: &Value| {
        if let Value::Blob(b) = v {
            paths.insert(b.path.clone());
        }
    };
    for op in program.functions.iter().flat_map(|f| &f.body) {
        op.attributes.values().for_each(&mut add);
        for arg in op.inputs.values() {
            let bindings: &[Binding] = match arg {
                Argument::Single(b) => std::slice::from_ref(b),
                Argument::Tuple(items) => items,
            };
            for b in bindings {
                if let Binding::Value(v) = b {
                    add(v);
                }
            }
        }
    }
    paths
}

/// Loads every referenced weight file: `@model_path/x` and relative paths from `model_dir`.
fn load_weights(program: &Program, model_dir: &Path) -> anyhow::Result<WeightFiles> {
    let mut weights = WeightFiles::new();
    for path in blob_paths(program) {
        let relative = WeightFiles::relative_path(&path);
        let file = if Path::new(relative).is_absolute() {
            PathBuf::from(relative)
        } else {
            model_dir.join(relative)
        };
        let bytes = ane_mil::file::read_weight_file(&file).with_context(|| {
            format!(
                "cannot read weight file {} (referenced as \"{path}\")",
                file.display()
            )
        })?;
        weights.insert(path, bytes);
    }
    Ok(weights)
}

/// `NAME=FILE` pairs, each name once.
fn parse_inputs(specs: &[String]) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let mut inputs = BTreeMap::new();
    for spec in specs {
        let Some((name, file)) = spec.split_once('=') else {
            bail!("--input {spec:?}: expected NAME=FILE.npy");
        };
        if name.is_empty() || file.is_empty() {
            bail!("--input {spec:?}: expected NAME=FILE.npy");
        }
        if inputs
            .insert(name.to_string(), PathBuf::from(file))
            .is_some()
        {
            bail!("input `{name}` is given twice");
        }
    }
    Ok(inputs)
}

/// Runs `mil run`.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let file = &args.program;
    let text = ane_mil::file::read_program_text(file)?;
    let program = ane_mil::parse(&text).map_err(|e| anyhow::anyhow!("{}:{e}", file.display()))?;
    let model_dir = match &args.model_path {
        Some(dir) => dir.clone(),
        None => file.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let weights = load_weights(&program, &model_dir)?;
    let options = SimOptions {
        fp32_like_ane: args.ane_fp32,
        function: args.function.clone(),
        ..SimOptions::default()
    };
    let mut prepared = Simulator::prepare(&program, &weights, options)
        .with_context(|| format!("cannot prepare {}", file.display()))?;
    let mut given = parse_inputs(&args.inputs)?;
    let declared: Vec<_> = prepared.inputs().to_vec();
    let missing: Vec<&str> = declared
        .iter()
        .filter(|d| !given.contains_key(&d.name))
        .map(|d| d.name.as_str())
        .collect();
    if !missing.is_empty() {
        bail!(
            "missing input(s): {} (give each as --input NAME=FILE.npy)",
            missing.join(", ")
        );
    }
    for desc in &declared {
        let Some(path) = given.remove(&desc.name) else {
            continue;
        };
        let name = &desc.name;
        let array =
            read_npy_file(&path).with_context(|| format!("input `{name}`: {}", path.display()))?;
        let shape = desc.ty.known_shape().unwrap_or_default();
        if array.shape != shape {
            bail!(
                "input `{name}`: {} has shape {:?} but the program declares {}",
                path.display(),
                array.shape,
                desc.ty
            );
        }
        let bytes = array.to_mil_bytes(desc.ty.dtype).with_context(|| {
            format!("input `{name}` ({}, declared {})", path.display(), desc.ty)
        })?;
        prepared.set_input_bytes(name, &bytes)?;
    }
    if !given.is_empty() {
        let extra: Vec<&str> = given.keys().map(String::as_str).collect();
        let names: Vec<&str> = declared.iter().map(|d| d.name.as_str()).collect();
        bail!(
            "unknown input(s): {} (the program takes: {})",
            extra.join(", "),
            names.join(", ")
        );
    }
    prepared.run()?;
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    for desc in prepared.outputs().to_vec() {
        let bytes = prepared.output_bytes(&desc.name)?;
        let array = NpyArray::from_mil_bytes(
            desc.ty.dtype,
            desc.ty.known_shape().unwrap_or_default(),
            &bytes,
        )
        .with_context(|| format!("output `{}`", desc.name))?;
        let path = args.output.join(format!("{}.npy", desc.name));
        write_npy_file(&path, &array)?;
        println!("{}: {} {}", path.display(), desc.ty, array.data.descr());
    }
    Ok(ExitCode::SUCCESS)
}
