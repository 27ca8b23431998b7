//! One run per directory: a run holds `DIR/run.lock` (holding its process id) from its first
//! write to its end, so a second run started into the same directory is refused at once with the
//! first one's PID instead of garbling its metrics and checkpoints. A lock left by a process that
//! no longer exists (a `kill -9`) is taken over; where that cannot be told (no `/proc`), the
//! message says which file to delete.

use super::error::TrainError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock file of a run directory.
pub const LOCK_FILE: &str = "run.lock";

/// A held run-directory lock; dropping it releases the directory.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
}

/// Whether process `pid` is alive: `Some` where the system can tell (Linux's `/proc`).
fn process_alive(pid: u32) -> Option<bool> {
    let proc_root = Path::new("/proc");
    if !proc_root.join("self").exists() {
        return None;
    }
    Some(proc_root.join(pid.to_string()).exists())
}

impl RunLock {
    /// Takes the lock of `dir` (which must exist), or fails naming the process that holds it.
    pub fn acquire(dir: &Path) -> Result<RunLock, TrainError> {
        let path = dir.join(LOCK_FILE);
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    let written =
                        writeln!(file, "{}", std::process::id()).and_then(|_| file.sync_all());
                    if let Err(source) = written {
                        let _ = std::fs::remove_file(&path);
                        return Err(TrainError::Io { path, source });
                    }
                    return Ok(RunLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let holder = text.trim().parse::<u32>().ok();
                    match holder.map(|pid| (pid, process_alive(pid))) {
                        // The holder is gone (killed): take the directory over.
                        Some((_, Some(false))) => {
                            let _ = std::fs::remove_file(&path);
                        }
                        Some((pid, _)) => {
                            return Err(TrainError::Conflict(format!(
                                "{} is in use by another run (process {pid}, see {}); wait for \
                                 it to end or choose another --out{}",
                                dir.display(),
                                path.display(),
                                if process_alive(pid).is_none() {
                                    format!(" (if no run is active, delete {})", path.display())
                                } else {
                                    String::new()
                                }
                            )))
                        }
                        None => {
                            return Err(TrainError::Conflict(format!(
                                "{} is locked by {}, which names no process; if no run is active, \
                                 delete it",
                                dir.display(),
                                path.display()
                            )))
                        }
                    }
                }
                Err(source) => return Err(TrainError::Io { path, source }),
            }
        }
        Err(TrainError::Conflict(format!(
            "{} changed hands while taking its lock; try again",
            dir.display()
        )))
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_with_the_holders_pid_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let lock = RunLock::acquire(dir.path()).unwrap();
        let err = RunLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        assert!(err.contains("in use by another run"), "{err}");
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
        let _again = RunLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn a_lock_of_a_dead_process_is_taken_over() {
        if process_alive(1).is_none() {
            return; // no /proc: staleness cannot be told here
        }
        let dir = tempfile::tempdir().unwrap();
        // Process ids are below 2^22 on Linux: this one does not exist.
        std::fs::write(dir.path().join(LOCK_FILE), "4294967\n").unwrap();
        let lock = RunLock::acquire(dir.path()).unwrap();
        let held = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert_eq!(held.trim(), std::process::id().to_string());
        drop(lock);
    }
}
