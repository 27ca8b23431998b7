//! An optional on-disk cache of compiler output, to skip compiling a program seen before.
//!
//! UNVERIFIED ON HARDWARE. The idea is PR #22's (ane-facts §4 step 4): after a successful
//! `compileWithQoS:`, copy the compiler's output (`net.plist`, plus `data` for programs with
//! BLOBFILE weights) out of the model directory; next time the same program is seen, copy them
//! back into the freshly populated model directory and call `loadWithQoS:` without compiling
//! (PR #22 reports ~700 ms instead of ~3800 ms for 74 kernels). Whether the framework really
//! accepts the restored files on every chip and OS is not known here, so the device treats a
//! failing load after a restore as a cache miss: it deletes the entry and compiles.
//!
//! Bookkeeping (all platform-independent):
//! - entry directory: `<root>/<sha256(format, program key, platform)>/`, where the program key
//!   covers MIL text and weights ([`ProgramKey`]) and the platform string names the chip and the
//!   OS build — compiled output is only reused on the machine type and OS that produced it.
//!   (PR #22 keys by `hexStringIdentifier` alone, whose inputs are unknown.)
//! - contents: `manifest.txt` plus copies of the files in [`CACHED_FILES`];
//! - the manifest records the format, the full program key, the platform, the framework's model
//!   identifier, the MIL dialect the program was compiled in, and each file's size; an entry
//!   whose manifest does not match, whose identifier differs from the current model's, or whose
//!   files are missing or resized is a miss.
//! - beside the entries, one small record per platform (`dialect-<sha256(platform)>.txt`) names
//!   the dialect a compile fell back to on that chip and OS build, so a later process starts in
//!   the dialect that worked instead of spending a failing compile to find it again
//!   ([`DiskCache::remember_dialect`], [`DiskCache::remembered_dialect`]).
//! - entries are written to a temporary sibling and renamed into place, so a crash never leaves a
//!   half-written entry that looks valid.

use super::dialect_choice::name as dialect_name;
use super::program_key::{sha256_hex, ProgramKey};
use crate::chip::parse_dialect;
use ane_mil::Dialect;
use std::io;
use std::path::{Path, PathBuf};

/// First line of every manifest; bump it when the layout changes.
pub const CACHE_FORMAT: &str = "ane-trainer compiled-kernel cache v2";
/// First line of every per-platform dialect record.
pub const DIALECT_RECORD_FORMAT: &str = "ane-trainer dialect record v1";
/// The manifest's file name inside an entry.
pub const MANIFEST_NAME: &str = "manifest.txt";

/// A compiler output file the cache keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedFile {
    /// Name inside the model directory.
    pub name: &'static str,
    /// Whether a compile always produces it (`net.plist`) or only sometimes (`data`, for programs
    /// with BLOBFILE weights, per PR #22).
    pub required: bool,
}

/// What the cache copies out of a compiled model directory.
pub const CACHED_FILES: [CachedFile; 2] = [
    CachedFile {
        name: "net.plist",
        required: true,
    },
    CachedFile {
        name: "data",
        required: false,
    },
];

/// The parsed manifest of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub program_key: String,
    pub platform: String,
    /// The framework's `hexStringIdentifier` when the entry was saved.
    pub identifier: String,
    /// The MIL dialect of the compiled text (`None` when its header names neither).
    pub dialect: Option<Dialect>,
    /// `(name, size in bytes)` of each saved file.
    pub files: Vec<(String, u64)>,
}

impl Manifest {
    /// The manifest text.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{CACHE_FORMAT}\nprogram_key {}\nplatform {}\nidentifier {}\ndialect {}\n",
            self.program_key,
            one_line(&self.platform),
            self.identifier,
            self.dialect.map_or("unknown", dialect_name)
        );
        for (name, size) in &self.files {
            s.push_str(&format!("file {name} {size}\n"));
        }
        s
    }

    /// Parses manifest text; `None` for anything malformed or of another format.
    pub fn parse(text: &str) -> Option<Manifest> {
        let mut lines = text.lines();
        if lines.next()? != CACHE_FORMAT {
            return None;
        }
        let mut field = |name: &str| {
            lines
                .next()?
                .strip_prefix(name)?
                .strip_prefix(' ')
                .map(str::to_string)
        };
        let program_key = field("program_key")?;
        let platform = field("platform")?;
        let identifier = field("identifier")?;
        let dialect = match field("dialect")?.as_str() {
            "unknown" => None,
            other => Some(parse_dialect(other).ok()?),
        };
        let mut files = Vec::new();
        for line in lines {
            let mut parts = line.strip_prefix("file ")?.split(' ');
            let name = parts.next()?;
            let size = parts.next()?.parse().ok()?;
            if parts.next().is_some() || !CACHED_FILES.iter().any(|f| f.name == name) {
                return None;
            }
            files.push((name.to_string(), size));
        }
        let has_required = CACHED_FILES
            .iter()
            .filter(|f| f.required)
            .all(|f| files.iter().any(|(n, _)| n == f.name));
        has_required.then_some(Manifest {
            program_key,
            platform,
            identifier,
            dialect,
            files,
        })
    }
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A valid entry found by [`DiskCache::lookup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

/// Outcome of [`DiskCache::save`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    /// The entry was written at this directory.
    Saved(PathBuf),
    /// The model directory holds no `net.plist`: nothing worth caching.
    NothingToSave,
}

/// The cache rooted at one directory.
#[derive(Debug, Clone)]
pub struct DiskCache {
    root: PathBuf,
}

impl DiskCache {
    /// A cache in `root` (created on first save).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DiskCache { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the entry for `key` on `platform` lives.
    pub fn entry_dir(&self, key: &ProgramKey, platform: &str) -> PathBuf {
        let name = sha256_hex(&[
            CACHE_FORMAT.as_bytes(),
            key.hex().as_bytes(),
            one_line(platform).as_bytes(),
        ]);
        self.root.join(name)
    }

    /// The entry for `key` on `platform`, if one is present and intact.
    pub fn lookup(&self, key: &ProgramKey, platform: &str) -> Option<CacheEntry> {
        let dir = self.entry_dir(key, platform);
        let manifest = Manifest::parse(&std::fs::read_to_string(dir.join(MANIFEST_NAME)).ok()?)?;
        if manifest.program_key != key.hex() || manifest.platform != one_line(platform) {
            return None;
        }
        let intact = manifest.files.iter().all(|(name, size)| {
            std::fs::metadata(dir.join(name)).is_ok_and(|m| m.is_file() && m.len() == *size)
        });
        intact.then_some(CacheEntry { dir, manifest })
    }

    /// Copies an entry's files into `model_dir` for a model whose identifier is `identifier`.
    /// Returns the names restored; an identifier mismatch or an I/O failure is an error (and the
    /// caller compiles instead).
    pub fn restore(
        &self,
        entry: &CacheEntry,
        identifier: &str,
        model_dir: &Path,
    ) -> Result<Vec<String>, String> {
        if entry.manifest.identifier != identifier {
            return Err(format!(
                "cached output was compiled for model identifier {}, this model is {identifier}",
                entry.manifest.identifier
            ));
        }
        let mut restored = Vec::new();
        for (name, _) in &entry.manifest.files {
            if let Err(e) = std::fs::copy(entry.dir.join(name), model_dir.join(name)) {
                // Leave no half-restored output behind for the compiler to trip over.
                remove_restored(model_dir, &restored);
                return Err(format!("restoring cached {name}: {e}"));
            }
            restored.push(name.clone());
        }
        Ok(restored)
    }

    /// Saves the compiler output found in `model_dir` as the entry for `key` on `platform`,
    /// recording the dialect the program was written in.
    pub fn save(
        &self,
        key: &ProgramKey,
        platform: &str,
        identifier: &str,
        dialect: Option<Dialect>,
        model_dir: &Path,
    ) -> io::Result<SaveOutcome> {
        let present: Vec<(&str, u64)> = CACHED_FILES
            .iter()
            .filter_map(|f| {
                let m = std::fs::metadata(model_dir.join(f.name)).ok()?;
                m.is_file().then_some((f.name, m.len()))
            })
            .collect();
        let complete = CACHED_FILES
            .iter()
            .filter(|f| f.required)
            .all(|f| present.iter().any(|(n, _)| *n == f.name));
        if !complete {
            return Ok(SaveOutcome::NothingToSave);
        }
        std::fs::create_dir_all(&self.root)?;
        let final_dir = self.entry_dir(key, platform);
        let staging = self.root.join(format!(
            ".staging-{}-{}",
            std::process::id(),
            final_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging)?;
        let result = (|| {
            for (name, _) in &present {
                std::fs::copy(model_dir.join(name), staging.join(name))?;
            }
            let manifest = Manifest {
                program_key: key.hex(),
                platform: one_line(platform),
                identifier: identifier.to_string(),
                dialect,
                files: present.iter().map(|(n, s)| (n.to_string(), *s)).collect(),
            };
            std::fs::write(staging.join(MANIFEST_NAME), manifest.to_text())?;
            if final_dir.exists() {
                std::fs::remove_dir_all(&final_dir)?;
            }
            std::fs::rename(&staging, &final_dir)
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        result.map(|()| SaveOutcome::Saved(final_dir))
    }

    /// Where the dialect record of `platform` lives.
    pub fn dialect_record_path(&self, platform: &str) -> PathBuf {
        let name = sha256_hex(&[
            DIALECT_RECORD_FORMAT.as_bytes(),
            one_line(platform).as_bytes(),
        ]);
        self.root.join(format!("dialect-{}.txt", &name[..32]))
    }

    /// Records that on `platform` programs compile in `dialect` (after the other one failed).
    /// Written to a temporary file and renamed, so a reader never sees half a record.
    pub fn remember_dialect(&self, platform: &str, dialect: Dialect) -> io::Result<()> {
        std::fs::create_dir_all(&self.root)?;
        let path = self.dialect_record_path(platform);
        let staging = path.with_extension(format!("tmp-{}", std::process::id()));
        let text = format!(
            "{DIALECT_RECORD_FORMAT}\nplatform {}\ndialect {}\n",
            one_line(platform),
            dialect_name(dialect)
        );
        std::fs::write(&staging, text)?;
        std::fs::rename(&staging, &path).inspect_err(|_| {
            let _ = std::fs::remove_file(&staging);
        })
    }

    /// The dialect recorded for `platform`, if a readable record for exactly that platform
    /// exists; anything malformed reads as no record.
    pub fn remembered_dialect(&self, platform: &str) -> Option<Dialect> {
        let text = std::fs::read_to_string(self.dialect_record_path(platform)).ok()?;
        let mut lines = text.lines();
        if lines.next()? != DIALECT_RECORD_FORMAT {
            return None;
        }
        if lines.next()?.strip_prefix("platform ")? != one_line(platform) {
            return None;
        }
        let dialect = parse_dialect(lines.next()?.strip_prefix("dialect ")?).ok()?;
        lines.next().is_none().then_some(dialect)
    }

    /// Deletes the entry for `key` on `platform` (after a restored load failed).
    pub fn invalidate(&self, key: &ProgramKey, platform: &str) -> io::Result<()> {
        match std::fs::remove_dir_all(self.entry_dir(key, platform)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

/// Removes restored compiler output from a model directory (best effort).
pub fn remove_restored(model_dir: &Path, names: &[String]) {
    for name in names {
        let _ = std::fs::remove_file(model_dir.join(name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ane_mil::WeightFiles;

    const PLATFORM: &str = "Apple M4 Pro | macOS 25D125";

    fn key(text: &str) -> ProgramKey {
        ProgramKey::of(text, &WeightFiles::new())
    }

    fn compiled_dir(with_data: bool) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("model.mil"), "program").unwrap();
        std::fs::write(d.path().join("net.plist"), "PLIST").unwrap();
        if with_data {
            std::fs::write(d.path().join("data"), vec![5u8; 300]).unwrap();
        }
        d
    }

    #[test]
    fn save_then_lookup_then_restore_round_trips() {
        let root = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(root.path().join("cache"));
        let src = compiled_dir(true);
        let k = key("a");
        let saved = cache
            .save(&k, PLATFORM, "HEX1", Some(Dialect::Ios16), src.path())
            .unwrap();
        assert_eq!(saved, SaveOutcome::Saved(cache.entry_dir(&k, PLATFORM)));

        let entry = cache.lookup(&k, PLATFORM).expect("entry");
        assert_eq!(entry.manifest.identifier, "HEX1");
        assert_eq!(entry.manifest.dialect, Some(Dialect::Ios16));
        assert_eq!(
            entry.manifest.files,
            [("net.plist".to_string(), 5), ("data".to_string(), 300)]
        );
        let dst = tempfile::tempdir().unwrap();
        let restored = cache.restore(&entry, "HEX1", dst.path()).unwrap();
        assert_eq!(restored, ["net.plist", "data"]);
        assert_eq!(
            std::fs::read(dst.path().join("net.plist")).unwrap(),
            b"PLIST"
        );
        assert_eq!(std::fs::read(dst.path().join("data")).unwrap(), [5u8; 300]);
        // No staging directories are left behind.
        let names: Vec<_> = std::fs::read_dir(cache.root())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(!names[0].starts_with('.'));
    }

    #[test]
    fn programs_without_data_cache_only_the_plist() {
        let root = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(root.path());
        let k = key("dynamic");
        cache
            .save(&k, PLATFORM, "H", None, compiled_dir(false).path())
            .unwrap();
        let entry = cache.lookup(&k, PLATFORM).unwrap();
        assert_eq!(entry.manifest.files, [("net.plist".to_string(), 5)]);
    }

    #[test]
    fn nothing_is_saved_without_net_plist() {
        let root = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(root.path().join("c"));
        let src = tempfile::tempdir().unwrap();
        std::fs::write(src.path().join("data"), "x").unwrap();
        assert_eq!(
            cache
                .save(&key("a"), PLATFORM, "H", None, src.path())
                .unwrap(),
            SaveOutcome::NothingToSave
        );
        assert!(cache.lookup(&key("a"), PLATFORM).is_none());
    }

    #[test]
    fn other_programs_and_platforms_miss() {
        let root = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(root.path());
        cache
            .save(&key("a"), PLATFORM, "H", None, compiled_dir(true).path())
            .unwrap();
        assert!(cache.lookup(&key("a"), PLATFORM).is_some());
        assert!(cache.lookup(&key("b"), PLATFORM).is_none());
        assert!(cache.lookup(&key("a"), "Apple M1 | macOS 24A335").is_none());
        assert_ne!(
            cache.entry_dir(&key("a"), PLATFORM),
            cache.entry_dir(&key("a"), "other")
        );
    }

    #[test]
    fn damaged_entries_miss() {
        let root = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(root.path());
        let k = key("a");
        cache
            .save(&k, PLATFORM, "H", None, compiled_dir(true).path())
            .unwrap();
        let dir = cache.entry_dir(&k, PLATFORM);

        std::fs::write(dir.join("data"), "truncated").unwrap();
        assert!(cache.lookup(&k, PLATFORM).is_none(), "resized file");

        cache
            .save(&k, PLATFORM, "H", None, compiled_dir(true).path())
            .unwrap();
        std::fs::remove_file(dir.join("net.plist")).unwrap();
        assert!(cache.lookup(&k, PLATFORM).is_none(), "missing file");

        cache
            .save(&k, PLATFORM, "H", None, compiled_dir(true).path())
            .unwrap();
        std::fs::write(dir.join(MANIFEST_NAME), "garbage").unwrap();
        assert!(cache.lookup(&k, PLATFORM).is_none(), "bad manifest");
    }

    #[test]
    fn restore_refuses_another_identifier_and_invalidate_deletes() {
        let root = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(root.path());
        let k = key("a");
        cache
            .save(&k, PLATFORM, "H1", None, compiled_dir(true).path())
            .unwrap();
        let entry = cache.lookup(&k, PLATFORM).unwrap();
        let dst = tempfile::tempdir().unwrap();
        let err = cache.restore(&entry, "H2", dst.path()).unwrap_err();
        assert!(err.contains("H1"), "{err}");
        assert!(!dst.path().join("net.plist").exists());

        cache.invalidate(&k, PLATFORM).unwrap();
        assert!(cache.lookup(&k, PLATFORM).is_none());
        cache.invalidate(&k, PLATFORM).unwrap();
    }

    #[test]
    fn manifests_round_trip_and_reject_malformed_text() {
        let m = Manifest {
            program_key: "ab".into(),
            platform: "Apple M4 | 25D125".into(),
            identifier: "HEX".into(),
            dialect: Some(Dialect::Ios18),
            files: vec![("net.plist".into(), 12), ("data".into(), 0)],
        };
        assert_eq!(Manifest::parse(&m.to_text()), Some(m.clone()));
        let unknown = Manifest {
            dialect: None,
            ..m.clone()
        };
        assert!(unknown.to_text().contains("dialect unknown\n"));
        assert_eq!(Manifest::parse(&unknown.to_text()), Some(unknown));
        let text = m.to_text();
        for bad in [
            text.replace(CACHE_FORMAT, "other format v9"),
            text.replace(CACHE_FORMAT, "ane-trainer compiled-kernel cache v1"),
            text.replace("dialect ios18\n", ""),
            text.replace("dialect ios18", "dialect ios17"),
            text.replace("file net.plist 12\n", ""),
            text.replace("file data 0", "file evil 0"),
            text.replace("file data 0", "file data zero"),
            text.replace("identifier HEX\n", ""),
            String::new(),
        ] {
            assert_eq!(Manifest::parse(&bad), None, "{bad:?}");
        }
        let multi_line = Manifest {
            platform: "a\nb".into(),
            ..m
        };
        assert_eq!(
            Manifest::parse(&multi_line.to_text()).unwrap().platform,
            "a b"
        );
    }

    #[test]
    fn dialect_records_are_per_platform_and_survive_a_new_cache_object() {
        let root = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(root.path().join("c"));
        assert_eq!(cache.remembered_dialect(PLATFORM), None);
        cache.remember_dialect(PLATFORM, Dialect::Ios16).unwrap();
        let later = DiskCache::new(root.path().join("c"));
        assert_eq!(later.remembered_dialect(PLATFORM), Some(Dialect::Ios16));
        assert_eq!(later.remembered_dialect("Apple M1 | macOS 24A335"), None);
        later.remember_dialect(PLATFORM, Dialect::Ios18).unwrap();
        assert_eq!(cache.remembered_dialect(PLATFORM), Some(Dialect::Ios18));
        // Only the record itself is left: no staging files.
        let names: Vec<_> = std::fs::read_dir(cache.root())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].starts_with("dialect-") && names[0].ends_with(".txt"));
    }

    #[test]
    fn malformed_dialect_records_read_as_none() {
        let root = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(root.path());
        let path = cache.dialect_record_path(PLATFORM);
        let good = format!("{DIALECT_RECORD_FORMAT}\nplatform {PLATFORM}\ndialect ios16\n");
        for bad in [
            String::new(),
            "garbage".to_string(),
            good.replace("ios16", "ios17"),
            good.replace(PLATFORM, "Apple M9"),
            good.replace(DIALECT_RECORD_FORMAT, "other v2"),
            format!("{good}extra\n"),
        ] {
            std::fs::write(&path, &bad).unwrap();
            assert_eq!(cache.remembered_dialect(PLATFORM), None, "{bad:?}");
        }
        std::fs::write(&path, &good).unwrap();
        assert_eq!(cache.remembered_dialect(PLATFORM), Some(Dialect::Ios16));
    }
}
