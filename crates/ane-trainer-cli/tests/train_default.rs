//! End to end: `ane-trainer train` with no arguments trains the 784-256-10 MLP on the embedded
//! MNIST sample on the simulator and reaches at least 91% test accuracy; `ane-trainer eval` on
//! its final checkpoint reports exactly the accuracy training ended with.

mod cli_common;
use cli_common::*;

#[test]
fn default_train_reaches_91_percent_and_eval_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = run_in(dir.path(), &["train"]);
    let elapsed = started.elapsed();
    expect_success(&out, "ane-trainer train");
    let text = stdout(&out);
    let accuracy = printed_accuracy(&text);
    println!("default train: {accuracy:.2}% in {elapsed:.1?}\n{text}");
    assert!(accuracy >= 91.0, "test accuracy {accuracy}% < 91%:\n{text}");
    assert!(
        stderr(&out).contains("simulator") || stderr(&out).contains("Neural Engine"),
        "stderr says where kernels run:\n{}",
        stderr(&out)
    );

    let run = dir.path().join("runs/mlp-mnist-sample");
    let metrics = ane_trainer::metrics::read_metrics(&run.join("metrics.jsonl")).unwrap();
    assert_eq!(
        metrics.len(),
        620,
        "one record per update (10 epochs of 62)"
    );
    let last = metrics.last().unwrap();
    assert_eq!(
        last.eval_accuracy.map(|a| (a * 1e4).round() / 1e2),
        Some(accuracy)
    );
    assert!(metrics.iter().all(|r| r.loss.is_some_and(f64::is_finite)));
    assert!(
        metrics.first().unwrap().loss > last.loss,
        "the loss went down"
    );

    let eval = run_in(
        dir.path(),
        &["eval", "--checkpoint", "runs/mlp-mnist-sample"],
    );
    expect_success(&eval, "ane-trainer eval");
    let first_line = |t: &str| t.lines().next().unwrap_or_default().to_string();
    assert_eq!(
        first_line(&stdout(&eval)),
        first_line(&text),
        "eval of the final checkpoint matches the end of training exactly"
    );

    // A second default run does not overwrite the first.
    let again = run_in(dir.path(), &["train", "--steps", "2", "-q"]);
    expect_success(&again, "a second default run");
    assert!(dir
        .path()
        .join("runs/mlp-mnist-sample-2/metrics.jsonl")
        .is_file());
}
