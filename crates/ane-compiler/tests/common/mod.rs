//! Shared helpers for the integration tests: a tiny deterministic RNG, random feeds, and the
//! finite-difference gradient checker.
#![allow(dead_code)]

use ane_compiler::autodiff::{grad_name, training_graph, GradOptions};
use ane_compiler::eval::{evaluate, Feeds, Tensor};
use ane_compiler::{DType, Graph, ValueId};

/// Step of the central difference `(f(x+h) − f(x−h)) / 2h` (f64 evaluation throughout).
pub const FD_STEP: f64 = 1e-5;
/// Absolute tolerance of a gradient element.
pub const ATOL: f64 = 1e-7;
/// Relative tolerance of a gradient element (relative to the larger of analytic and numeric).
pub const RTOL: f64 = 1e-6;

/// SplitMix64: deterministic test data independent of any crate.
pub struct TestRng(u64);

impl TestRng {
    pub fn new(seed: u64) -> Self {
        TestRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn tensor(&mut self, shape: &[usize], lo: f64, hi: f64) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor::new(
            shape.to_vec(),
            (0..n).map(|_| self.uniform(lo, hi)).collect(),
        )
        .unwrap()
    }

    pub fn ids(&mut self, shape: &[usize], limit: usize) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor::new(
            shape.to_vec(),
            (0..n).map(|_| self.below(limit) as f64).collect(),
        )
        .unwrap()
    }
}

/// Feeds for every graph input: `given` where present, otherwise uniform(−1, 1) for f32 inputs.
/// Panics on an i32 input without a given tensor (tests must choose valid ids).
pub fn feeds(graph: &Graph, rng: &mut TestRng, given: &[(&str, Tensor)]) -> Feeds {
    let mut feeds = Feeds::new();
    for input in graph.inputs() {
        let tensor = match given.iter().find(|(n, _)| *n == input.name) {
            Some((_, t)) => t.clone(),
            None => {
                let ty = graph.value_type(input.value).unwrap();
                assert_eq!(
                    ty.dtype,
                    DType::F32,
                    "test must give ids for `{}`",
                    input.name
                );
                rng.tensor(ty.shape.dims(), -1.0, 1.0)
            }
        };
        feeds.insert(input.name.clone(), tensor);
    }
    feeds
}

/// Turns any f32 value into a scalar loss `Σ y·probe` (with a random `probe` input), so every
/// element of `y`'s gradient is exercised with a different weight; marks it as output `loss`.
pub fn probe_loss(g: &mut Graph, y: ValueId) -> ValueId {
    let shape = g.shape(y).unwrap().dims().to_vec();
    let probe = g.input("probe", &shape, DType::F32).unwrap();
    let weighted = g.mul(y, probe).unwrap();
    let loss = g.sum_all(weighted).unwrap();
    g.output("loss", loss).unwrap();
    loss
}

fn loss_of(graph: &Graph, feeds: &Feeds) -> f64 {
    evaluate(graph, feeds).unwrap()["loss"].item().unwrap()
}

/// One element whose analytic and numeric gradients disagree.
#[derive(Debug)]
pub struct Mismatch {
    pub input: String,
    pub index: usize,
    pub analytic: f64,
    pub numeric: f64,
}

/// Compares autodiff gradients with central differences for every parameter and for the named
/// data inputs. Checks at most `max_per_input` elements of each input (evenly spread), all if
/// `None`. Returns the mismatches and the number of elements checked.
pub fn gradient_mismatches(
    forward: &Graph,
    feeds: &Feeds,
    data_inputs: &[&str],
    max_per_input: Option<usize>,
) -> (Vec<Mismatch>, usize) {
    let options = GradOptions {
        wrt_inputs: data_inputs.iter().map(|s| s.to_string()).collect(),
    };
    let train = training_graph(forward, "loss", &options).unwrap();
    let outputs = evaluate(&train, feeds).unwrap();
    // The training graph must compute the same loss as the forward graph.
    let loss = loss_of(forward, feeds);
    assert!((outputs["loss"].item().unwrap() - loss).abs() <= 1e-12 * loss.abs().max(1.0));

    let mut names: Vec<String> = forward.params().map(|p| p.name.clone()).collect();
    names.extend(data_inputs.iter().map(|s| s.to_string()));
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for name in names {
        let analytic = &outputs[&grad_name(&name)];
        let base = &feeds[&name];
        assert_eq!(analytic.shape(), base.shape(), "gradient shape of {name}");
        let n = base.data().len();
        let stride = match max_per_input {
            Some(m) if n > m => n.div_ceil(m),
            _ => 1,
        };
        for index in (0..n).step_by(stride) {
            let mut shifted = feeds.clone();
            let original = base.data()[index];
            shifted.get_mut(&name).unwrap().data_mut()[index] = original + FD_STEP;
            let up = loss_of(forward, &shifted);
            shifted.get_mut(&name).unwrap().data_mut()[index] = original - FD_STEP;
            let down = loss_of(forward, &shifted);
            let numeric = (up - down) / (2.0 * FD_STEP);
            let a = analytic.data()[index];
            checked += 1;
            if (a - numeric).abs() > ATOL + RTOL * a.abs().max(numeric.abs()) {
                mismatches.push(Mismatch {
                    input: name.clone(),
                    index,
                    analytic: a,
                    numeric,
                });
            }
        }
    }
    (mismatches, checked)
}

/// Asserts every checked gradient element matches (see [`gradient_mismatches`]).
pub fn assert_gradients(
    forward: &Graph,
    feeds: &Feeds,
    data_inputs: &[&str],
    max_per_input: Option<usize>,
) {
    let (mismatches, checked) = gradient_mismatches(forward, feeds, data_inputs, max_per_input);
    assert!(checked > 0, "nothing was checked");
    assert!(
        mismatches.is_empty(),
        "{} of {checked} gradient elements disagree with finite differences; first: {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(5)]
    );
}
