//! The set of weight files a program's `BLOBFILE` references point into.

use std::collections::BTreeMap;

/// Weight files by the path a program uses for them (`@model_path/weights/w.bin` → file bytes).
///
/// This is what the ANE's in-memory compiler receives as its weights dictionary, and what the
/// simulator resolves `BLOBFILE` constants against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeightFiles {
    files: BTreeMap<String, Vec<u8>>,
}

/// The prefix programs use for paths relative to the model directory.
pub const MODEL_PATH_PREFIX: &str = "@model_path/";

impl WeightFiles {
    /// No files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the file at `path` (as written in the program).
    pub fn insert(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        self.files.insert(path.into(), bytes);
    }

    /// The bytes of the file at `path`.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// Iterates over `(path, bytes)` in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The path relative to the model directory (`weights/w.bin` for
    /// `@model_path/weights/w.bin`); paths without the prefix are returned unchanged.
    pub fn relative_path(path: &str) -> &str {
        path.strip_prefix(MODEL_PATH_PREFIX).unwrap_or(path)
    }
}

impl WeightFiles {
    /// Reads from disk every weight file that `program`'s `BLOBFILE` references name, resolving
    /// `@model_path/` against `model_dir` (paths without the prefix are taken relative to
    /// `model_dir` too). Returns the files read and, separately, the paths that could not be
    /// read with the reason, so a checker can report them all.
    ///
    /// Reads through [`crate::file::read_weight_file`]: a path that is not a regular file
    /// (`/dev/zero`, a FIFO, a directory) or is larger than
    /// [`crate::file::MAX_WEIGHT_FILE_BYTES`] is refused without reading it. The reasons leave
    /// out the path (the caller names it).
    pub fn load_referenced(
        program: &crate::Program,
        model_dir: &std::path::Path,
    ) -> (WeightFiles, Vec<(String, std::io::Error)>) {
        let mut files = WeightFiles::new();
        let mut missing = Vec::new();
        for path in referenced_paths(program) {
            let on_disk = model_dir.join(Self::relative_path(&path));
            match crate::file::read_weight_file(&on_disk) {
                Ok(bytes) => files.insert(path, bytes),
                Err(e) => missing.push((path, e.into_io_error())),
            }
        }
        (files, missing)
    }
}

/// Every distinct `BLOBFILE` path in a program, in first-use order.
pub fn referenced_paths(program: &crate::Program) -> Vec<String> {
    use crate::{Argument, Binding, Value};
    let mut paths: Vec<String> = Vec::new();
    let mut note = |v: &Value| {
        if let Value::Blob(b) = v {
            if !paths.contains(&b.path) {
                paths.push(b.path.clone());
            }
        }
    };
    for f in &program.functions {
        for op in &f.body {
            op.attributes.values().for_each(&mut note);
            for arg in op.inputs.values() {
                let bindings: &[Binding] = match arg {
                    Argument::Single(b) => std::slice::from_ref(b),
                    Argument::Tuple(bs) => bs,
                };
                for b in bindings {
                    if let Binding::Value(v) = b {
                        note(v);
                    }
                }
            }
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_device_named_as_a_weight_file_is_refused_without_reading() {
        // `BLOBFILE(path = "/dev/zero")` once made checkers read forever.
        let program = crate::parse(
            r#"program(1.3)
{
    func main<ios18>(tensor<fp16, [2]> x) {
        tensor<fp16, [2]> w = const()[name = string("w"), val = tensor<fp16, [2]>(BLOBFILE(path = string("/dev/zero"), offset = uint64(64)))];
        tensor<fp16, [2]> y = add(x = x, y = w)[name = string("y")];
    } -> (y);
}"#,
        )
        .unwrap();
        let (files, missing) = WeightFiles::load_referenced(&program, std::path::Path::new("."));
        assert!(files.is_empty());
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].0, "/dev/zero");
        assert_eq!(
            missing[0].1.to_string(),
            "is a character device, not a regular file"
        );
    }
}
