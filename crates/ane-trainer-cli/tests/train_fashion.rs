//! End to end: the MLP trained for 5 epochs on full Fashion-MNIST reaches at least 87% test
//! accuracy on the simulator. Needs Debian's `dataset-fashion-mnist` (CI installs it); skipped
//! with a notice when `/usr/share/datasets/fashion-mnist` is absent. Never downloads.

mod cli_common;
use cli_common::*;

const SYSTEM_DIR: &str = "/usr/share/datasets/fashion-mnist";

#[test]
fn fashion_mnist_reaches_87_percent_in_5_epochs() {
    if !std::path::Path::new(SYSTEM_DIR).is_dir() {
        println!(
            "skipped: {SYSTEM_DIR} is absent (apt-get install dataset-fashion-mnist to run this test)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = run_in(
        dir.path(),
        &[
            "train",
            "--dataset",
            "fashion-mnist",
            "--download=false",
            "--epochs",
            "5",
            "--schedule",
            "cosine",
            "--out",
            "fashion",
            "--quiet",
        ],
    );
    expect_success(&out, "training on Fashion-MNIST");
    let text = stdout(&out);
    let accuracy = printed_accuracy(&text);
    println!(
        "Fashion-MNIST, 5 epochs: {accuracy:.2}% in {:.1?}\n{text}",
        started.elapsed()
    );
    assert!(accuracy >= 87.0, "test accuracy {accuracy}% < 87%:\n{text}");
    assert!(
        text.contains("(8") || text.contains("(9"),
        "counted over 10,000 test images:\n{text}"
    );
    assert!(text.contains("/10000)"), "{text}");
}
