//! The weights dictionary handed to `modelWithMILText:weights:optionsPlist:`, as plain Rust data.
//!
//! ane-facts §4 step 1: one entry per weight file, keyed by the path the program uses
//! (`@model_path/weights/wq.bin`), whose value is `{"offset": NSNumber(0), "data": NSData(whole
//! file)}`. With no weights the dictionary is EMPTY, never nil (nil compiles "silently wrong").
//! The macOS backend turns this structure into an `NSDictionary` without further decisions.
//!
//! Paths are validated here, because step 3 writes each file to `<model dir>/<path minus
//! @model_path/>`: a path that escapes the directory or replaces a file the compiler owns is a
//! user error, reported before anything touches the disk.

use crate::device::DeviceError;
use ane_mil::weights::MODEL_PATH_PREFIX;
use ane_mil::WeightFiles;

/// The value of the `offset` key of every entry. The reference code passes 0 almost everywhere
/// (one probe passed 64 with a Core ML blob; both worked, meaning unknown — ane-facts §3).
pub const WEIGHT_ENTRY_OFFSET: u64 = 0;

/// Dictionary key of the offset number.
pub const OFFSET_KEY: &str = "offset";
/// Dictionary key of the file bytes.
pub const DATA_KEY: &str = "data";

/// Names in the model directory that belong to the compiler or to the MIL text, which no weight
/// file may take: `model.mil` (the program), `net.plist` and `data` (compiler output, PR #22).
pub const RESERVED_NAMES: [&str; 3] = ["model.mil", "net.plist", "data"];

/// One weight file as the framework sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightsDictEntry<'a> {
    /// The dictionary key: the path exactly as the program writes it.
    pub key: &'a str,
    /// Where the file goes inside the model directory (`weights/wq.bin`).
    pub relative_path: &'a str,
    /// The `offset` number.
    pub offset: u64,
    /// The whole file.
    pub data: &'a [u8],
}

/// All entries, in path order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeightsDict<'a> {
    entries: Vec<WeightsDictEntry<'a>>,
}

impl<'a> WeightsDict<'a> {
    /// Builds and validates the dictionary for `weights`.
    pub fn new(weights: &'a WeightFiles) -> Result<Self, DeviceError> {
        let entries = weights
            .iter()
            .map(|(key, data)| {
                Ok(WeightsDictEntry {
                    key,
                    relative_path: relative_weight_path(key)?,
                    offset: WEIGHT_ENTRY_OFFSET,
                    data,
                })
            })
            .collect::<Result<Vec<_>, DeviceError>>()?;
        Ok(WeightsDict { entries })
    }

    /// The entries, in path order.
    pub fn entries(&self) -> &[WeightsDictEntry<'a>] {
        &self.entries
    }

    /// Number of entries (0 still means an empty dictionary is passed, never nil).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no weight files.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total bytes of all files.
    pub fn total_bytes(&self) -> usize {
        self.entries.iter().map(|e| e.data.len()).sum()
    }
}

/// The path of a weight file inside the model directory, checked to stay inside it.
pub fn relative_weight_path(key: &str) -> Result<&str, DeviceError> {
    let bad = |why: &str| DeviceError::Compile {
        message: format!("weight file path {key:?} {why}"),
        dump_path: None,
    };
    let rel = key
        .strip_prefix(MODEL_PATH_PREFIX)
        .ok_or_else(|| bad(&format!("must start with {MODEL_PATH_PREFIX:?}")))?;
    if rel.is_empty() {
        return Err(bad("names no file"));
    }
    if rel.contains('\\') || rel.contains('\0') {
        return Err(bad("contains a backslash or NUL"));
    }
    for component in rel.split('/') {
        match component {
            "" => {
                return Err(bad(
                    "has an empty component (leading, trailing or double '/')",
                ))
            }
            "." | ".." => return Err(bad("has a '.' or '..' component")),
            _ => {}
        }
    }
    if RESERVED_NAMES.contains(&rel) {
        return Err(bad(&format!(
            "would overwrite {rel:?}, which the compiler owns in the model directory"
        )));
    }
    Ok(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_carry_key_relative_path_zero_offset_and_bytes() {
        let mut w = WeightFiles::new();
        w.insert("@model_path/weights/wq.bin", vec![7u8; 192]);
        w.insert("@model_path/weights/mask.bin", vec![1u8; 130]);
        let dict = WeightsDict::new(&w).unwrap();
        assert_eq!(dict.len(), 2);
        assert_eq!(dict.total_bytes(), 322);
        let e = &dict.entries()[0];
        assert_eq!(e.key, "@model_path/weights/mask.bin");
        assert_eq!(e.relative_path, "weights/mask.bin");
        assert_eq!(e.offset, 0);
        assert_eq!(e.data.len(), 130);
        assert_eq!(dict.entries()[1].relative_path, "weights/wq.bin");
        assert_eq!(dict.entries()[1].data, &[7u8; 192][..]);
    }

    #[test]
    fn no_weights_gives_an_empty_dictionary() {
        let w = WeightFiles::new();
        let dict = WeightsDict::new(&w).unwrap();
        assert!(dict.is_empty());
        assert_eq!(dict.total_bytes(), 0);
    }

    #[test]
    fn nested_and_top_level_paths_are_allowed() {
        assert_eq!(
            relative_weight_path("@model_path/weights/layer0/w.bin").unwrap(),
            "weights/layer0/w.bin"
        );
        assert_eq!(relative_weight_path("@model_path/w.bin").unwrap(), "w.bin");
    }

    #[test]
    fn unsafe_or_colliding_paths_are_errors() {
        for (key, needle) in [
            ("weights/w.bin", "must start with"),
            ("/tmp/w.bin", "must start with"),
            ("@model_path/", "names no file"),
            ("@model_path/../escape.bin", "'..'"),
            ("@model_path/weights/../../x", "'..'"),
            ("@model_path/./w.bin", "'.'"),
            ("@model_path//w.bin", "empty component"),
            ("@model_path/weights/", "empty component"),
            ("@model_path/weights\\w.bin", "backslash"),
            ("@model_path/model.mil", "compiler owns"),
            ("@model_path/net.plist", "compiler owns"),
            ("@model_path/data", "compiler owns"),
        ] {
            match relative_weight_path(key) {
                Err(DeviceError::Compile { message, .. }) => {
                    assert!(message.contains(needle), "{key}: {message}")
                }
                other => panic!("{key}: expected an error, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_bad_path_fails_the_whole_dictionary() {
        let mut w = WeightFiles::new();
        w.insert("@model_path/weights/ok.bin", vec![0]);
        w.insert("@model_path/../bad.bin", vec![0]);
        assert!(WeightsDict::new(&w).is_err());
    }
}
