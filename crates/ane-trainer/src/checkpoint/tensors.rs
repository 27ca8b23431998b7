//! Reading and writing tensors in the safetensors format (via the `safetensors` crate), with the
//! checks a checkpoint needs: exactly the expected names, fp32 dtype, the expected shapes.
//!
//! Files hold little-endian, row-major ("C") data; shapes are PyTorch's, so
//! `safetensors.torch.load_file` returns tensors that `load_state_dict` accepts.

use super::CheckpointError;
use half::{bf16, f16};
use safetensors::tensor::{Dtype, SafeTensors, TensorView, View};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// An fp32 tensor borrowed for serialization.
pub(crate) struct F32Tensor<'a> {
    pub shape: Vec<usize>,
    pub data: &'a [f32],
}

impl View for F32Tensor<'_> {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        if cfg!(target_endian = "little") {
            Cow::Borrowed(bytemuck::cast_slice(self.data))
        } else {
            Cow::Owned(self.data.iter().flat_map(|x| x.to_le_bytes()).collect())
        }
    }

    fn data_len(&self) -> usize {
        std::mem::size_of_val(self.data)
    }
}

/// Serializes named fp32 tensors into safetensors bytes, tagged `"format": "pt"` in the header's
/// metadata like PyTorch-exported files.
pub(crate) fn encode_f32<'a>(
    file: &Path,
    tensors: Vec<(String, F32Tensor<'a>)>,
) -> Result<Vec<u8>, CheckpointError> {
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize(tensors, Some(metadata)).map_err(|e| CheckpointError::BadSafetensors {
        file: file.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Parses a safetensors buffer, checking its header and that the data section matches it
/// exactly (a truncated or padded file is rejected).
pub(crate) fn parse<'a>(file: &Path, bytes: &'a [u8]) -> Result<SafeTensors<'a>, CheckpointError> {
    SafeTensors::deserialize(bytes).map_err(|e| CheckpointError::BadSafetensors {
        file: file.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Reads exactly the `expected` fp32 tensors (name, shape), in that order. Any missing tensor,
/// tensor of another dtype or shape, or tensor not in `expected` is an error.
pub(crate) fn read_exact_f32(
    file: &Path,
    st: &SafeTensors<'_>,
    expected: &[(String, Vec<usize>)],
) -> Result<Vec<Vec<f32>>, CheckpointError> {
    let wanted: BTreeSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    let mut present: Vec<&str> = st.names();
    present.sort_unstable();
    if let Some(extra) = present.iter().find(|n| !wanted.contains(**n)) {
        return Err(CheckpointError::UnexpectedTensor {
            file: file.to_path_buf(),
            name: extra.to_string(),
        });
    }
    expected
        .iter()
        .map(|(name, shape)| {
            let view = st
                .tensor(name)
                .map_err(|_| CheckpointError::MissingTensor {
                    file: file.to_path_buf(),
                    name: name.clone(),
                })?;
            if view.dtype() != Dtype::F32 {
                return Err(CheckpointError::WrongDtype {
                    file: file.to_path_buf(),
                    name: name.clone(),
                    found: view.dtype().to_string(),
                    expected: "F32",
                });
            }
            check_shape(file, name, &view, shape)?;
            Ok(decode_f32(view.data()))
        })
        .collect()
}

/// Converts a tensor of any floating dtype (F32, F16, BF16, F64) to f32 values; other dtypes are
/// an error naming the tensor.
pub(crate) fn to_f32_any(
    file: &Path,
    name: &str,
    view: &TensorView<'_>,
) -> Result<Vec<f32>, CheckpointError> {
    let data = view.data();
    Ok(match view.dtype() {
        Dtype::F32 => decode_f32(data),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8-byte chunk")) as f32)
            .collect(),
        other => {
            return Err(CheckpointError::WrongDtype {
                file: file.to_path_buf(),
                name: name.to_string(),
                found: other.to_string(),
                expected: "a floating type (F32, F16, BF16 or F64)",
            })
        }
    })
}

/// Fails unless the tensor has exactly the expected shape.
pub(crate) fn check_shape(
    file: &Path,
    name: &str,
    view: &TensorView<'_>,
    expected: &[usize],
) -> Result<(), CheckpointError> {
    if view.shape() == expected {
        Ok(())
    } else {
        Err(CheckpointError::WrongShape {
            file: file.to_path_buf(),
            name: name.to_string(),
            expected: expected.to_vec(),
            found: view.shape().to_vec(),
        })
    }
}

fn decode_f32(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().expect("4-byte chunk")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> &'static Path {
        Path::new("t.safetensors")
    }

    fn encoded() -> Vec<u8> {
        let a = [1.0f32, -2.0, 3.5, 0.25, 5.0, 6.0];
        let b = [7.0f32];
        encode_f32(
            file(),
            vec![
                (
                    "a".to_string(),
                    F32Tensor {
                        shape: vec![2, 3],
                        data: &a,
                    },
                ),
                (
                    "b".to_string(),
                    F32Tensor {
                        shape: vec![1],
                        data: &b,
                    },
                ),
            ],
        )
        .unwrap()
    }

    fn expect(list: &[(&str, &[usize])]) -> Vec<(String, Vec<usize>)> {
        list.iter()
            .map(|(n, s)| (n.to_string(), s.to_vec()))
            .collect()
    }

    #[test]
    fn round_trip_in_requested_order() {
        let bytes = encoded();
        let st = parse(file(), &bytes).unwrap();
        let got = read_exact_f32(file(), &st, &expect(&[("b", &[1]), ("a", &[2, 3])])).unwrap();
        assert_eq!(got, vec![vec![7.0], vec![1.0, -2.0, 3.5, 0.25, 5.0, 6.0]]);
    }

    #[test]
    fn names_shapes_and_extras_are_checked() {
        let bytes = encoded();
        let st = parse(file(), &bytes).unwrap();
        let err = read_exact_f32(
            file(),
            &st,
            &expect(&[("a", &[2, 3]), ("b", &[1]), ("c", &[1])]),
        );
        assert!(matches!(err, Err(CheckpointError::MissingTensor { ref name, .. }) if name == "c"));
        let err = read_exact_f32(file(), &st, &expect(&[("a", &[3, 2]), ("b", &[1])]));
        assert!(
            matches!(err, Err(CheckpointError::WrongShape { ref found, .. }) if found == &[2, 3])
        );
        let err = read_exact_f32(file(), &st, &expect(&[("a", &[2, 3])]));
        assert!(
            matches!(err, Err(CheckpointError::UnexpectedTensor { ref name, .. }) if name == "b")
        );
    }

    #[test]
    fn wrong_dtype_is_rejected_for_checkpoints_but_converted_for_init() {
        let halfs: Vec<u8> = [1.5f32, -0.5]
            .iter()
            .flat_map(|&x| f16::from_f32(x).to_le_bytes())
            .collect();
        let view = TensorView::new(Dtype::F16, vec![2], &halfs).unwrap();
        let bytes = safetensors::serialize([("h", view)], None).unwrap();
        let st = parse(file(), &bytes).unwrap();
        let err = read_exact_f32(file(), &st, &expect(&[("h", &[2])]));
        assert!(matches!(err, Err(CheckpointError::WrongDtype { .. })));
        let view = st.tensor("h").unwrap();
        assert_eq!(to_f32_any(file(), "h", &view).unwrap(), vec![1.5, -0.5]);

        let ints = [1u8, 2];
        let view = TensorView::new(Dtype::U8, vec![2], &ints).unwrap();
        let bytes = safetensors::serialize([("i", view)], None).unwrap();
        let st = parse(file(), &bytes).unwrap();
        assert!(to_f32_any(file(), "i", &st.tensor("i").unwrap()).is_err());
    }

    #[test]
    fn truncated_or_garbage_files_are_rejected() {
        let bytes = encoded();
        for cut in [0, 4, 8, 20, bytes.len() - 1] {
            let err = parse(file(), &bytes[..cut]);
            assert!(
                matches!(err, Err(CheckpointError::BadSafetensors { .. })),
                "cut at {cut}"
            );
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert!(parse(file(), &padded).is_err());
        let mut garbage = bytes;
        garbage[9] = b'!';
        assert!(parse(file(), &garbage).is_err());
    }
}
