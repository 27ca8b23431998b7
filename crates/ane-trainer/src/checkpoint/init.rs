//! `--init FILE`: initialize a model from the weights of any safetensors file with matching
//! names (e.g. a checkpoint's `model.safetensors`, or a PyTorch `state_dict` saved with
//! `safetensors.torch.save_file`).
//!
//! Rules:
//! * a tensor whose name matches a parameter must have the same shape (else an error); F32,
//!   F16, BF16 and F64 tensors are accepted and converted to fp32;
//! * a parameter with no tensor in the file is an error unless `allow_missing` is set —
//!   silently keeping a random initialization is a classic fine-tuning bug, so the caller
//!   must opt in (e.g. to replace a classifier head); missing names are listed either way;
//! * tensors the model does not use are reported, not an error (files often carry extra
//!   buffers or heads).
//!
//! `path` may also be a checkpoint directory, whose `model.safetensors` is then read.

use super::tensors::{check_shape, parse, to_f32_any};
use super::{CheckpointError, MODEL_FILE};
use crate::params::ParamStore;
use std::path::Path;

/// What [`load_init_weights`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InitReport {
    /// Parameters initialized from the file, in store order.
    pub loaded: Vec<String>,
    /// Parameters with no tensor in the file (kept their current values).
    pub missing: Vec<String>,
    /// Tensors in the file that match no parameter, sorted.
    pub unused: Vec<String>,
}

/// Copies weights from the safetensors file (or checkpoint directory) at `path` into `params`.
/// Validates every tensor before changing anything.
pub fn load_init_weights(
    path: &Path,
    params: &mut ParamStore,
    allow_missing: bool,
) -> Result<InitReport, CheckpointError> {
    let file = if path.is_dir() {
        path.join(MODEL_FILE)
    } else {
        path.to_path_buf()
    };
    // Bounded, and refused for anything but a regular file (`--init /dev/zero`).
    let bytes = ane_mil::file::read_weight_file(&file)?;
    let st = parse(&file, &bytes)?;
    let mut report = InitReport::default();
    let mut values = Vec::new();
    for p in params.params() {
        match st.tensor(p.name()) {
            Ok(view) => {
                check_shape(&file, p.name(), &view, p.shape())?;
                let v = to_f32_any(&file, p.name(), &view)?;
                // Caught here, by name: otherwise the run would later fail as "diverged".
                if let Some(index) = v.iter().position(|x| !x.is_finite()) {
                    return Err(CheckpointError::NonFiniteWeight {
                        file,
                        name: p.name().to_string(),
                        index,
                        value: v[index],
                    });
                }
                values.push(Some(v));
                report.loaded.push(p.name().to_string());
            }
            Err(_) => {
                values.push(None);
                report.missing.push(p.name().to_string());
            }
        }
    }
    if !report.missing.is_empty() && !allow_missing {
        return Err(CheckpointError::MissingWeights {
            file,
            names: report.missing,
        });
    }
    let mut unused: Vec<String> = st
        .names()
        .into_iter()
        .filter(|n| params.get(n).is_none())
        .map(str::to_string)
        .collect();
    unused.sort();
    report.unused = unused;
    for (p, v) in params.params_mut().iter_mut().zip(values) {
        if let Some(v) = v {
            p.set_master(&v)?;
        }
    }
    Ok(report)
}
