//! Writing a model's weights alone as one safetensors file (library users exporting a trained
//! model; the counterpart of [`load_init_weights`](super::load_init_weights)).

use super::atomic::{parent_of, write_file_atomic};
use super::save::model_tensors;
use super::tensors::encode_f32;
use super::CheckpointError;
use crate::params::ParamStore;
use std::path::Path;

/// Writes the fp32 master weights of `params` to the safetensors file `path` under their
/// PyTorch names and layouts, atomically (temporary file, fsync, rename): an existing file is
/// replaced only by a complete new one.
pub fn save_weights(params: &ParamStore, path: &Path) -> Result<(), CheckpointError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| CheckpointError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the weights file needs a UTF-8 file name",
            ),
        })?;
    let bytes = encode_f32(path, model_tensors(params))?;
    write_file_atomic(parent_of(path), name, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::load_init_weights;

    fn store(values: &[f32]) -> ParamStore {
        ParamStore::from_tensors([
            ("0.weight", vec![2, 2], values[..4].to_vec()),
            ("0.bias", vec![2], values[4..].to_vec()),
        ])
        .unwrap()
    }

    #[test]
    fn saved_weights_load_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let saved = store(&[1.0, -2.5, 3.25, f32::MIN_POSITIVE, 0.5, -0.0]);
        save_weights(&saved, &path).unwrap();
        let mut loaded = store(&[0.0; 6]);
        let report = load_init_weights(&path, &mut loaded, false).unwrap();
        assert_eq!(report.loaded, ["0.weight", "0.bias"]);
        for (a, b) in saved.params().iter().zip(loaded.params()) {
            let bits = |p: &crate::params::Param| -> Vec<u32> {
                p.master().iter().map(|x| x.to_bits()).collect()
            };
            assert_eq!(bits(a), bits(b));
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope").join("w.safetensors");
        let err = save_weights(&store(&[0.0; 6]), &path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
    }
}
