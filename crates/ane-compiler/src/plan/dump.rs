//! Writing a plan to disk for inspection: `dir/<kernel>/model.mil` and its `weights/*.bin`, and
//! `dir/plan.txt` (the kernel table, the dispatches and the buffers).

use super::Plan;
use ane_mil::WeightFiles;
use std::io;
use std::path::{Component, Path};

impl Plan {
    /// Writes every kernel's `model.mil` (and weight files) under `dir/<kernel-name>/`, and
    /// `dir/plan.txt`. Creates `dir` if needed; overwrites files of the same names.
    pub fn dump(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for kernel in &self.kernels {
            let kdir = dir.join(&kernel.name);
            std::fs::create_dir_all(&kdir)?;
            std::fs::write(kdir.join("model.mil"), ane_mil::print(&kernel.program))?;
            for (path, bytes) in kernel.weights.iter() {
                let relative = Path::new(WeightFiles::relative_path(path));
                // Weight paths come from our own lowering, but never let one escape the directory.
                if relative
                    .components()
                    .any(|c| !matches!(c, Component::Normal(_)))
                {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "kernel {}: weight path {path:?} leaves its directory",
                            kernel.name
                        ),
                    ));
                }
                let target = kdir.join(relative);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(target, bytes)?;
            }
        }
        let text = format!(
            "{}\ndispatches:\n{}\nbuffers:\n{}",
            self.table(),
            self.dispatch_table(),
            self.buffer_table()
        );
        std::fs::write(dir.join("plan.txt"), text)
    }
}
