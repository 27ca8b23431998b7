//! Finding and loading a dataset by name: a user's `--data-dir`, the embedded sample, a system
//! package, our download cache, or (only when allowed) a fresh download.
//!
//! Known datasets found in a system directory or the cache are SHA-256 verified against the
//! pins in [`super::catalog`]; a user's data directory is loaded as is (it is their data), with
//! normalization statistics computed from its training split.

use std::path::{Path, PathBuf};

use super::catalog::{DatasetName, KnownDataset, IDX_FILE_NAMES};
use super::dataset::{DataSource, ImageDataset, ImageSplit};
use super::download::{default_cache_dir, download_verified, sha256_hex, DownloadOptions};
use super::embedded;
use super::error::{DataError, Result};
use super::idx::{parse_idx_u8, read_maybe_gzip};
use super::normalize::NormStats;

/// Where to look for data and whether fetching it is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// A directory holding the four IDX files under MNIST's names (each optionally `.gz`).
    /// When set it is the only place looked at, whatever the dataset name.
    pub data_dir: Option<PathBuf>,
    /// Number of classes for data from `data_dir` (labels must be below it). Default 10.
    pub num_classes: usize,
    /// Download a known dataset into the cache when it is found nowhere else.
    pub download: bool,
    /// The cache directory; `None` means [`default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
    /// Where to download from (ending with `/`); `None` means the dataset's environment
    /// override (`ANE_TRAINER_MNIST_URL`, `ANE_TRAINER_FASHION_MNIST_URL`) if set, else its
    /// published URL.
    pub base_url: Option<String>,
    /// System directories to search; `None` means the dataset's defaults (Debian's
    /// `/usr/share/datasets/fashion-mnist` for Fashion-MNIST).
    pub system_dirs: Option<Vec<PathBuf>>,
    /// Download behaviour (timeouts, progress output).
    pub download_options: DownloadOptions,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            data_dir: None,
            num_classes: 10,
            download: false,
            cache_dir: None,
            base_url: None,
            system_dirs: None,
            download_options: DownloadOptions::default(),
        }
    }
}

/// Loads dataset `name` as `options` direct; see the module documentation for the search order.
pub fn load_dataset(name: DatasetName, options: &LoadOptions) -> Result<ImageDataset> {
    if let Some(dir) = &options.data_dir {
        return load_idx_dir(dir, name.as_str(), options.num_classes);
    }
    match KnownDataset::for_name(name) {
        None => embedded::mnist_sample(),
        Some(known) => load_known(&known, options),
    }
}

/// Loads a user's directory of four IDX files (see [`IDX_FILE_NAMES`]; each may be gzipped,
/// and `train-images.idx3-ubyte`-style names are accepted too). Not hash-checked; the
/// normalization statistics are computed from the training images.
pub fn load_idx_dir(dir: &Path, name: &str, num_classes: usize) -> Result<ImageDataset> {
    let paths = find_all(dir).map_err(|missing| DataError::NotFound {
        dataset: format!("{name} data in {}", dir.display()),
        looked: missing
            .iter()
            .map(|m| format!("{}: missing", dir.join(format!("{m}[.gz]")).display()))
            .collect(),
        hint: format!(
            "A data directory must hold these four IDX files (each optionally .gz): {}.",
            IDX_FILE_NAMES.join(", ")
        ),
    })?;
    let [train_images, train_labels, test_images, test_labels] =
        paths.map(|p| Ok::<_, DataError>((read_maybe_gzip(&p)?, p)));
    let train = split_from(train_images?, train_labels?, num_classes)?;
    let test = split_from(test_images?, test_labels?, num_classes)?;
    let stats = NormStats::from_pixels(train.images());
    ImageDataset::new(
        name,
        num_classes,
        train,
        test,
        stats,
        DataSource::UserDir(dir.to_path_buf()),
    )
}

/// A split from the uncompressed contents of an image file and a label file.
fn split_from(
    (images, images_path): (Vec<u8>, PathBuf),
    (labels, labels_path): (Vec<u8>, PathBuf),
    num_classes: usize,
) -> Result<ImageSplit> {
    let images_file = images_path.display().to_string();
    let labels_file = labels_path.display().to_string();
    ImageSplit::from_idx(
        parse_idx_u8(images, &images_file)?,
        &images_file,
        parse_idx_u8(labels, &labels_file)?,
        &labels_file,
        num_classes,
    )
}

/// The path of IDX file `name` in `dir`: `name`, `name.gz`, or MNIST's dotted spelling
/// (`train-images.idx3-ubyte`) with or without `.gz`. A regular file is preferred; failing
/// that, any entry under one of these names (a directory, a FIFO, a dangling or looping
/// symlink) is returned, so that reading it reports what is wrong with it instead of calling the
/// file missing.
pub fn find_idx_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let dotted = name.replacen("-idx", ".idx", 1);
    let candidates: Vec<PathBuf> = [
        name.to_string(),
        format!("{name}.gz"),
        dotted.clone(),
        format!("{dotted}.gz"),
    ]
    .into_iter()
    .map(|candidate| dir.join(candidate))
    .collect();
    let regular = candidates.iter().find(|path| path.is_file());
    regular
        .or_else(|| {
            candidates
                .iter()
                .find(|path| std::fs::symlink_metadata(path).is_ok())
        })
        .cloned()
}

/// All four IDX files of `dir`, or the names of the missing ones.
fn find_all(dir: &Path) -> std::result::Result<[PathBuf; 4], Vec<&'static str>> {
    let found = IDX_FILE_NAMES.map(|name| find_idx_file(dir, name));
    let missing: Vec<&str> = IDX_FILE_NAMES
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(name, _)| *name)
        .collect();
    if missing.is_empty() {
        Ok(found.map(|f| f.expect("checked above")))
    } else {
        Err(missing)
    }
}

/// Reads the four files of a known dataset and verifies each against its pinned hash.
fn load_verified(
    paths: &[PathBuf; 4],
    known: &KnownDataset,
    source: DataSource,
) -> Result<ImageDataset> {
    let mut contents = Vec::with_capacity(4);
    for (path, file) in paths.iter().zip(&known.files) {
        let content = read_maybe_gzip(path)?;
        let actual = sha256_hex(&content);
        if actual != file.sha256 {
            return Err(DataError::ChecksumMismatch {
                file: path.display().to_string(),
                expected: file.sha256.clone(),
                actual,
            });
        }
        contents.push((content, path.clone()));
    }
    let mut contents = contents.into_iter();
    let mut next = || contents.next().expect("four files");
    let train = split_from(next(), next(), known.num_classes)?;
    let test = split_from(next(), next(), known.num_classes)?;
    ImageDataset::new(
        known.name.as_str(),
        known.num_classes,
        train,
        test,
        known.stats.clone(),
        source,
    )
}

/// System directories, then the cache, then (if allowed) a download into the cache.
pub(crate) fn load_known(known: &KnownDataset, options: &LoadOptions) -> Result<ImageDataset> {
    let mut looked = Vec::new();
    let system_dirs: Vec<PathBuf> = match &options.system_dirs {
        Some(dirs) => dirs.clone(),
        None => known.system_dirs.iter().map(PathBuf::from).collect(),
    };
    for dir in &system_dirs {
        match find_all(dir) {
            Ok(paths) => return load_verified(&paths, known, DataSource::System(dir.clone())),
            Err(missing) => looked.push(describe_missing(dir, &missing)),
        }
    }

    let cache = match &options.cache_dir {
        Some(dir) => dir.clone(),
        None => default_cache_dir()?,
    }
    .join(&known.name);
    if let Ok(paths) = find_all(&cache) {
        match load_verified(&paths, known, DataSource::Cache(cache.clone())) {
            Err(DataError::ChecksumMismatch {
                file,
                expected,
                actual,
            }) if !options.download => {
                return Err(DataError::ChecksumMismatch {
                    file: format!(
                    "{file} (corrupt cache entry: delete it, or allow downloading to replace it)"
                ),
                    expected,
                    actual,
                })
            }
            Err(DataError::ChecksumMismatch { file, .. }) => {
                eprintln!("{file} does not match its pinned SHA-256; downloading it again");
                // `file` is the display form of one of `paths`: remove that path.
                if let Some(path) = paths.iter().find(|p| p.display().to_string() == file) {
                    std::fs::remove_file(path).map_err(|e| DataError::io(path, e))?;
                }
            }
            other => return other,
        }
    }

    if !options.download {
        looked.push(match find_all(&cache) {
            Ok(_) => format!("{}: present", cache.display()),
            Err(missing) => describe_missing(&cache, &missing),
        });
        return Err(not_found(known, looked, &cache));
    }
    download_missing(known, options, &cache)?;
    let paths = find_all(&cache).map_err(|missing| DataError::NotFound {
        dataset: known.name.clone(),
        looked: vec![describe_missing(&cache, &missing)],
        hint: "the download finished but files are missing from the cache".into(),
    })?;
    load_verified(&paths, known, DataSource::Cache(cache))
}

/// Downloads every file of `known` not yet in `cache` (as `<name>.gz`).
fn download_missing(known: &KnownDataset, options: &LoadOptions, cache: &Path) -> Result<()> {
    let base = options
        .base_url
        .clone()
        .or_else(|| std::env::var(&known.url_env).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| known.base_url.clone());
    let base = if base.ends_with('/') {
        base
    } else {
        format!("{base}/")
    };
    for file in &known.files {
        if find_idx_file(cache, &file.name).is_some() {
            continue;
        }
        let url = format!("{base}{}.gz", file.name);
        let dest = cache.join(format!("{}.gz", file.name));
        if options.download_options.progress {
            eprintln!("downloading {url} to {}", dest.display());
        }
        download_verified(&url, &dest, &file.sha256, &options.download_options)?;
    }
    Ok(())
}

fn describe_missing(dir: &Path, missing: &[&str]) -> String {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return format!("{}: no such directory", dir.display())
        }
        Err(e) => return format!("{}: {e}", dir.display()),
        Ok(m) if !m.is_dir() => return format!("{}: not a directory", dir.display()),
        Ok(_) => {}
    }
    format!("{}: missing {}", dir.display(), missing.join(", "))
}

fn not_found(known: &KnownDataset, looked: Vec<String>, cache: &Path) -> DataError {
    let mut ways = vec![format!(
        "allow downloading (about 55 MB uncompressed) from {} into {}",
        known.base_url,
        cache.display()
    )];
    if let Some(system) = &known.system_hint {
        ways.push(format!("install it: {system}"));
    }
    ways.push(format!(
        "use --data-dir DIR with a directory holding {} (each optionally .gz)",
        IDX_FILE_NAMES.join(", ")
    ));
    DataError::NotFound {
        dataset: known.name.clone(),
        looked,
        hint: format!("To get it: {}.", ways.join("; or ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx::encode_idx_u8;
    use crate::data::test_server::{Reply, TestServer};
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    /// Four small IDX files: 6 train / 3 test images of 4×5, labels cycling 0..3.
    fn tiny_files() -> [Vec<u8>; 4] {
        let imgs = |n: usize, seed: u8| -> Vec<u8> {
            let data: Vec<u8> = (0..n * 20).map(|i| (i as u8).wrapping_mul(seed)).collect();
            encode_idx_u8(&[n, 4, 5], &data)
        };
        let labels =
            |n: usize| encode_idx_u8(&[n], &(0..n).map(|i| (i % 3) as u8).collect::<Vec<_>>());
        [imgs(6, 3), labels(6), imgs(3, 5), labels(3)]
    }

    fn write_dir(dir: &Path, files: &[Vec<u8>; 4], gz: [bool; 4]) {
        for ((name, bytes), gz) in IDX_FILE_NAMES.iter().zip(files).zip(gz) {
            if gz {
                std::fs::write(dir.join(format!("{name}.gz")), gzip(bytes)).unwrap();
            } else {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
        }
    }

    fn tiny_known(files: &[Vec<u8>; 4], base_url: &str) -> KnownDataset {
        let mut known = KnownDataset::mnist();
        known.name = "tiny".into();
        known.base_url = base_url.into();
        known.url_env = "ANE_TRAINER_TEST_UNUSED_URL".into();
        for (f, bytes) in known.files.iter_mut().zip(files) {
            f.sha256 = sha256_hex(bytes);
        }
        known
    }

    fn quiet(cache: &Path) -> LoadOptions {
        LoadOptions {
            cache_dir: Some(cache.to_path_buf()),
            system_dirs: Some(vec![]),
            download_options: DownloadOptions {
                progress: false,
                ..DownloadOptions::default()
            },
            ..LoadOptions::default()
        }
    }

    #[test]
    fn user_dir_loads_mixed_plain_and_gzip_with_computed_stats() {
        let dir = tempfile::tempdir().unwrap();
        let files = tiny_files();
        write_dir(dir.path(), &files, [true, false, false, true]);
        let ds = load_idx_dir(dir.path(), "mine", 10).unwrap();
        assert_eq!((ds.train().len(), ds.test().len()), (6, 3));
        assert_eq!((ds.height(), ds.width()), (4, 5));
        assert_eq!(
            ds.stats().origin,
            crate::data::StatsOrigin::ComputedFromTrain
        );
        assert_eq!(ds.stats(), &NormStats::from_pixels(ds.train().images()));
        assert_eq!(ds.source(), &DataSource::UserDir(dir.path().to_path_buf()));
        // The same through load_dataset with a data_dir, whatever the name.
        let options = LoadOptions {
            data_dir: Some(dir.path().to_path_buf()),
            ..LoadOptions::default()
        };
        let again = load_dataset(DatasetName::Mnist, &options).unwrap();
        assert_eq!(again.train(), ds.train());
    }

    #[test]
    fn user_dir_accepts_dotted_names() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in IDX_FILE_NAMES.iter().zip(tiny_files()) {
            std::fs::write(dir.path().join(name.replacen("-idx", ".idx", 1)), bytes).unwrap();
        }
        assert_eq!(load_idx_dir(dir.path(), "d", 3).unwrap().test().len(), 3);
    }

    #[test]
    fn user_dir_missing_files_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let files = tiny_files();
        std::fs::write(dir.path().join(IDX_FILE_NAMES[0]), &files[0]).unwrap();
        let err = load_idx_dir(dir.path(), "mine", 10).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataError::NotFound { .. }), "{msg}");
        for name in &IDX_FILE_NAMES[1..] {
            assert!(msg.contains(name), "{msg}");
        }
        assert!(
            !msg.contains(&format!("{}[.gz]: missing", IDX_FILE_NAMES[0])),
            "{msg}"
        );
    }

    #[test]
    fn non_regular_files_are_reported_as_such_not_missing() {
        let files = tiny_files();
        let dir = tempfile::tempdir().unwrap();
        write_dir(dir.path(), &files, [false; 4]);
        // A directory in place of the training images.
        let images = dir.path().join(IDX_FILE_NAMES[0]);
        std::fs::remove_file(&images).unwrap();
        std::fs::create_dir(&images).unwrap();
        let msg = load_idx_dir(dir.path(), "d", 10).unwrap_err().to_string();
        assert_eq!(
            msg,
            format!(
                "{}: is a directory, not a regular file; give the path of a file",
                images.display()
            )
        );
        #[cfg(unix)]
        {
            // A symlink loop: the OS error, once, not "missing".
            std::fs::remove_dir(&images).unwrap();
            std::os::unix::fs::symlink(&images, &images).unwrap();
            let msg = load_idx_dir(dir.path(), "d", 10).unwrap_err().to_string();
            assert!(msg.starts_with(&format!("{}: ", images.display())), "{msg}");
            assert!(!msg.contains("missing"), "{msg}");
            assert_eq!(msg.matches("os error").count(), 1, "{msg}");
        }
        // A file where the directory should be.
        let not_dir = dir.path().join(IDX_FILE_NAMES[1]);
        let msg = load_idx_dir(&not_dir, "d", 10).unwrap_err().to_string();
        assert!(msg.contains("missing"), "{msg}");
        let known = tiny_known(&files, "http://127.0.0.1:9/");
        let options = LoadOptions {
            system_dirs: Some(vec![not_dir.clone()]),
            ..quiet(&dir.path().join("cache"))
        };
        let msg = load_known(&known, &options).unwrap_err().to_string();
        assert!(
            msg.contains(&format!("{}: not a directory", not_dir.display())),
            "{msg}"
        );
    }

    #[test]
    fn user_dir_bad_files_name_the_file() {
        let files = tiny_files();
        // Count mismatch: 5 test labels for 3 test images.
        let dir = tempfile::tempdir().unwrap();
        let mut bad = files.clone();
        bad[3] = encode_idx_u8(&[5], &[0; 5]);
        write_dir(dir.path(), &bad, [false; 4]);
        let err = load_idx_dir(dir.path(), "d", 10).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::CountMismatch {
                    images: 3,
                    labels: 5,
                    ..
                }
            ),
            "{err}"
        );
        // Label out of range for the declared classes.
        let dir = tempfile::tempdir().unwrap();
        write_dir(dir.path(), &files, [false; 4]);
        let err = load_idx_dir(dir.path(), "d", 2).unwrap_err();
        assert!(err.to_string().contains("train-labels-idx1-ubyte"), "{err}");
        // Train and test image sizes differ.
        let dir = tempfile::tempdir().unwrap();
        let mut bad = files.clone();
        bad[2] = encode_idx_u8(&[3, 5, 4], &[0; 60]);
        write_dir(dir.path(), &bad, [false; 4]);
        assert!(load_idx_dir(dir.path(), "d", 10).is_err());
        // Truncated gzip file.
        let dir = tempfile::tempdir().unwrap();
        write_dir(dir.path(), &files, [true; 4]);
        let path = dir.path().join("t10k-images-idx3-ubyte.gz");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        let err = load_idx_dir(dir.path(), "d", 10).unwrap_err();
        assert!(matches!(err, DataError::Gzip { .. }), "{err}");
        assert!(
            err.to_string().contains("t10k-images-idx3-ubyte.gz"),
            "{err}"
        );
    }

    #[test]
    fn nothing_found_without_download_lists_places_and_ways() {
        let cache = tempfile::tempdir().unwrap();
        let options = LoadOptions {
            system_dirs: Some(vec![PathBuf::from("/nonexistent/fashion")]),
            ..quiet(cache.path())
        };
        let err = load_known(&KnownDataset::fashion_mnist(), &options).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataError::NotFound { .. }), "{msg}");
        assert!(
            msg.contains("/nonexistent/fashion: no such directory"),
            "{msg}"
        );
        assert!(
            msg.contains(&cache.path().join("fashion-mnist").display().to_string()),
            "{msg}"
        );
        assert!(
            msg.contains("apt-get install dataset-fashion-mnist"),
            "{msg}"
        );
        assert!(msg.contains("allow downloading"), "{msg}");
    }

    #[test]
    fn download_then_cache_hit_without_a_second_request() {
        let files = tiny_files();
        let routes = IDX_FILE_NAMES
            .iter()
            .zip(&files)
            .map(|(name, bytes)| (format!("/tiny/{name}.gz"), Reply::Ok(gzip(bytes))))
            .collect::<Vec<_>>();
        let server = TestServer::start(
            routes
                .iter()
                .map(|(p, r)| (p.as_str(), r.clone()))
                .collect(),
        );
        let cache = tempfile::tempdir().unwrap();
        let known = tiny_known(&files, "http://unused.invalid/");
        let options = LoadOptions {
            download: true,
            base_url: Some(server.url("tiny")),
            ..quiet(cache.path())
        };
        let ds = load_known(&known, &options).unwrap();
        assert_eq!(server.requests(), 4);
        assert_eq!(ds.source(), &DataSource::Cache(cache.path().join("tiny")));
        assert_eq!(
            ds.stats(),
            &NormStats::mnist(),
            "known datasets keep published stats"
        );
        assert_eq!(ds.train().labels(), &[0, 1, 2, 0, 1, 2]);

        // Second load: served from the cache, hash-checked, no request.
        let again = load_known(&known, &options).unwrap();
        assert_eq!(server.requests(), 4);
        assert_eq!(again, ds);
        // Even with downloading disabled.
        let offline = LoadOptions {
            download: false,
            ..options.clone()
        };
        assert_eq!(load_known(&known, &offline).unwrap(), ds);
        assert_eq!(server.requests(), 4);
    }

    #[test]
    fn corrupt_cache_is_an_error_offline_and_replaced_online() {
        let files = tiny_files();
        let cache = tempfile::tempdir().unwrap();
        let dir = cache.path().join("tiny");
        std::fs::create_dir_all(&dir).unwrap();
        let mut corrupt = files.clone();
        corrupt[1] = encode_idx_u8(&[6], &[2, 2, 2, 2, 2, 2]);
        write_dir(&dir, &corrupt, [true; 4]);
        let known = tiny_known(&files, "http://unused.invalid/");

        let err = load_known(&known, &quiet(cache.path())).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{msg}");
        assert!(msg.contains("train-labels-idx1-ubyte.gz"), "{msg}");
        assert!(msg.contains(&sha256_hex(&files[1])), "{msg}");

        let server = TestServer::start(vec![(
            "/train-labels-idx1-ubyte.gz",
            Reply::Ok(gzip(&files[1])),
        )]);
        let options = LoadOptions {
            download: true,
            base_url: Some(server.base_url()),
            ..quiet(cache.path())
        };
        let ds = load_known(&known, &options).unwrap();
        assert_eq!(server.requests(), 1);
        assert_eq!(ds.train().labels(), &[0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn failed_download_reports_the_url_and_leaves_no_file() {
        let files = tiny_files();
        let server = TestServer::start(vec![(
            "/train-images-idx3-ubyte.gz",
            Reply::Ok(gzip(b"wrong content")),
        )]);
        let cache = tempfile::tempdir().unwrap();
        let known = tiny_known(&files, "http://unused.invalid/");
        let options = LoadOptions {
            download: true,
            base_url: Some(server.base_url().trim_end_matches('/').to_string()),
            ..quiet(cache.path())
        };
        let err = load_known(&known, &options).unwrap_err();
        assert!(matches!(err, DataError::ChecksumMismatch { .. }), "{err}");
        assert!(
            err.to_string()
                .contains(&server.url("train-images-idx3-ubyte.gz")),
            "{err}"
        );
        let left: Vec<_> = std::fs::read_dir(cache.path().join("tiny"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn loads_the_mnist_sample_by_name() {
        let ds = load_dataset(DatasetName::MnistSample, &LoadOptions::default()).unwrap();
        assert_eq!(ds.name(), "mnist-sample");
        assert_eq!(ds.source(), &DataSource::Embedded);
    }

    /// Debian's `dataset-fashion-mnist` (installed in CI): found automatically, hash-verified,
    /// with the published counts, balance and statistics.
    #[test]
    fn loads_debian_fashion_mnist_when_installed() {
        let debian = Path::new("/usr/share/datasets/fashion-mnist");
        if find_all(debian).is_err() {
            eprintln!(
                "skipped: {} not installed (apt-get install dataset-fashion-mnist)",
                debian.display()
            );
            return;
        }
        let cache = tempfile::tempdir().unwrap();
        let options = LoadOptions {
            cache_dir: Some(cache.path().to_path_buf()),
            ..LoadOptions::default()
        };
        let ds = load_dataset(DatasetName::FashionMnist, &options).unwrap();
        assert_eq!(ds.source(), &DataSource::System(debian.to_path_buf()));
        assert_eq!((ds.train().len(), ds.test().len()), (60_000, 10_000));
        assert_eq!((ds.height(), ds.width(), ds.num_classes()), (28, 28, 10));
        assert_eq!(ds.train().class_counts(10), vec![6000; 10]);
        assert_eq!(ds.test().class_counts(10), vec![1000; 10]);
        let computed = NormStats::from_pixels(ds.train().images());
        assert!(
            (computed.mean - ds.stats().mean).abs() < 5e-5,
            "{computed:?}"
        );
        assert!((computed.std - ds.stats().std).abs() < 5e-5, "{computed:?}");
        // The first training image is an ankle boot (class 9) in the published data.
        assert_eq!(ds.train().labels()[0], 9);
    }

    /// Full MNIST from a directory named by `ANE_TRAINER_TEST_MNIST_DIR` (not in CI): checks the
    /// pinned hashes and the published statistics against the real files.
    #[test]
    fn verifies_real_mnist_when_provided() {
        let Some(dir) = std::env::var_os("ANE_TRAINER_TEST_MNIST_DIR") else {
            eprintln!(
                "skipped: set ANE_TRAINER_TEST_MNIST_DIR to a directory with MNIST's IDX files"
            );
            return;
        };
        let dir = PathBuf::from(dir);
        let known = KnownDataset::mnist();
        let paths = find_all(&dir).expect("four MNIST files");
        let ds = load_verified(&paths, &known, DataSource::UserDir(dir)).unwrap();
        assert_eq!((ds.train().len(), ds.test().len()), (60_000, 10_000));
        assert_eq!(&ds.train().labels()[..4], &[5, 0, 4, 1]);
        let computed = NormStats::from_pixels(ds.train().images());
        assert!((computed.mean - 0.1307).abs() < 5e-5, "{computed:?}");
        assert!((computed.std - 0.3081).abs() < 5e-5, "{computed:?}");
    }
}
