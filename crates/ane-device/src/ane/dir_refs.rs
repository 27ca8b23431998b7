//! Reference counts of model directories, keyed by the framework's model identifier.
//!
//! Identical programs get the same `hexStringIdentifier` and so the same
//! `NSTemporaryDirectory()/<hex>/` (ane-facts §4 step 3); the reference trainers delete that
//! directory when the first of them is freed, under the others' feet (ane-facts §9). Here a
//! directory is removed only when the last loaded model using it is released.

use std::collections::HashMap;

/// What releasing one reference left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirRelease {
    /// Other models still use the directory: keep it.
    StillShared(usize),
    /// That was the last user: the directory may be removed.
    Last,
    /// The identifier was not held (a bookkeeping slip; nothing to do).
    NotHeld,
}

/// Live users of each model directory.
#[derive(Debug, Default)]
pub struct DirRefs {
    counts: HashMap<String, usize>,
}

impl DirRefs {
    /// No directories in use.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a user of `identifier`'s directory; returns the new count.
    pub fn acquire(&mut self, identifier: &str) -> usize {
        let n = self.counts.entry(identifier.to_string()).or_insert(0);
        *n += 1;
        *n
    }

    /// Removes a user.
    pub fn release(&mut self, identifier: &str) -> DirRelease {
        match self.counts.get_mut(identifier) {
            None => DirRelease::NotHeld,
            Some(n) if *n > 1 => {
                *n -= 1;
                DirRelease::StillShared(*n)
            }
            Some(_) => {
                self.counts.remove(identifier);
                DirRelease::Last
            }
        }
    }

    /// Whether a live model uses `identifier`'s directory.
    pub fn is_live(&self, identifier: &str) -> bool {
        self.counts.contains_key(identifier)
    }

    /// Users of `identifier`'s directory.
    pub fn count(&self, identifier: &str) -> usize {
        self.counts.get(identifier).copied().unwrap_or(0)
    }

    /// Number of directories in use.
    pub fn live_dirs(&self) -> usize {
        self.counts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_release_frees_the_directory() {
        let mut refs = DirRefs::new();
        assert_eq!(refs.acquire("abc"), 1);
        assert_eq!(refs.acquire("abc"), 2);
        assert_eq!(refs.acquire("def"), 1);
        assert_eq!(refs.live_dirs(), 2);
        assert_eq!(refs.release("abc"), DirRelease::StillShared(1));
        assert!(refs.is_live("abc"));
        assert_eq!(refs.release("abc"), DirRelease::Last);
        assert!(!refs.is_live("abc"));
        assert_eq!(refs.count("abc"), 0);
        assert_eq!(refs.count("def"), 1);
    }

    #[test]
    fn releasing_an_unheld_identifier_is_reported() {
        let mut refs = DirRefs::new();
        assert_eq!(refs.release("x"), DirRelease::NotHeld);
        refs.acquire("x");
        assert_eq!(refs.release("x"), DirRelease::Last);
        assert_eq!(refs.release("x"), DirRelease::NotHeld);
    }
}
