//! The model directory `NSTemporaryDirectory()/<hexStringIdentifier>/` and what goes in it.
//!
//! ane-facts §4 step 3: before `compileWithQoS:` the directory must already hold `model.mil` (the
//! MIL bytes) and every weight file at its key minus `@model_path/` (with `weights/` created); the
//! compiler then adds `net.plist` (and `data` for programs with BLOBFILE weights). The same layout
//! is what a dump directory holds, so a dumped program can be recompiled by hand.

use super::weights_dict::WeightsDict;
use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

/// The file holding the MIL text.
pub const MIL_FILE_NAME: &str = "model.mil";
/// The directory every reference bridge creates for weight files, even when there are none.
pub const WEIGHTS_DIR_NAME: &str = "weights";

/// One file of a model directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDirFile<'a> {
    /// Path relative to the model directory, `/`-separated.
    pub relative_path: &'a str,
    pub bytes: &'a [u8],
}

/// Every file and directory a program's model directory needs before compiling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDirLayout<'a> {
    files: Vec<ModelDirFile<'a>>,
}

impl<'a> ModelDirLayout<'a> {
    /// The layout for `mil_text` and its (validated) weights: `model.mil` first, then each weight
    /// file in path order.
    pub fn new(mil_text: &'a str, weights: &WeightsDict<'a>) -> Self {
        let mut files = vec![ModelDirFile {
            relative_path: MIL_FILE_NAME,
            bytes: mil_text.as_bytes(),
        }];
        files.extend(weights.entries().iter().map(|e| ModelDirFile {
            relative_path: e.relative_path,
            bytes: e.data,
        }));
        ModelDirLayout { files }
    }

    /// The files, `model.mil` first.
    pub fn files(&self) -> &[ModelDirFile<'a>] {
        &self.files
    }

    /// The relative paths of every file.
    pub fn relative_paths(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|f| f.relative_path.to_string())
            .collect()
    }

    /// Directories to create, parents before children: `weights` always, plus the parent of
    /// every nested weight file.
    pub fn directories(&self) -> Vec<String> {
        let mut dirs = BTreeSet::from([WEIGHTS_DIR_NAME.to_string()]);
        for f in &self.files {
            let mut parent = Path::new(f.relative_path).parent();
            while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
                dirs.insert(p.to_string_lossy().replace('\\', "/"));
                parent = p.parent();
            }
        }
        // BTreeSet order puts "a" before "a/b": parents first.
        dirs.into_iter().collect()
    }

    /// Creates `dir` (and its parents) and writes every file into it.
    pub fn write_into(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for d in self.directories() {
            std::fs::create_dir_all(dir.join(&d))?;
        }
        for f in &self.files {
            std::fs::write(dir.join(f.relative_path), f.bytes)?;
        }
        Ok(())
    }
}

/// `root/<identifier>`, after checking that the identifier is one plain path component (it comes
/// from the framework, so a surprise would otherwise make us write or delete elsewhere).
pub fn model_dir_for(root: &Path, identifier: &str) -> Result<PathBuf, String> {
    let plain = !identifier.is_empty()
        && identifier != "."
        && identifier != ".."
        && identifier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if plain {
        Ok(root.join(identifier))
    } else {
        Err(format!(
            "the framework's model identifier {identifier:?} is not a plain directory name"
        ))
    }
}

/// Deletes `dir` and everything in it; a directory that is already gone is fine.
pub fn remove_model_dir(dir: &Path) -> io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ane_mil::WeightFiles;

    fn weights(files: &[(&str, &[u8])]) -> WeightFiles {
        let mut w = WeightFiles::new();
        for (p, b) in files {
            w.insert(*p, b.to_vec());
        }
        w
    }

    #[test]
    fn layout_lists_model_mil_then_weights_at_their_relative_paths() {
        let w = weights(&[
            ("@model_path/weights/wq.bin", b"WQ"),
            ("@model_path/weights/l0/mask.bin", b"MASK"),
        ]);
        let dict = WeightsDict::new(&w).unwrap();
        let layout = ModelDirLayout::new("program(1.3)", &dict);
        assert_eq!(
            layout.relative_paths(),
            ["model.mil", "weights/l0/mask.bin", "weights/wq.bin"]
        );
        assert_eq!(layout.files()[0].bytes, b"program(1.3)");
        assert_eq!(layout.directories(), ["weights", "weights/l0"]);
    }

    #[test]
    fn weights_dir_is_created_even_without_weights() {
        let w = WeightFiles::new();
        let dict = WeightsDict::new(&w).unwrap();
        let layout = ModelDirLayout::new("m", &dict);
        assert_eq!(layout.relative_paths(), ["model.mil"]);
        assert_eq!(layout.directories(), ["weights"]);

        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("abc123");
        layout.write_into(&dir).unwrap();
        assert!(dir.join("weights").is_dir());
        assert_eq!(std::fs::read(dir.join("model.mil")).unwrap(), b"m");
    }

    #[test]
    fn write_into_puts_every_byte_in_place() {
        let w = weights(&[
            ("@model_path/weights/a.bin", &[1, 2, 3]),
            ("@model_path/top.bin", &[9]),
            ("@model_path/weights/x/y/z.bin", &[4; 70]),
        ]);
        let dict = WeightsDict::new(&w).unwrap();
        let layout = ModelDirLayout::new("text", &dict);
        let tmp = tempfile::tempdir().unwrap();
        layout.write_into(tmp.path()).unwrap();
        assert_eq!(
            std::fs::read(tmp.path().join("weights/a.bin")).unwrap(),
            [1, 2, 3]
        );
        assert_eq!(std::fs::read(tmp.path().join("top.bin")).unwrap(), [9]);
        assert_eq!(
            std::fs::read(tmp.path().join("weights/x/y/z.bin")).unwrap(),
            [4; 70]
        );
    }

    #[test]
    fn identifiers_must_be_plain_names() {
        let root = Path::new("/tmp/x");
        assert_eq!(
            model_dir_for(root, "A1B2c3").unwrap(),
            Path::new("/tmp/x/A1B2c3")
        );
        for bad in ["", ".", "..", "a/b", "../up", "a b", "x\0"] {
            assert!(model_dir_for(root, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn removing_a_missing_dir_is_fine() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("gone");
        remove_model_dir(&dir).unwrap();
        std::fs::create_dir_all(dir.join("weights")).unwrap();
        remove_model_dir(&dir).unwrap();
        assert!(!dir.exists());
    }
}
