//! Dumps of programs for bug reports: the MIL text and weight files of a kernel, laid out like the
//! model directory the compiler saw, plus a `report.txt` saying what went wrong and where.
//!
//! Every compile, load or run failure dumps its program and names the dump's `model.mil` in the
//! error, so a user can attach the directory to a bug report. With
//! [`DumpPolicy::EveryProgram`] (what `ANE_TRAINER_DUMP_DIR` selects) every compiled program is
//! dumped, which also helps with kernels that compile but compute wrongly (ane-facts §3, PR #26).

use super::model_dir::{ModelDirLayout, MIL_FILE_NAME};
use super::program_key::ProgramKey;
use std::io;
use std::path::{Path, PathBuf};

/// The name of the note written beside a dumped program.
pub const REPORT_NAME: &str = "report.txt";

/// When programs are dumped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpPolicy {
    /// Only programs that failed to compile, load or run.
    FailuresOnly,
    /// Every compiled program, and failures.
    EveryProgram,
}

/// A dump root and its policy.
#[derive(Debug, Clone)]
pub struct Dumper {
    root: PathBuf,
    policy: DumpPolicy,
}

impl Dumper {
    /// Dumps into `root/<program key>/`.
    pub fn new(root: impl Into<PathBuf>, policy: DumpPolicy) -> Self {
        Dumper {
            root: root.into(),
            policy,
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The policy.
    pub fn policy(&self) -> DumpPolicy {
        self.policy
    }

    /// The directory a program's dump goes to.
    pub fn dir_for(&self, key: &ProgramKey) -> PathBuf {
        self.root.join(key.short())
    }

    /// Writes the program's files and `report` under its dump directory (replacing an older
    /// dump of the same program); returns the path of the dumped `model.mil`.
    pub fn dump_layout(
        &self,
        key: &ProgramKey,
        layout: &ModelDirLayout<'_>,
        report: &str,
    ) -> io::Result<PathBuf> {
        let dir = self.fresh_dir(key)?;
        layout.write_into(&dir)?;
        std::fs::write(dir.join(REPORT_NAME), report_text(key, report))?;
        Ok(dir.join(MIL_FILE_NAME))
    }

    /// Copies `relative_paths` out of a live model directory (used when a loaded kernel fails to
    /// run, when the program text is no longer in memory); returns the dumped `model.mil`.
    pub fn dump_from_model_dir(
        &self,
        key: &ProgramKey,
        model_dir: &Path,
        relative_paths: &[String],
        report: &str,
    ) -> io::Result<PathBuf> {
        let dir = self.fresh_dir(key)?;
        for rel in relative_paths {
            let target = dir.join(rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(model_dir.join(rel), &target)?;
        }
        std::fs::write(dir.join(REPORT_NAME), report_text(key, report))?;
        Ok(dir.join(MIL_FILE_NAME))
    }

    fn fresh_dir(&self, key: &ProgramKey) -> io::Result<PathBuf> {
        let dir = self.dir_for(key);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}

fn report_text(key: &ProgramKey, report: &str) -> String {
    format!(
        "ane-trainer kernel dump\nprogram key: {}\nane-trainer: {}\n\n{report}\n",
        key.hex(),
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ane::weights_dict::WeightsDict;
    use ane_mil::WeightFiles;

    #[test]
    fn dumps_hold_the_model_dir_layout_and_a_report() {
        let root = tempfile::tempdir().unwrap();
        let dumper = Dumper::new(root.path(), DumpPolicy::FailuresOnly);
        let mut w = WeightFiles::new();
        w.insert("@model_path/weights/w.bin", vec![3u8; 96]);
        let dict = WeightsDict::new(&w).unwrap();
        let layout = ModelDirLayout::new("program(1.3)\n", &dict);
        let key = ProgramKey::of("program(1.3)\n", &w);

        let mil = dumper
            .dump_layout(&key, &layout, "compile failed: ANECCompile() FAILED")
            .unwrap();
        assert_eq!(mil, root.path().join(key.short()).join("model.mil"));
        assert_eq!(std::fs::read_to_string(&mil).unwrap(), "program(1.3)\n");
        let dir = mil.parent().unwrap();
        assert_eq!(std::fs::read(dir.join("weights/w.bin")).unwrap(), [3u8; 96]);
        let report = std::fs::read_to_string(dir.join(REPORT_NAME)).unwrap();
        assert!(report.contains("ANECCompile() FAILED"), "{report}");
        assert!(report.contains(&key.hex()), "{report}");
    }

    #[test]
    fn a_second_dump_replaces_the_first() {
        let root = tempfile::tempdir().unwrap();
        let dumper = Dumper::new(root.path(), DumpPolicy::EveryProgram);
        let key = ProgramKey::of("p", &WeightFiles::new());
        let model_dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(model_dir.path().join("weights")).unwrap();
        std::fs::write(model_dir.path().join("model.mil"), "p").unwrap();
        std::fs::write(model_dir.path().join("weights/a.bin"), "A").unwrap();

        let dir = dumper.dir_for(&key);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("stale.txt"), "old").unwrap();
        let mil = dumper
            .dump_from_model_dir(
                &key,
                model_dir.path(),
                &["model.mil".into(), "weights/a.bin".into()],
                "run failed",
            )
            .unwrap();
        assert_eq!(std::fs::read_to_string(mil).unwrap(), "p");
        assert_eq!(
            std::fs::read_to_string(dir.join("weights/a.bin")).unwrap(),
            "A"
        );
        assert!(!dir.join("stale.txt").exists());
    }

    #[test]
    fn dumping_from_a_vanished_model_dir_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        let dumper = Dumper::new(root.path(), DumpPolicy::FailuresOnly);
        let key = ProgramKey::of("p", &WeightFiles::new());
        let err = dumper
            .dump_from_model_dir(&key, &root.path().join("nope"), &["model.mil".into()], "x")
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
